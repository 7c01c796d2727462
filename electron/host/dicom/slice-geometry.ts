// Orders the slices of one (sub-)series and checks their spacing. Slice order is
// ascending position along the normal n = row × column direction; Instance Number
// (then frame number) is the fallback when positions or the orientation are missing.
import type { GeometryWarning, SeriesGeometry, Vec3 } from '../../common/dicom-model.ts';
import type { Orientation, PixelSpacing } from './instance-record.ts';
import { dot, normalOf } from './vector-math.ts';

export interface SliceInput {
  path: string;
  instanceNumber: number | null;
  /** 1-based frame number for multi-frame instances, else null. */
  frame: number | null;
  position: Vec3 | null;
  orientation: Orientation | null;
  pixelSpacing: PixelSpacing | null;
}

/** Slices closer than this along the normal (mm) share a position. */
export const DUPLICATE_POSITION_MM = 0.01;
/** A gap wider than this many median spacings means slices are missing. */
export const MISSING_SLICE_FACTOR = 1.5;
/** Gaps deviating more than this fraction from the median spacing are uneven. */
export const UNEVEN_SPACING_FRACTION = 0.1;
/** Planes tilted more than this from every patient axis are oblique. */
export const OBLIQUE_DEGREES = 1;

export function orderSlices<T extends SliceInput>(
  slices: readonly T[],
  frame: { rows: number; columns: number; frameOfReferenceUid: string | null },
): { ordered: T[]; geometry: SeriesGeometry } {
  const orientation = slices.find((s) => s.orientation)?.orientation ?? null;
  const normal = orientation ? normalOf(orientation) : null;
  const warnings: GeometryWarning[] = [];
  const byInstanceNumber = (a: T, b: T) =>
    (a.instanceNumber ?? Number.MAX_SAFE_INTEGER) - (b.instanceNumber ?? Number.MAX_SAFE_INTEGER) ||
    (a.frame ?? 0) - (b.frame ?? 0) ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

  let ordered: T[];
  let sliceSpacing: number | null = null;
  const positioned = normal !== null && slices.every((s) => s.position !== null);
  if (positioned) {
    const along = new Map<T, number>(slices.map((s) => [s, dot(s.position!, normal)]));
    ordered = [...slices].sort((a, b) => along.get(a)! - along.get(b)! || byInstanceNumber(a, b));
    sliceSpacing = checkSpacing(ordered.map((s) => along.get(s)!), warnings);
  } else {
    ordered = [...slices].sort(byInstanceNumber);
    if (slices.length > 1) warnings.push(noPositionWarning(slices, normal === null));
  }
  if (orientation) {
    const tilt = obliqueDegrees(orientation);
    if (tilt > OBLIQUE_DEGREES) {
      warnings.push({ code: 'oblique', message: `The image plane is oblique: tilted ${tilt.toFixed(1)}° from the nearest patient axis.` });
    }
  }
  return {
    ordered,
    geometry: {
      rows: frame.rows,
      columns: frame.columns,
      pixelSpacing: slices.find((s) => s.pixelSpacing)?.pixelSpacing ?? null,
      orientation,
      normal,
      sliceSpacing,
      frameOfReferenceUid: frame.frameOfReferenceUid,
      warnings,
    },
  };
}

function noPositionWarning(slices: readonly SliceInput[], noOrientation: boolean): GeometryWarning {
  const without = slices.filter((s) => s.position === null).length;
  const why = noOrientation
    ? 'Image Orientation (Patient) is missing'
    : `${without} of ${slices.length} slices have no Image Position (Patient)`;
  return { code: 'no-position', message: `${why}; slices are ordered by Instance Number instead of position.` };
}

/** Returns the median spacing (mm) and adds gap, unevenness and duplicate warnings. */
function checkSpacing(distances: number[], warnings: GeometryWarning[]): number | null {
  if (distances.length < 2) return null;
  const gaps = distances.slice(1).map((d, i) => d - distances[i]!);
  const duplicates = gaps.filter((g) => g < DUPLICATE_POSITION_MM).length;
  if (duplicates > 0) {
    const at = distances[gaps.findIndex((g) => g < DUPLICATE_POSITION_MM)]!;
    warnings.push({
      code: 'duplicate-position',
      message: `${duplicates} slice(s) share a position with a neighbour (first at ${at.toFixed(2)} mm along the normal).`,
    });
  }
  const real = gaps.filter((g) => g >= DUPLICATE_POSITION_MM);
  if (real.length === 0) return null;
  const median = medianOf(real);

  const missing: string[] = [];
  let unevenMin = Infinity;
  let unevenMax = -Infinity;
  gaps.forEach((gap, i) => {
    if (gap < DUPLICATE_POSITION_MM) return;
    if (gap > MISSING_SLICE_FACTOR * median) {
      missing.push(`${gap.toFixed(2)} mm between slices ${i} and ${i + 1} (about ${Math.round(gap / median) - 1} missing)`);
    } else if (Math.abs(gap - median) > UNEVEN_SPACING_FRACTION * median) {
      unevenMin = Math.min(unevenMin, gap);
      unevenMax = Math.max(unevenMax, gap);
    }
  });
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).join('; ');
    const more = missing.length > 3 ? `; and ${missing.length - 3} more` : '';
    warnings.push({ code: 'missing-slices', message: `Gap larger than ${MISSING_SLICE_FACTOR}× the usual ${median.toFixed(2)} mm spacing: ${shown}${more}.` });
  }
  if (unevenMin !== Infinity) {
    const range = unevenMin === unevenMax ? `${unevenMin.toFixed(2)} mm` : `${unevenMin.toFixed(2)} to ${unevenMax.toFixed(2)} mm`;
    warnings.push({ code: 'uneven-spacing', message: `Slice spacing varies: gaps of ${range} against a median of ${median.toFixed(2)} mm.` });
  }
  return median;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The largest angle (degrees) between the row, column or normal direction and its nearest patient axis. */
function obliqueDegrees(orientation: Orientation): number {
  const normal = normalOf(orientation);
  const axes: number[][] = [orientation.slice(0, 3), orientation.slice(3, 6)];
  if (normal) axes.push(normal);
  let worst = 0;
  for (const axis of axes) {
    const length = Math.hypot(axis[0]!, axis[1]!, axis[2]!);
    if (!(length > 0)) continue;
    const largest = Math.max(Math.abs(axis[0]!), Math.abs(axis[1]!), Math.abs(axis[2]!)) / length;
    worst = Math.max(worst, (Math.acos(Math.min(1, largest)) * 180) / Math.PI);
  }
  return worst;
}
