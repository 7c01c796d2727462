// Propagation of a slice mask through the volume by re-prompting (inference.propagate):
// the stop rules on synthetic masks, then the real host on the sample CT with the
// default segmenter, judged against the sample's ground truth in 3-D.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PropagateResult, SegmentResult } from '../../electron/common/contract-inference.ts';
import { decodeLabelmap, encodeLabelmap } from '../../electron/common/contract-seg.ts';
import type { SeriesSummary } from '../../electron/common/dicom-model.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { pngToMask } from '../../electron/host/inference/mask-png.ts';
import { DEFAULT_PROPAGATION_RULES, propagateMask, stopReason } from '../../electron/host/inference/propagation.ts';
import { readGroundTruth } from '../../electron/host/sample/ground-truth.ts';

function disc(width: number, height: number, cx: number, cy: number, r: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * width + x] = 1;
  return mask;
}

describe('propagation stop rules', () => {
  const rules = DEFAULT_PROPAGATION_RULES;
  const base = disc(40, 40, 20, 20, 8);
  it('keeps a similar, overlapping mask', () => {
    expect(stopReason(base, disc(40, 40, 21, 20, 7), rules)).toBeNull();
  });
  it('names why a mask is not kept', () => {
    expect(stopReason(base, new Uint8Array(1600), rules)).toBe('empty');
    expect(stopReason(base, disc(40, 40, 20, 20, 3), rules)).toBe('shrank');
    expect(stopReason(base, disc(40, 40, 20, 20, 16), rules)).toBe('leaked');
    expect(stopReason(base, disc(40, 40, 4, 4, 7), rules)).toBe('drifted');
  });
});

describe('propagateMask', () => {
  // A sphere of radius 6 slices centred on slice 10: the segmenter "finds" its cross-section inside the box it is given.
  const sphere = (k: number) => disc(40, 40, 20, 20, Math.sqrt(Math.max(0, 36 - (k - 10) ** 2)) * 2);
  const segmentSlice = async (k: number, box: [number, number, number, number]) => {
    const truth = sphere(k);
    const mask = truth.map((v, i) => (v && i % 40 >= box[0] && i % 40 <= box[2] && Math.floor(i / 40) >= box[1] && Math.floor(i / 40) <= box[3] ? 1 : 0));
    return { mask, pixels: flat };
  };
  const flat = new Float32Array(1600).fill(40);

  it('follows a structure both ways and stops where it ends', async () => {
    const seen: number[] = [];
    const outcome = await propagateMask({ width: 40, height: 40, sliceCount: 30, fromSlice: 10, seedPixels: flat, seed: sphere(10), direction: 'both', maxSlices: 100, segmentSlice, onSlice: (k) => seen.push(k) });
    const kept = [...outcome.masks.keys()].sort((a, b) => a - b);
    // Slices 5 and 15 hold a 1-pixel cross-section (below minArea): the structure has ended there.
    expect(kept[0]).toBeGreaterThanOrEqual(5);
    expect(kept[0]).toBeLessThanOrEqual(6);
    expect(kept.at(-1)).toBeGreaterThanOrEqual(14);
    expect(kept.at(-1)).toBeLessThanOrEqual(15);
    expect(seen).toHaveLength(kept.length - 1);
    expect(outcome.stopped.backward).toMatch(/empty|shrank/);
    expect(outcome.stopped.forward).toMatch(/empty|shrank/);
  });

  it('goes one way only when asked, within the slice budget and the series', async () => {
    const forward = await propagateMask({ width: 40, height: 40, sliceCount: 12, fromSlice: 10, seedPixels: flat, seed: sphere(10), direction: 'forward', maxSlices: 100, segmentSlice });
    expect([...forward.masks.keys()].sort()).toEqual([10, 11]);
    expect(forward.stopped).toEqual({ backward: 'not-requested', forward: 'series-end' });
    const limited = await propagateMask({ width: 40, height: 40, sliceCount: 30, fromSlice: 10, seedPixels: flat, seed: sphere(10), direction: 'backward', maxSlices: 2, segmentSlice });
    expect([...limited.masks.keys()].sort((a, b) => a - b)).toEqual([8, 9, 10]);
    expect(limited.stopped.backward).toBe('limit');
  });

  it('stops where the tissue under the mask is no longer the seed’s', async () => {
    const brighter = new Float32Array(1600).fill(120);
    const outcome = await propagateMask({
      width: 40, height: 40, sliceCount: 30, fromSlice: 10, seedPixels: flat, seed: sphere(10), direction: 'forward', maxSlices: 100,
      segmentSlice: async (k, box) => ({ ...(await segmentSlice(k, box)), pixels: k >= 12 ? brighter : flat }),
    });
    expect([...outcome.masks.keys()].sort((a, b) => a - b)).toEqual([10, 11]);
    expect(outcome.stopped.forward).toBe('tissue-changed');
  });

  it('refuses an empty seed with a clear message', async () => {
    await expect(propagateMask({ width: 40, height: 40, sliceCount: 30, fromSlice: 10, seedPixels: flat, seed: new Uint8Array(1600), direction: 'both', maxSlices: 5, segmentSlice })).rejects.toThrow(/seed mask is empty/);
  });
});

describe('inference.propagate on the sample CT (default segmenter)', () => {
  let dir: string;
  let host: Host;
  let series: SeriesSummary;
  let sampleDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mr-propagate-'));
    host = createHost({ shell: 'test', dataDir: path.join(dir, 'data'), modelsDir: path.join(dir, 'no-models') });
    const opened = await host.dispatch('sample.open', { jobId: 'sample' });
    if (!opened.ok) throw new Error(opened.error.message);
    const studies = await host.dispatch('dicom.studies', {});
    if (!studies.ok) throw new Error(studies.error.message);
    series = (studies.result as { patients: Array<{ studies: Array<{ series: SeriesSummary[] }> }> }).patients[0]!.studies[0]!.series.find((s) => s.kind === 'image')!;
    sampleDir = path.dirname(await host.prepareSample()); // prepareSample gives the dicom/ folder
  }, 120_000);

  afterAll(async () => {
    await host?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function seedFromTruth(name: string) {
    const truth = await readGroundTruth(sampleDir);
    const [columns, rows, slices] = truth.sizes;
    const plane = columns * rows;
    const value = truth.table.find((t) => t.name === name)!.value;
    let best = 0;
    let bestArea = 0;
    for (let k = 0; k < slices; k++) {
      let area = 0;
      for (let i = 0; i < plane; i++) if (truth.labels[k * plane + i] === value) area++;
      if (area > bestArea) [best, bestArea] = [k, area];
    }
    const mask = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) mask[i] = truth.labels[best * plane + i] === value ? 1 : 0;
    return { truth, value, plane, slices, best, mask };
  }

  it.each(['kidney_cyst', 'liver_lesion', 'kidney_left'])('carries the %s from its largest slice through the slices it spans', async (name) => {
    const { truth, value, plane, slices, best, mask } = await seedFromTruth(name);
    const progress: number[] = [];
    const unsubscribe = host.subscribe((e) => {
      if (e.event === 'inference.progress' && e.payload.jobId === name) progress.push(e.payload.sliceIndex);
    });
    const answer = await host.dispatch('inference.propagate', { jobId: name, seriesKey: series.seriesKey, fromSlice: best, mask: encodeLabelmap(mask) });
    unsubscribe();
    if (!answer.ok) throw new Error(answer.error.message);
    const result = answer.result as PropagateResult;
    const masks = decodeLabelmap(result.masks);
    // 3-D Dice between the propagated slab and the ground-truth structure over the whole series.
    let inter = 0;
    let predicted = 0;
    let actual = 0;
    for (let k = 0; k < slices; k++) {
      for (let i = 0; i < plane; i++) {
        const gt = truth.labels[k * plane + i] === value;
        const pr = k >= result.firstSlice && k <= result.lastSlice && masks[(k - result.firstSlice) * plane + i] === 1;
        if (gt) actual++;
        if (pr) predicted++;
        if (gt && pr) inter++;
      }
    }
    const dice = (2 * inter) / (predicted + actual);
    const truthSlices = Array.from({ length: slices }, (_, k) => k).filter((k) => truth.labels.subarray(k * plane, (k + 1) * plane).includes(value));
    console.log(`${name}: propagated ${result.firstSlice}…${result.lastSlice} (truth ${truthSlices[0]}…${truthSlices.at(-1)}), 3-D Dice ${dice.toFixed(3)}, stopped ${JSON.stringify(result.stopped)}`);
    expect(result.method).toBe('re-prompt');
    expect(result.segmenter?.kind).toBe('default');
    expect(result.lastSlice - result.firstSlice).toBeGreaterThan(2);
    expect(Math.abs(result.firstSlice - truthSlices[0]!)).toBeLessThanOrEqual(2);
    expect(Math.abs(result.lastSlice - truthSlices.at(-1)!)).toBeLessThanOrEqual(2);
    // Measured 0.90 (cyst), 0.94 (liver lesion), 0.97 (left kidney) when written.
    expect(dice).toBeGreaterThan(0.85);
    expect(progress.sort((a, b) => a - b)).toEqual(result.slices.map((s) => s.sliceIndex).filter((k) => k !== best));
  }, 120_000);

  // The ask panel's case (test/e2e/ask-panel.test.ts): a box drawn 3 px round the liver's
  // largest slice, a negative click near its lower-left edge, the edited mask accepted and
  // propagated. Propagation's grown boxes are not tight: with the tight-box prior or the
  // partial-volume rim in them the masks crept outward slice by slice, past the liver's ends.
  it('carries a liver mask edited by a negative click without running past the liver’s ends', async () => {
    const { truth, value, plane, slices, best, mask: liver } = await seedFromTruth('liver');
    const [columns] = truth.sizes;
    let [bx0, by0, bx1, by1] = [Infinity, Infinity, -Infinity, -Infinity];
    liver.forEach((v, i) => {
      if (!v) return;
      const [x, y] = [i % columns, Math.floor(i / columns)];
      [bx0, by0, bx1, by1] = [Math.min(bx0, x), Math.min(by0, y), Math.max(bx1, x), Math.max(by1, y)];
    });
    const box = [bx0 - 3, by0 - 3, bx1 + 3, by1 + 3];
    let corner = { x: 0, y: 0, score: Infinity };
    liver.forEach((v, i) => {
      const [x, y] = [i % columns, Math.floor(i / columns)];
      const score = x - box[0]! + (box[3]! - y);
      if (v && score < corner.score) corner = { x, y, score };
    });
    const boxed = await host.dispatch('inference.segment', { seriesKey: series.seriesKey, sliceIndex: best, box, points: [] });
    const clicked = await host.dispatch('inference.segment', { seriesKey: series.seriesKey, sliceIndex: best, box, points: [{ x: corner.x + 2, y: corner.y - 2, label: 0 }] });
    if (!boxed.ok || !clicked.ok) throw new Error('segment failed');
    const edited = pngToMask(Buffer.from((clicked.result as SegmentResult).mask.png, 'base64')).mask.map((v) => (v ? 1 : 0));
    expect((clicked.result as SegmentResult).mask.area).toBeLessThan((boxed.result as SegmentResult).mask.area);
    const answer = await host.dispatch('inference.propagate', { jobId: 'edited-liver', seriesKey: series.seriesKey, fromSlice: best, mask: encodeLabelmap(edited) });
    if (!answer.ok) throw new Error(answer.error.message);
    const result = answer.result as PropagateResult;
    const liverSlices = new Set(Array.from({ length: slices }, (_, k) => k).filter((k) => truth.labels.subarray(k * plane, (k + 1) * plane).includes(value)));
    const done = result.slices.map((s) => s.sliceIndex);
    console.log(`edited liver: propagated ${result.firstSlice}…${result.lastSlice} (truth ${Math.min(...liverSlices)}…${Math.max(...liverSlices)}), stopped ${JSON.stringify(result.stopped)}`);
    expect(done).toContain(best - 1);
    expect(done).toContain(best + 1);
    expect(done.filter((k) => !liverSlices.has(k))).toEqual([]);
    // The seed slice comes back as the user edited it: the negative click's cut stays.
    const masks = decodeLabelmap(result.masks);
    expect(Array.from(masks.subarray((best - result.firstSlice) * plane, (best - result.firstSlice + 1) * plane))).toEqual(Array.from(edited));
  }, 180_000);

  it('refuses a box kind it does not know, naming the kinds', async () => {
    const answer = await host.dispatch('inference.segment', { seriesKey: series.seriesKey, sliceIndex: 3, box: [10, 10, 40, 40], points: [], boxKind: 'snug' });
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error.code).toBe('invalid-params');
      expect(JSON.stringify(answer.error)).toMatch(/tight.*loose.*propagated/);
    }
  });

  it('stops when cancelled and says so', async () => {
    const { best, mask } = await seedFromTruth('liver');
    const unsubscribe = host.subscribe((e) => {
      if (e.event === 'inference.progress' && e.payload.jobId === 'liver' && e.payload.done === 1) void host.dispatch('inference.cancel', { jobId: 'liver' });
    });
    const answer = await host.dispatch('inference.propagate', { jobId: 'liver', seriesKey: series.seriesKey, fromSlice: best, mask: encodeLabelmap(mask), direction: 'forward' });
    unsubscribe();
    if (!answer.ok) throw new Error(answer.error.message);
    const result = answer.result as PropagateResult;
    expect(result.stopped.forward).toBe('cancelled');
    expect(result.slices.length).toBeLessThanOrEqual(3);
  }, 120_000);

  it('rejects a seed of the wrong size with both sizes in the message', async () => {
    const answer = await host.dispatch('inference.propagate', { jobId: 'bad', seriesKey: series.seriesKey, fromSlice: 3, mask: encodeLabelmap(new Uint8Array(100).fill(1)) });
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.error.message).toMatch(/100 pixels.*256×256/);
  });
});
