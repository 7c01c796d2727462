// A plane stroke's commit (renderer/src/segmentation/stroke-commit.ts): only the touched
// slices' boxes are compared, the editor's rules decide what stands (erase clears only
// the active segment, nothing overwrites a locked one), and the stroke is one undo step.
import { describe, expect, it } from 'vitest';
import { commitStroke, copyStroke, everySlice, isAllowedChange, touchedSpan, type StrokeRule } from '../../renderer/src/segmentation/stroke-commit.ts';
import { SegmentationModel, type LabelmapDims } from '../../renderer/src/segmentation/segmentation-model.ts';

const DIMS: LabelmapDims = { columns: 6, rows: 5, slices: 4 };
const SLICE = DIMS.columns * DIMS.rows;
const PAINT_2: StrokeRule = { target: { segment: 2, locked: new Set() }, erasing: false };
const ERASE_2: StrokeRule = { target: { segment: 2, locked: new Set() }, erasing: true };

function at(column: number, row: number, slice: number): number {
  return (slice * DIMS.rows + row) * DIMS.columns + column;
}

/** The images a stroke left: a copy of the document with `writes` applied ([column, row, slice, value]). */
function imagesAfter(document: Uint8Array, writes: Array<[number, number, number, number]>): (slice: number) => Uint8Array {
  const images = document.slice();
  for (const [c, r, s, v] of writes) images[at(c, r, s)] = v;
  return (slice) => images.subarray(slice * SLICE, (slice + 1) * SLICE);
}

describe('plane stroke commit', () => {
  it('copies the changes inside the touched boxes and looks at nothing else', () => {
    const document = new Uint8Array(DIMS.columns * DIMS.rows * DIMS.slices);
    // The stroke wrote (1..2, 1..2) on slice 1 and (4, 3) on slice 2; (5, 4) on slice 3 lies outside what it touched.
    const painted = imagesAfter(document, [[1, 1, 1, 2], [2, 2, 1, 2], [4, 3, 2, 2], [5, 4, 3, 2]]);
    const touched = [
      { slice: 1, box: { firstColumn: 1, lastColumn: 2, firstRow: 1, lastRow: 2 } },
      { slice: 2, box: { firstColumn: 4, lastColumn: 4, firstRow: 3, lastRow: 3 } },
    ];
    const outcome = copyStroke(document, DIMS, touched, painted, PAINT_2);
    expect(outcome).toEqual({ accepted: 3, rejected: 0, compared: 4 + 1 });
    expect([document[at(1, 1, 1)], document[at(2, 2, 1)], document[at(4, 3, 2)], document[at(5, 4, 3)]]).toEqual([2, 2, 2, 0]);
  });

  it('compares a whole slice when its box is unknown, and clamps boxes to the slice', () => {
    const document = new Uint8Array(DIMS.columns * DIMS.rows * DIMS.slices);
    const painted = imagesAfter(document, [[0, 0, 0, 2], [5, 4, 0, 2], [5, 4, 3, 2]]);
    const outcome = copyStroke(document, DIMS, [{ slice: 0, box: null }, { slice: 3, box: { firstColumn: 3, lastColumn: 99, firstRow: -4, lastRow: 99 } }], painted, PAINT_2);
    expect(outcome).toEqual({ accepted: 3, rejected: 0, compared: SLICE + 3 * DIMS.rows });
    expect(copyStroke(new Uint8Array(document.length), DIMS, everySlice(DIMS), painted, PAINT_2).compared).toBe(document.length);
  });

  it('paints over background and unlocked segments, never over a locked one', () => {
    const rule: StrokeRule = { target: { segment: 2, locked: new Set([3]) }, erasing: false };
    expect(isAllowedChange(0, 2, rule)).toBe(true);
    expect(isAllowedChange(1, 2, rule)).toBe(true);
    expect(isAllowedChange(3, 2, rule)).toBe(false);
    // Another segment's number is never the stroke's to write.
    expect(isAllowedChange(0, 1, rule)).toBe(false);
  });

  it('erases the active segment only', () => {
    expect(isAllowedChange(2, 0, ERASE_2)).toBe(true);
    expect(isAllowedChange(1, 0, ERASE_2)).toBe(false);
    expect(isAllowedChange(0, 2, ERASE_2)).toBe(false);
  });

  it('refuses everything when no segment can be edited', () => {
    const document = new Uint8Array(DIMS.columns * DIMS.rows * DIMS.slices);
    const painted = imagesAfter(document, [[1, 1, 1, 2]]);
    expect(copyStroke(document, DIMS, everySlice(DIMS), painted, { target: null, erasing: false })).toMatchObject({ accepted: 0, rejected: 1 });
    expect(document[at(1, 1, 1)]).toBe(0);
  });

  it('counts what it refuses, so the images can be given the document back', () => {
    const document = new Uint8Array(DIMS.columns * DIMS.rows * DIMS.slices);
    document[at(0, 0, 2)] = 1;
    document[at(1, 0, 2)] = 2;
    // An eraser that cleared segment 1 as well as the active segment 2.
    const painted = imagesAfter(document, [[0, 0, 2, 0], [1, 0, 2, 0]]);
    const outcome = copyStroke(document, DIMS, [{ slice: 2, box: { firstColumn: 0, lastColumn: 1, firstRow: 0, lastRow: 0 } }], painted, ERASE_2);
    expect(outcome).toEqual({ accepted: 1, rejected: 1, compared: 2 });
    expect([document[at(0, 0, 2)], document[at(1, 0, 2)]]).toEqual([1, 0]);
  });

  it('spans the touched slices, first to last', () => {
    expect(touchedSpan([])).toBeNull();
    expect(touchedSpan([{ slice: 3, box: null }, { slice: 1, box: null }, { slice: 2, box: null }])).toEqual({ firstSlice: 1, lastSlice: 3 });
  });

  it('makes the stroke one undo step of the model, spanning only the touched slices', () => {
    const model = new SegmentationModel('series', DIMS, { column: 1, row: 1, slice: 1 });
    const segment = model.addSegment({
      label: 'Bone',
      category: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' },
      type: { value: '272673000', scheme: 'SCT', meaning: 'Bone' },
      provenance: { source: 'manual' },
    });
    const ranges: Array<[number, number]> = [];
    model.onChange((change) => change.kind === 'labelmap' && ranges.push([change.firstSlice, change.lastSlice]));
    const before = model.labelmap.slice();
    const painted = imagesAfter(before, [[2, 2, 1, segment.number], [3, 2, 2, segment.number]]);
    const touched = [{ slice: 2, box: null }, { slice: 1, box: null }];
    const result = commitStroke(model, 'Paint (sagittal)', touched, painted, { target: { segment: segment.number, locked: new Set() }, erasing: false });
    expect(result).toMatchObject({ changed: 2, accepted: 2, rejected: 0, compared: 2 * SLICE, span: { firstSlice: 1, lastSlice: 2 } });
    expect(ranges).toEqual([[1, 2]]);
    expect(model.undoLabel).toBe('Paint (sagittal)');
    model.undo();
    expect(Buffer.compare(Buffer.from(model.labelmap), Buffer.from(before))).toBe(0);
    // What is left to undo is the segment's addition: the stroke was one step.
    expect(model.undoLabel).toBe('Add Bone');
  });

  it('leaves no history entry for a stroke that wrote nothing, or only what the rules refuse', () => {
    const model = new SegmentationModel('series', DIMS, { column: 1, row: 1, slice: 1 });
    const rule: StrokeRule = { target: { segment: 1, locked: new Set() }, erasing: false };
    expect(commitStroke(model, 'Paint', [], () => null, rule)).toMatchObject({ changed: 0, span: null });
    const painted = imagesAfter(model.labelmap, [[0, 0, 0, 7]]);
    expect(commitStroke(model, 'Paint', [{ slice: 0, box: null }], painted, rule)).toMatchObject({ changed: 0, rejected: 1 });
    expect(model.canUndo).toBe(false);
  });
});
