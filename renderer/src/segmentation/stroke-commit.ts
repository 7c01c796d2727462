// What a stroke in the planes did to the labelmap images, turned into a change of the
// document: only the slices the stroke wrote into are compared, each within the pixels
// it wrote (a sagittal stroke touches a narrow band of many slices, a scissors disc one
// column of a few), so a mouse-up costs what the stroke touched, not the whole series.
// The editor's rules decide which changes stand. Pure TypeScript (no DOM, no Cornerstone):
// plane-editing.ts finds the touched slices, this decides, and host tests check the rules.
import type { SliceRange, Target } from './effect-grid.ts';
import type { LabelmapDims, SegmentationModel } from './segmentation-model.ts';

/** Pixels of one slice, columns and rows inclusive. */
export type PixelBox = { firstColumn: number; lastColumn: number; firstRow: number; lastRow: number };

/** A slice (series order) whose labelmap image the stroke wrote into, and where; a null box: anywhere on it. */
export type TouchedSlice = { slice: number; box: PixelBox | null };

/** The segment the stroke edits (null: none can be edited, so nothing stands) and whether it erases. */
export type StrokeRule = { target: Target | null; erasing: boolean };

export type StrokeOutcome = {
  /** Voxels copied into the document. */
  accepted: number;
  /** Voxels the stroke changed that the rules refuse: the images must be given the document's back. */
  rejected: number;
  /** Voxels compared (what the commit cost). */
  compared: number;
};

/**
 * Whether the stroke may change a voxel from `was` to `now`: erasing clears the active
 * segment only; painting writes the active segment over anything but a locked segment.
 */
export function isAllowedChange(was: number, now: number, rule: StrokeRule): boolean {
  const target = rule.target;
  if (target === null) return false;
  return rule.erasing ? now === 0 && was === target.segment : now === target.segment && !target.locked.has(was);
}

/** The slices from the first to the last touched one, or null when the stroke wrote nothing. */
export function touchedSpan(touched: readonly TouchedSlice[]): SliceRange | null {
  if (touched.length === 0) return null;
  let firstSlice = Infinity;
  let lastSlice = -Infinity;
  for (const { slice } of touched) {
    firstSlice = Math.min(firstSlice, slice);
    lastSlice = Math.max(lastSlice, slice);
  }
  return { firstSlice, lastSlice };
}

/** Every slice, anywhere on it: what to compare when the stroke's reach is unknown. */
export function everySlice(dims: LabelmapDims): TouchedSlice[] {
  return Array.from({ length: dims.slices }, (_, slice) => ({ slice, box: null }));
}

/**
 * Copies into `labelmap` (the document's voxels) the changes of the touched slices'
 * images (`painted(slice)`: columns × rows, as the labelmap) that the rules allow, and
 * counts those they refuse. Pixels outside a slice's box are not looked at.
 */
export function copyStroke(
  labelmap: Uint8Array,
  dims: LabelmapDims,
  touched: readonly TouchedSlice[],
  painted: (slice: number) => ArrayLike<number> | null,
  rule: StrokeRule,
): StrokeOutcome {
  const { columns, rows, slices } = dims;
  const outcome: StrokeOutcome = { accepted: 0, rejected: 0, compared: 0 };
  for (const { slice, box } of touched) {
    if (!Number.isInteger(slice) || slice < 0 || slice >= slices) continue;
    const image = painted(slice);
    if (!image) continue;
    const firstColumn = Math.max(0, box?.firstColumn ?? 0);
    const lastColumn = Math.min(columns - 1, box?.lastColumn ?? columns - 1);
    const firstRow = Math.max(0, box?.firstRow ?? 0);
    const lastRow = Math.min(rows - 1, box?.lastRow ?? rows - 1);
    const offset = slice * columns * rows;
    for (let row = firstRow; row <= lastRow; row++) {
      for (let column = firstColumn; column <= lastColumn; column++) {
        const i = row * columns + column;
        outcome.compared++;
        const now = image[i]!;
        const was = labelmap[offset + i]!;
        if (now === was) continue;
        if (isAllowedChange(was, now, rule)) {
          labelmap[offset + i] = now;
          outcome.accepted++;
        } else {
          outcome.rejected++;
        }
      }
    }
  }
  return outcome;
}

/** What a stroke's commit did: voxels changed in the document, and the slices it compared (null: none). */
export type StrokeCommit = StrokeOutcome & { changed: number; span: SliceRange | null };

/**
 * The stroke as one undoable edit of `model`, labelled `label`: the edit spans only the
 * touched slices, so neither the copy for undo nor the search for what changed covers
 * more. An edit that changes nothing leaves no history entry.
 */
export function commitStroke(
  model: SegmentationModel,
  label: string,
  touched: readonly TouchedSlice[],
  painted: (slice: number) => ArrayLike<number> | null,
  rule: StrokeRule,
): StrokeCommit {
  const span = touchedSpan(touched);
  let outcome: StrokeOutcome = { accepted: 0, rejected: 0, compared: 0 };
  if (span === null) return { ...outcome, changed: 0, span };
  const changed = model.edit(label, (labelmap) => (outcome = copyStroke(labelmap, model.dims, touched, painted, rule)), span);
  return { ...outcome, changed, span };
}
