// Whether a series can be shown as a volume (MPR and 3D). Cornerstone stacks slices at
// one spacing along one normal: a series with gaps, uneven spacing or mixed geometry
// would be drawn distorted without a word, so it stays in the stack view and the user
// is told why.
import type { GeometryWarningCode, SeriesSummary } from '../../../electron/common/dicom-model.ts';

/** Warnings that make a regular voxel grid a lie; 'oblique' only informs. */
const BLOCKING: ReadonlySet<GeometryWarningCode> = new Set([
  'missing-slices',
  'uneven-spacing',
  'duplicate-position',
  'mixed-orientation',
  'mixed-size',
  'no-position',
]);

export const MIN_VOLUME_SLICES = 3;

export type VolumeEligibility = { ok: true } | { ok: false; reason: string };

export function volumeEligibility(series: SeriesSummary): VolumeEligibility {
  if (series.kind !== 'image') return { ok: false, reason: `a ${series.kind} object holds no image slices` };
  if (series.sliceCount < MIN_VOLUME_SLICES) return { ok: false, reason: `it has ${series.sliceCount} slice(s); a volume needs at least ${MIN_VOLUME_SLICES}` };
  const geometry = series.geometry;
  if (!geometry || !geometry.orientation || !geometry.pixelSpacing || geometry.sliceSpacing === null) {
    return { ok: false, reason: 'its slices carry no position, orientation or pixel spacing' };
  }
  if (!(geometry.sliceSpacing > 0)) return { ok: false, reason: 'its slices share one position' };
  const blocking = geometry.warnings.filter((warning) => BLOCKING.has(warning.code));
  if (blocking.length > 0) return { ok: false, reason: blocking.map((warning) => warning.message).join('; ') };
  return { ok: true };
}
