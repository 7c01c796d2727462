// Where each frame of a multi-frame object lies: from the enhanced functional groups
// (per-frame values override shared ones) or from an RTDOSE GridFrameOffsetVector.
import type { DataSet } from 'dicom-parser';
import type { Vec3 } from '../../common/dicom-model.ts';
import type { FrameGeometry, Orientation, PixelSpacing } from './instance-record.ts';
import { firstItem, readDecimal, readDecimalList, readDecimals } from './dataset-values.ts';
import { cross, normalize } from './vector-math.ts';

const SHARED_FUNCTIONAL_GROUPS = 'x52009229';
const PER_FRAME_FUNCTIONAL_GROUPS = 'x52009230';
const PLANE_POSITION = 'x00209113';
const PLANE_ORIENTATION = 'x00209116';
const PIXEL_MEASURES = 'x00289110';
const IMAGE_POSITION = 'x00200032';
const IMAGE_ORIENTATION = 'x00200037';
const PIXEL_SPACING = 'x00280030';
const SLICE_THICKNESS = 'x00180050';
const GRID_FRAME_OFFSET_VECTOR = 'x3004000c';

export function functionalGroupFrames(dataSet: DataSet, frameCount: number): FrameGeometry[] | null {
  const perFrameItems = dataSet.elements[PER_FRAME_FUNCTIONAL_GROUPS]?.items;
  const shared = firstItem(dataSet, SHARED_FUNCTIONAL_GROUPS);
  if (!perFrameItems && !shared) return null;
  const frames: FrameGeometry[] = [];
  for (let index = 0; index < frameCount; index++) {
    const own = perFrameItems?.[index]?.dataSet;
    const pick = (macro: string, tag: string, count: number) =>
      readDecimals(firstItem(own, macro), tag, count) ?? readDecimals(firstItem(shared, macro), tag, count);
    frames.push({
      position: pick(PLANE_POSITION, IMAGE_POSITION, 3) as Vec3 | null,
      orientation: pick(PLANE_ORIENTATION, IMAGE_ORIENTATION, 6) as Orientation | null,
      pixelSpacing: pick(PIXEL_MEASURES, PIXEL_SPACING, 2) as PixelSpacing | null,
      sliceThickness: readDecimal(firstItem(own, PIXEL_MEASURES), SLICE_THICKNESS) ?? readDecimal(firstItem(shared, PIXEL_MEASURES), SLICE_THICKNESS),
    });
  }
  return frames;
}

/**
 * RTDOSE frames lie along the normal at GridFrameOffsetVector offsets. The vector is either
 * relative to the first frame (starts at 0) or absolute z for axial grids (starts at IPP z);
 * offset − first offset covers both.
 */
export function doseGridFrames(
  dataSet: DataSet,
  frameCount: number,
  position: Vec3 | null,
  orientation: Orientation | null,
  pixelSpacing: PixelSpacing | null,
  sliceThickness: number | null,
): FrameGeometry[] | null {
  const offsets = readDecimalList(dataSet, GRID_FRAME_OFFSET_VECTOR);
  if (!offsets || offsets.length < frameCount || !position || !orientation) return null;
  const normal = normalize(cross([orientation[0], orientation[1], orientation[2]], [orientation[3], orientation[4], orientation[5]]));
  if (!normal) return null;
  const first = offsets[0] ?? 0;
  return offsets.slice(0, frameCount).map((offset) => {
    const d = offset - first;
    return {
      position: [position[0] + d * normal[0], position[1] + d * normal[1], position[2] + d * normal[2]] as Vec3,
      orientation,
      pixelSpacing,
      sliceThickness,
    };
  });
}
