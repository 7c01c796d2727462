// The effects as worker jobs: runEffectJob leaves the labelmap as the effect itself does
// and hands back exactly the changed slices (judged by a voxel-by-voxel comparison done
// here); SegmentationModel.applySlices makes that one undoable step and refuses a result
// computed on an older revision of the document.
import { describe, expect, it } from 'vitest';
import type { Grid, Target } from '../../renderer/src/segmentation/effect-grid.ts';
import { runEffectJob, sliceChange, type EffectJob } from '../../renderer/src/segmentation/effect-job.ts';
import { islands, stamp, threshold } from '../../renderer/src/segmentation/segment-effects.ts';
import { margin, smooth } from '../../renderer/src/segmentation/segment-morphology.ts';
import { SegmentationModel, StaleResultError } from '../../renderer/src/segmentation/segmentation-model.ts';

const CODE = {
  category: { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' },
  type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' },
};
const dims = { columns: 24, rows: 20, slices: 12 };
const spacing = { column: 0.8, row: 0.8, slice: 2 };
const grid: Grid = { dims, spacing };
const sliceLength = dims.columns * dims.rows;

/** Two blobs of segment 1 and one of a locked segment 2. */
function blobs(): Uint8Array {
  const labelmap = new Uint8Array(dims.columns * dims.rows * dims.slices);
  const paint = (segment: number, column: number, row: number, slice: number, radiusMm: number) =>
    stamp(labelmap, grid, { column, row, slice }, { radiusMm, shape: '3d', mode: 'paint' }, { segment, locked: new Set() });
  paint(1, 8, 8, 5, 3);
  paint(1, 18, 14, 8, 1.5);
  paint(2, 12, 10, 5, 2);
  return labelmap;
}

/** The changed range and count, found by comparing every voxel. */
function bruteForceChange(before: Uint8Array, after: Uint8Array): { firstSlice: number; lastSlice: number; changed: number } | null {
  let first = -1;
  let last = -1;
  let changed = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    if (first < 0) first = i;
    last = i;
    changed++;
  }
  return changed === 0 ? null : { firstSlice: Math.floor(first / sliceLength), lastSlice: Math.floor(last / sliceLength), changed };
}

describe('effects as worker jobs', () => {
  const target: Target = { segment: 1, locked: new Set([2]) };
  const cases: Array<[string, EffectJob, (labelmap: Uint8Array) => void]> = [
    ['margin +2 mm (3D)', { kind: 'margin', marginMm: 2, dimensionality: '3d' }, (lm) => margin(lm, grid, 2, '3d', target)],
    ['margin −1 mm (2D)', { kind: 'margin', marginMm: -1, dimensionality: '2d' }, (lm) => margin(lm, grid, -1, '2d', target)],
    ['closing 3 mm', { kind: 'smoothing', method: 'closing', kernelMm: 3, dimensionality: '3d' }, (lm) => smooth(lm, grid, 'closing', 3, '3d', target)],
    ['median 2 mm', { kind: 'smoothing', method: 'median', kernelMm: 2, dimensionality: '2d' }, (lm) => smooth(lm, grid, 'median', 2, '2d', target)],
    ['keep largest island', { kind: 'islands', options: { mode: 'keep-largest' } }, (lm) => void islands(lm, grid, { mode: 'keep-largest' }, target)],
  ];
  for (const [name, job, direct] of cases) {
    it(`${name}: the job's slices are the effect's result, and only the changed ones`, () => {
      const original = blobs();
      const expected = original.slice();
      direct(expected);
      const copy = original.slice();
      const change = runEffectJob(job, copy, grid, { segment: 1, locked: [2] }, null);
      expect(copy, 'the worker copy ends as the effect leaves a labelmap').toEqual(expected);
      const truth = bruteForceChange(original, expected);
      if (!truth) return expect(change).toBeNull();
      expect(change).not.toBeNull();
      expect(change!.firstSlice).toBe(truth.firstSlice);
      expect(change!.after.length).toBe((truth.lastSlice - truth.firstSlice + 1) * sliceLength);
      expect(change!.changed).toBe(truth.changed);
      expect(change!.after).toEqual(expected.subarray(truth.firstSlice * sliceLength, (truth.lastSlice + 1) * sliceLength));
      // The locked segment is never touched.
      expect(expected.filter((v) => v === 2).length).toBe(original.filter((v) => v === 2).length);
    });
  }

  it('threshold needs the image values, and with them equals the threshold effect', () => {
    const original = blobs();
    expect(() => runEffectJob({ kind: 'threshold', range: { low: 0, high: 10 } }, original.slice(), grid, { segment: 1, locked: [2] }, null)).toThrow(/image values/);
    const values = Float32Array.from({ length: original.length }, (_, i) => (i * 7919) % 200);
    const expected = original.slice();
    threshold(expected, grid, values, { low: 50, high: 120 }, target);
    const copy = original.slice();
    runEffectJob({ kind: 'threshold', range: { low: 50, high: 120 } }, copy, grid, { segment: 1, locked: [2] }, values);
    expect(copy).toEqual(expected);
  });

  it('reports progress that rises to 1 during a margin', () => {
    const fractions: number[] = [];
    runEffectJob({ kind: 'margin', marginMm: 3, dimensionality: '3d' }, blobs(), grid, { segment: 1, locked: [] }, null, (f) => fractions.push(f));
    expect(fractions.length).toBeGreaterThan(3);
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
  });

  it('lists every value a changed voxel held or holds', () => {
    const before = new Uint8Array([0, 1, 1, 3, 0, 0]);
    const after = new Uint8Array([0, 1, 2, 3, 0, 4]);
    const change = sliceChange(before, after, 2)!;
    expect(change.touched).toEqual([0, 1, 2, 4]);
    expect(change.firstSlice).toBe(1);
    expect([...change.after]).toEqual([2, 3, 0, 4]);
  });
});

describe('SegmentationModel.applySlices', () => {
  function withSegments(): SegmentationModel {
    const model = new SegmentationModel('series', dims, spacing, blobs());
    model.load(
      [
        { number: 1, label: 'AI liver', color: [200, 100, 50], ...CODE, provenance: { source: 'ai' } },
        { number: 2, label: 'Kidney', color: [50, 100, 200], ...CODE, provenance: { source: 'manual' } },
      ],
      blobs(),
    );
    return model;
  }

  it('applies a worker result as one undo step that undo and redo move across exactly', () => {
    const model = withSegments();
    const original = model.labelmap.slice();
    const change = runEffectJob({ kind: 'margin', marginMm: 2, dimensionality: '3d' }, model.labelmap.slice(), grid, { segment: 1, locked: [2] }, null)!;
    const expected = original.slice();
    margin(expected, grid, 2, '3d', { segment: 1, locked: new Set([2]) });
    const changes: Array<[number, number]> = [];
    model.onChange((c) => c.kind === 'labelmap' && changes.push([c.firstSlice, c.lastSlice]));
    expect(model.applySlices('Margin 2 mm', change, model.changeRevision)).toBe(change.changed);
    expect(model.labelmap).toEqual(expected);
    expect(model.undoLabel).toBe('Margin 2 mm');
    expect(model.segment(1)?.provenance.source, 'an AI segment whose voxels change is AI then edited').toBe('ai-edited');
    expect(model.segment(2)?.provenance.source).toBe('manual');
    expect(changes).toEqual([[change.firstSlice, change.firstSlice + change.after.length / sliceLength - 1]]);
    model.undo();
    expect(model.labelmap).toEqual(original);
    expect(model.segment(1)?.provenance.source).toBe('ai');
    model.redo();
    expect(model.labelmap).toEqual(expected);
  });

  it('refuses a result computed before the document changed, and changes nothing', () => {
    const model = withSegments();
    const revision = model.changeRevision;
    const change = runEffectJob({ kind: 'margin', marginMm: 2, dimensionality: '3d' }, model.labelmap.slice(), grid, { segment: 1, locked: [2] }, null)!;
    model.edit('Paint', (lm) => (lm[0] = 1));
    const before = model.labelmap.slice();
    const undoLabel = model.undoLabel;
    expect(() => model.applySlices('Margin 2 mm', change, revision)).toThrow(StaleResultError);
    expect(model.labelmap).toEqual(before);
    expect(model.undoLabel).toBe(undoLabel);
  });

  it('refuses slices outside the series', () => {
    const model = withSegments();
    expect(() => model.applySlices('x', { firstSlice: dims.slices - 1, after: new Uint8Array(2 * sliceLength), changed: 1, touched: [0, 1] }, model.changeRevision)).toThrow(/outside the series/);
    expect(() => model.applySlices('x', { firstSlice: 0, after: new Uint8Array(sliceLength + 1), changed: 1, touched: [0, 1] }, model.changeRevision)).toThrow(/whole slices/);
  });
});
