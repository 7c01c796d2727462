// The app's ASM path (loadMedsam2 on onnxruntime-node, CPU) against SAM2ImagePredictor, on a
// MedSAM2 export of the real architecture with random weights (random-medsam2.ts). Both get the
// same 8-bit picture, made by the app's slicePicture from a synthetic non-square slice; the
// reference runs in Python in the same test, so nothing here is a stored expectation.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { slicePicture } from '../../electron/host/inference/image-prep.ts';
import { loadMedsam2 } from '../../electron/host/inference/medsam2-segmenter.ts';
import type { PixelBox, SegmentImage, SegmentOutcome, Segmenter } from '../../electron/host/inference/segmenter-types.ts';
import { readManifest } from '../../electron/host/models/manifest.ts';
import { ensureRandomMedsam2, type RandomMedsam2 } from './random-medsam2.ts';
import { projectPython } from './real-parts.ts';
import { maskIou, sam2Reference, type ReferenceCase, type ReferenceResult } from './sam2-reference.ts';

const WIDTH = 400;
const HEIGHT = 300;
const WINDOW = { center: 40, width: 400 };

/** CT-like values: a body with organs of different density, a dark cavity, a bright spot, texture. */
function syntheticSlice(): Float32Array {
  const pixels = new Float32Array(WIDTH * HEIGHT);
  let state = 12345;
  const noise = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  const inEllipse = (x: number, y: number, cx: number, cy: number, rx: number, ry: number) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let v = -1000;
      if (inEllipse(x, y, 200, 150, 190, 140)) v = -20 + 0.2 * x;
      if (inEllipse(x, y, 150, 140, 70, 50)) v = 160;
      if (x >= 260 && x <= 340 && y >= 60 && y <= 140) v = -400;
      if (inEllipse(x, y, 300, 220, 22, 18)) v = 420;
      pixels[y * WIDTH + x] = v + 30 * noise();
    }
  }
  return pixels;
}

const BOX: PixelBox = [75, 85, 228, 196];
const CASES: ReferenceCase[] = [
  // The seed's call: the CRM's box and both key points, labels [1, 1].
  { name: 'box + 2 positive points', prompts: { box: BOX, points: [{ x: 140, y: 130, label: 1 }, { x: 172, y: 152, label: 1 }] } },
  // A refinement as the app sends it: the box with the model's points plus the user's clicks.
  {
    name: 'refinement (box + positive and negative clicks)',
    prompts: { box: BOX, points: [{ x: 140, y: 130, label: 1 }, { x: 172, y: 152, label: 1 }, { x: 95, y: 100, label: 0 }, { x: 205, y: 175, label: 1 }, { x: 215, y: 110, label: 0 }] },
  },
  // Clicks without a box (the decoder gets zero boxes).
  { name: 'clicks only', prompts: { box: null, points: [{ x: 300, y: 220, label: 1 }, { x: 300, y: 100, label: 0 }] } },
];

describe('MedSAM2 export (random weights): the app against SAM2ImagePredictor', () => {
  let model: RandomMedsam2;
  let reference: { imageSize: number; cases: ReferenceResult[] };
  const picture = slicePicture({ pixels: syntheticSlice(), invert: false }, WINDOW);
  const image = (key: string): SegmentImage => ({ key, width: WIDTH, height: HEIGHT, pixels: new Float32Array(WIDTH * HEIGHT), window: { lower: -160, upper: 240 }, picture });

  beforeAll(async () => {
    projectPython(); // a missing venv fails here, with the command that makes it
    const started = performance.now();
    model = await ensureRandomMedsam2();
    console.log(`random MedSAM2 export: ${model.buildSeconds > 0 ? `built in ${model.buildSeconds.toFixed(1)} s` : 'from the cache'} (${model.dir})`);
    reference = await sam2Reference(model.checkpoint, picture, WIDTH, HEIGHT, CASES);
    console.log(`fixture + reference: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  async function segmentAll(variant: string): Promise<SegmentOutcome[]> {
    const manifest = await readManifest(path.join(model.dir, 'manifest.json'));
    const segmenter: Segmenter = await loadMedsam2({ dir: model.dir, manifest, variant, provider: 'cpu' });
    try {
      const outcomes: SegmentOutcome[] = [];
      for (const c of CASES) outcomes.push(await segmenter.segment(image(`parity-${variant}`), c.prompts));
      return outcomes;
    } finally {
      await segmenter.dispose();
    }
  }

  it('exports at MedSAM2\'s 512 px and the reference masks are neither empty nor full', () => {
    expect(reference.imageSize).toBe(512);
    for (const c of reference.cases) {
      const mask = c.mask;
      const area = mask.reduce((n, v) => n + v, 0) / mask.length;
      console.log(`reference ${c.name}: scores ${c.scores.map((s) => s.toFixed(4)).join(', ')}, best ${c.best}, area ${(area * 100).toFixed(1)} %`);
      expect(area).toBeGreaterThan(0.005);
      expect(area).toBeLessThan(0.95);
    }
  });

  it('fp32: every case gives SAM2ImagePredictor\'s best mask (IoU ≥ 0.99) and score (within 1e-3)', async () => {
    const outcomes = await segmentAll('fp32');
    expect(outcomes[0]!.embeddingCached).toBe(false);
    // Refinement clicks reuse the slice's embedding, as in the app.
    expect(outcomes.slice(1).every((o) => o.embeddingCached)).toBe(true);
    CASES.forEach((c, i) => {
      const ref = reference.cases[i]!;
      const outcome = outcomes[i]!;
      const agreement = maskIou(outcome.mask, ref.mask);
      console.log(`fp32 ${c.name}: IoU ${agreement.toFixed(5)}, score ${outcome.score!.toFixed(5)} vs ${ref.scores[ref.best]!.toFixed(5)}`);
      expect(outcome.mask.length).toBe(WIDTH * HEIGHT);
      expect(agreement).toBeGreaterThanOrEqual(0.99);
      expect(Math.abs(outcome.score! - ref.scores[ref.best]!)).toBeLessThanOrEqual(1e-3);
      outcome.scores!.forEach((s, k) => expect(Math.abs(s - ref.scores[k]!)).toBeLessThanOrEqual(1e-3));
    });
  });

  it('fp16: loads with float32 inputs and outputs and runs; its agreement is printed', async () => {
    const outcomes = await segmentAll('fp16');
    CASES.forEach((c, i) => {
      const ref = reference.cases[i]!;
      const outcome = outcomes[i]!;
      const agreement = maskIou(outcome.mask, ref.mask);
      console.log(`fp16 ${c.name}: IoU ${agreement.toFixed(5)}, score ${outcome.score!.toFixed(5)} vs ${ref.scores[ref.best]!.toFixed(5)}`);
      expect(outcome.mask.length).toBe(WIDTH * HEIGHT);
      expect(outcome.scores!.every(Number.isFinite)).toBe(true);
      expect(outcome.area).toBeGreaterThan(0);
    });
  });
});
