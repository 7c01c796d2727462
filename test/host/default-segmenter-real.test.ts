// The default segmenter on real labelled anatomy (Debian's mricron-data: the Colin27 T1
// with the AAL atlas drawn on it; scripts/install-system-deps.sh installs it): a tight box
// yields a plausible shape, weak evidence is flagged, and refinement clicks act locally in
// their own direction. Ground truth and clicks come from the atlas labels.
import { beforeAll, describe, expect, test } from 'vitest';
import { ATLAS_SETS, loadAtlasSet, type PosedStructure } from '../../electron/host/inference/atlas-segmentation-eval.ts';
import { correctiveClick } from '../../electron/host/inference/corrective-click.ts';
import { createDefaultSegmenter, inscribedEllipseMask } from '../../electron/host/inference/default-segmenter.ts';
import { interiorPoints, maskBox } from '../../electron/host/inference/ground-truth-prompts.ts';
import { maskDice } from '../../electron/host/inference/metrics.ts';
import { clickRadius } from '../../electron/host/inference/refinement-clicks.ts';
import type { PromptPoint, SegmentImage } from '../../electron/host/inference/segmenter-types.ts';
import { gaussianSource, mulberry32 } from '../../electron/host/sample/random.ts';

let structures: PosedStructure[];

beforeAll(async () => {
  // The tuning split: the tests check behaviours, the benchmark scores the held-out sets.
  structures = await loadAtlasSet(ATLAS_SETS.find((s) => s.tuning)!);
});

function prompts(s: PosedStructure) {
  const { width, height } = s.image;
  return { box: maskBox(s.truth, width, height)!, points: interiorPoints(s.truth, width, height)!.map(([x, y]) => ({ x, y, label: 1 as const })) };
}

function area(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

describe('the default segmenter on real MR anatomy (Colin27 + AAL)', () => {
  test('a tight box always yields a plausible shape inside it, never a sliver', async () => {
    const segmenter = createDefaultSegmenter();
    for (const s of structures) {
      const { width, height } = s.image;
      const p = prompts(s);
      const { mask } = await segmenter.segment(s.image, p);
      const [x0, y0, x1, y1] = p.box;
      let outside = 0;
      for (let i = 0; i < mask.length; i++) {
        const x = i % width;
        const y = Math.floor(i / width);
        if (mask[i] && (x < x0 || x > x1 || y < y0 || y > y1)) outside++;
      }
      expect(outside, s.name).toBe(0);
      // Hippocampus and the other weak-edge structures: at least half of the labelled area is found.
      expect(area(mask), `${s.name}: ${area(mask)} of ${area(s.truth)} pixels`).toBeGreaterThan(0.5 * area(s.truth));
      expect(maskDice(mask, s.truth), s.name).toBeGreaterThan(maskDice(inscribedEllipseMask(width, height, p.box), s.truth) - 0.1);
    }
  });

  test('over the tight boxes it beats the ellipse inscribed in them', async () => {
    const segmenter = createDefaultSegmenter();
    let dice = 0;
    let ellipse = 0;
    for (const s of structures) {
      const p = prompts(s);
      dice += maskDice((await segmenter.segment(s.image, p)).mask, s.truth);
      ellipse += maskDice(inscribedEllipseMask(s.image.width, s.image.height, p.box), s.truth);
    }
    expect(dice / structures.length).toBeGreaterThan(ellipse / structures.length);
  });

  test('a slice without edges is flagged as low confidence; a crisp structure is not', async () => {
    const s = structures[0]!;
    const { width, height } = s.image;
    const gaussian = gaussianSource(mulberry32(17));
    // The same slice's mean and spread, with every edge gone.
    let mean = 0;
    for (const v of s.image.pixels) mean += v / s.image.pixels.length;
    const flat = Float32Array.from(s.image.pixels, () => mean + 10 * gaussian());
    const flatImage: SegmentImage = { ...s.image, key: 'flat', pixels: flat };
    const flagged = await createDefaultSegmenter().segment(flatImage, prompts(s));
    expect(flagged.lowConfidence).toMatch(/low confidence/);
    // The labelled structure drawn crisply (its own mask, bright on dark, with noise).
    const crisp = Float32Array.from(s.truth, (v) => (v ? 200 : 50) + 5 * gaussian());
    const clear = await createDefaultSegmenter().segment({ ...s.image, key: 'crisp', pixels: crisp }, prompts(s));
    expect(clear.lowConfidence).toBeUndefined();
    expect(maskDice(clear.mask, s.truth)).toBeGreaterThan(0.9);
    void width;
    void height;
  });

  test('a positive click adds near itself and nowhere far; a negative click removes near itself', async () => {
    let positives = 0;
    let negatives = 0;
    for (const s of structures) {
      const { width, height } = s.image;
      const p = prompts(s);
      const segmenter = createDefaultSegmenter();
      const before = (await segmenter.segment(s.image, p)).mask;
      const click: PromptPoint = correctiveClick(before, s.truth, width, height)!;
      const after = (await segmenter.segment(s.image, { box: p.box, points: [...p.points, click] })).mask;
      const radius = clickRadius(p.box, width, height);
      let added = 0;
      let removed = 0;
      for (let i = 0; i < before.length; i++) {
        if (before[i] === after[i]) continue;
        const far = Math.hypot((i % width) - click.x, Math.floor(i / width) - click.y) > radius;
        expect(far, `${s.name}: a change ${far ? 'far from' : 'near'} the click`).toBe(false);
        if (after[i]) added++;
        else removed++;
      }
      if (click.label === 1) {
        positives++;
        expect(removed, `${s.name}: a positive click removed pixels`).toBe(0);
        expect(added, `${s.name}: the positive click added nothing`).toBeGreaterThan(0);
        expect(after[click.y * width + click.x], s.name).toBe(1);
      } else {
        negatives++;
        expect(added, `${s.name}: a negative click added pixels`).toBe(0);
        expect(removed, `${s.name}: the negative click removed nothing`).toBeGreaterThan(0);
        expect(after[click.y * width + click.x], s.name).toBe(0);
      }
      expect(maskDice(after, s.truth), s.name).toBeGreaterThanOrEqual(maskDice(before, s.truth) - 0.01);
    }
    // The atlas gives both kinds of mistake to correct.
    expect(positives).toBeGreaterThan(0);
    expect(negatives).toBeGreaterThan(0);
  });
});
