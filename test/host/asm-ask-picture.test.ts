// What MedSAM2 sees in the app: `ask` hands it the very 8-bit picture the CRM got (the seed's
// eval/infer.py passes one image to both), MONOCHROME1 inverted as it is displayed, and a
// refinement click on the slice segments the same picture. Tiny CRM (scripted answer) plus the
// random-weight MedSAM2 export, judged against SAM2ImagePredictor on the picture the app's
// slicePicture makes; a picture built any other way (not inverted, min-max scaled, another
// window) gives other masks from the same weights.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_ASM_ID, writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import type { ProviderDecision } from '../../electron/host/inference/execution-provider.ts';
import { slicePicture } from '../../electron/host/inference/image-prep.ts';
import type { SliceInput } from '../../electron/host/inference/inference-engine.ts';
import { InferenceService } from '../../electron/host/inference/inference-service.ts';
import { pngToMask } from '../../electron/host/inference/mask-png.ts';
import type { PromptPoint } from '../../electron/host/inference/segmenter-types.ts';
import { ensureRandomMedsam2, type RandomMedsam2 } from './random-medsam2.ts';
import { maskIou, sam2Reference } from './sam2-reference.ts';

const CPU: ProviderDecision = { provider: 'cpu', reason: 'tests run on the CPU', probe: { attempted: false, error: null, ms: 0 } };
const WIDTH = 256;
const HEIGHT = 320;
const WINDOW = { center: 2000, width: 3000 };

/** A MONOCHROME1 radiograph-like slice: high values are dense (displayed dark). */
function monochrome1Slice(): SliceInput {
  const pixels = new Float32Array(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let v = 3200 - 4 * y;
      if (((x - 80) / 45) ** 2 + ((y - 105) / 60) ** 2 <= 1) v = 900;
      if (((x - 180) / 40) ** 2 + ((y - 200) / 70) ** 2 <= 1) v = 1500;
      if (x > 120 && x < 140) v = 3600;
      pixels[y * WIDTH + x] = v + ((x * 13 + y * 7) % 50);
    }
  }
  return { seriesKey: 'mono1', sliceIndex: 0, width: WIDTH, height: HEIGHT, pixels, invert: true };
}

describe('the ASM sees the CRM\'s picture', () => {
  let model: RandomMedsam2;
  let root: string;
  let service: InferenceService;

  beforeAll(async () => {
    model = await ensureRandomMedsam2();
    root = await mkdtemp(path.join(tmpdir(), 'asm-picture-'));
    const modelsDir = path.join(root, 'models');
    await writeTinyModels(modelsDir);
    await rm(path.join(modelsDir, TINY_ASM_ID), { recursive: true, force: true });
    await cp(model.dir, path.join(modelsDir, 'medsam2'), { recursive: true });
    service = new InferenceService({ models: { dir: modelsDir, source: 'option' }, provider: CPU });
  }, 600_000);

  afterAll(async () => {
    await service?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('ask segments the windowed, inverted picture the CRM got; a refinement click segments the same picture', async () => {
    // The service hands each request's pixels to its worker (transferred): every call gets a fresh slice.
    const slice = monochrome1Slice();
    const result = await service.ask({ jobId: 'picture', slice: monochrome1Slice(), question: 'Where is the lesion?', window: WINDOW });
    expect(result.status).toBe('ok');
    expect(result.segmenter).toMatchObject({ kind: 'medsam2', id: 'medsam2' });
    const askPoints: PromptPoint[] = result.points!.map(([x, y]) => ({ x, y, label: 1 as const }));
    const refinePoints: PromptPoint[] = [...askPoints, { x: 60, y: 60, label: 0 }, { x: 100, y: 130, label: 1 }];
    const refined = await service.segment({ jobId: 'refine', slice: monochrome1Slice(), box: result.box, points: refinePoints, window: WINDOW });
    expect(refined.embeddingCached).toBe(true);

    const picture = slicePicture(slice, WINDOW);
    const reference = await sam2Reference(model.checkpoint, picture, WIDTH, HEIGHT, [
      { name: 'ask', prompts: { box: result.box, points: askPoints } },
      { name: 'refinement', prompts: { box: result.box, points: refinePoints } },
    ]);
    const outcomes = [
      { mask: pngToMask(Buffer.from(result.mask!.png, 'base64')).mask, score: result.score! },
      { mask: pngToMask(Buffer.from(refined.mask.png, 'base64')).mask, score: refined.score! },
    ];
    reference.cases.forEach((ref, i) => {
      const agreement = maskIou(outcomes[i]!.mask, ref.mask);
      console.log(`${ref.name}: IoU with SAM2ImagePredictor on the CRM's picture ${agreement.toFixed(5)}, score ${outcomes[i]!.score.toFixed(5)} vs ${ref.scores[ref.best]!.toFixed(5)}`);
      expect(agreement).toBeGreaterThanOrEqual(0.99);
      expect(Math.abs(outcomes[i]!.score - ref.scores[ref.best]!)).toBeLessThanOrEqual(1e-3);
    });
  }, 300_000);
});
