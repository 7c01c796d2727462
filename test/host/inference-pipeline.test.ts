// The whole ask pipeline on the tiny models, for real: slice → 8-bit window → Qwen2.5-VL
// processor → vision encoder, embeddings, decoder with KV cache (transformers.js over ONNX
// Runtime, in the inference process) → streamed tokens → parse → map to the slice →
// MedSAM2-layout ASM → mask. Answers the seed would use are used with warnings (box clipped
// or reversed, key point outside the box). And every failure mode: no answer, malformed,
// truncated, cancelled, no model, an old fixed-grid export, missing / truncated / corrupt
// model files.
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyModels, TINY_ASM_ID, TINY_CRM_ID } from '../../native-models/tiny/make-tiny-models.ts';
import { TINY_DEFAULT_ANSWER } from '../../native-models/tiny/tiny-crm.ts';
import type { ProviderDecision } from '../../electron/host/inference/execution-provider.ts';
import { InferenceError, type SliceInput } from '../../electron/host/inference/inference-engine.ts';
import { InferenceService } from '../../electron/host/inference/inference-service.ts';
import { maskBox } from '../../electron/host/inference/ground-truth-prompts.ts';
import { pngToMask } from '../../electron/host/inference/mask-png.ts';
import { maskDice } from '../../electron/host/inference/metrics.ts';
import { verifyInstalled } from '../../electron/host/models/install.ts';

const CPU: ProviderDecision = { provider: 'cpu', reason: 'tests run on the CPU', probe: { attempted: false, error: null, ms: 0 } };

/** Qwen2.5-VL's smart_resize for sizes inside the pixel limits and off the halves: round to multiples of 28. */
const seenSize = (n: number) => Math.round(n / 28) * 28;

function slice(width: number, height: number, index = 0): SliceInput {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = -200 + ((x * 7 + y * 3) % 400);
  return { seriesKey: 'series-1', sliceIndex: index, width, height, pixels, invert: false };
}

function rectangle(width: number, height: number, box: number[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = box[1]!; y <= box[3]!; y++) for (let x = box[0]!; x <= box[2]!; x++) mask[y * width + x] = 1;
  return mask;
}

let root: string;
const services: InferenceService[] = [];
function service(modelsDir: string, hooks: Partial<ConstructorParameters<typeof InferenceService>[0]> = {}): InferenceService {
  const s = new InferenceService({ models: { dir: modelsDir, source: 'option' }, provider: CPU, ...hooks });
  services.push(s);
  return s;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'medreasoner-pipeline-'));
});
afterAll(async () => {
  for (const s of services) await s.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('ask on the tiny models', () => {
  let modelsDir: string;
  beforeAll(async () => {
    modelsDir = path.join(root, 'models');
    await writeTinyModels(modelsDir);
  });

  test('parses the scripted answer, maps it to the slice and segments it; tokens stream', async () => {
    const streamed: string[] = [];
    const stages: string[] = [];
    const s = service(modelsDir, { onToken: (_job, text) => streamed.push(text), onStage: (_job, stage, state) => stages.push(`${stage}:${state}`) });
    const width = 256;
    const height = 320;
    const result = await s.ask({ jobId: 'job-1', slice: slice(width, height), question: 'Which organ looks abnormal?' });

    expect(result.status).toBe('ok');
    expect(result.failure).toBeNull();
    expect(result.rawText).toBe(TINY_DEFAULT_ANSWER);
    expect(streamed.join('')).toBe(TINY_DEFAULT_ANSWER);
    expect(result.reasoning).toBe(/<think>([\s\S]*)<\/think>/.exec(TINY_DEFAULT_ANSWER)![1]);
    expect(result.modelAnswer).toEqual({ bbox: [40, 60, 120, 150], points: [[70, 100], [95, 120]] });
    expect(result.image.seen).toEqual({ width: seenSize(width), height: seenSize(height) });
    const sx = width / seenSize(width);
    const sy = height / seenSize(height);
    expect(result.box).toEqual([Math.round(40 * sx), Math.round(60 * sy), Math.round(120 * sx), Math.round(150 * sy)]);
    expect(result.points![0][0]).toBeCloseTo(70 * sx, 6);
    expect(result.points![1][1]).toBeCloseTo(120 * sy, 6);
    expect(result.crm.id).toBe(TINY_CRM_ID);
    expect(result.segmenter).toMatchObject({ kind: 'medsam2', id: TINY_ASM_ID });
    expect(result.score).toBeCloseTo(0.9, 5); // the best of the three masks by predicted IoU

    // The tiny ASM's mask is the rectangle spanned by the prompts: the CRM's box, in slice pixels.
    const mask = pngToMask(Buffer.from(result.mask!.png, 'base64'));
    expect([mask.width, mask.height]).toEqual([width, height]);
    const expected = rectangle(width, height, result.box!);
    expect(maskDice(mask.mask, expected)).toBeGreaterThan(0.97);
    const bounds = maskBox(mask.mask, width, height)!;
    bounds.forEach((v, i) => expect(Math.abs(v - result.box![i]!)).toBeLessThanOrEqual(1));
    expect(result.mask!.area).toBe(mask.mask.reduce((a, b) => a + b, 0));

    for (const key of ['crmPrefill', 'crmDecode', 'asmEncoder', 'asmDecoder', 'total']) expect(result.timings[key]).toBeGreaterThan(0);
    expect(result.tokens.generated).toBeGreaterThan(10);
    expect(stages).toEqual(expect.arrayContaining(['queued:started', 'load-crm:finished', 'crm:finished', 'parse:finished', 'asm:finished', 'done:finished']));
  });

  test('a refinement on the same slice reuses the image embedding (decoder only)', async () => {
    const s = service(modelsDir);
    const image = slice(200, 200, 7);
    const first = await s.segment({ jobId: 'seg-1', slice: image, box: [20, 30, 120, 140], points: [] });
    const second = await s.segment({ jobId: 'seg-2', slice: slice(200, 200, 7), box: [20, 30, 120, 140], points: [{ x: 10, y: 10, label: 1 }] });
    expect(first.embeddingCached).toBe(false);
    expect(first.timings.encoder).toBeGreaterThan(0);
    expect(second.embeddingCached).toBe(true);
    expect(second.timings.encoder).toBeUndefined();
    // The new point widens the spanned rectangle to (10, 10).
    const bounds = maskBox(pngToMask(Buffer.from(second.mask.png, 'base64')).mask, 200, 200)!;
    expect(bounds[0]).toBeLessThanOrEqual(11);
    expect(bounds[1]).toBeLessThanOrEqual(11);
  });

  test('cancelling a running ask stops generation and reports it', async () => {
    let cancelled = false;
    const s = service(modelsDir, {
      onToken: (jobId) => {
        if (!cancelled) {
          cancelled = true;
          s.cancel(jobId);
        }
      },
    });
    const result = await s.ask({ jobId: 'cancel-me', slice: slice(128, 128), question: 'q' });
    expect(result.status).toBe('cancelled');
    expect(result.failure?.kind).toBe('cancelled');
    // The cancel crosses to the inference process and is read between tokens: generation
    // stops a round trip after the first streamed piece, well before the whole reply.
    const whole = await service(modelsDir).ask({ jobId: 'not-cancelled', slice: slice(128, 128), question: 'q' });
    expect(whole.status).toBe('ok');
    expect(result.tokens.generated).toBeLessThan(whole.tokens.generated / 3);
    expect(result.mask).toBeNull();
  });

  test('a queued job that is cancelled never runs', async () => {
    const s = service(modelsDir);
    const first = s.ask({ jobId: 'first', slice: slice(256, 256), question: 'q' });
    const second = s.ask({ jobId: 'second', slice: slice(256, 256), question: 'q' });
    expect(s.cancel('second')).toBe(true);
    await expect(second).rejects.toMatchObject({ code: 'cancelled' });
    expect((await first).status).toBe('ok');
  });

  test('max_new_tokens running out is reported as truncated, with the raw text', async () => {
    const s = service(modelsDir);
    const result = await s.ask({ jobId: 'short', slice: slice(128, 128), question: 'q', maxNewTokens: 12 });
    expect(result.status).toBe('failed');
    expect(result.failure?.kind).toBe('truncated');
    expect(TINY_DEFAULT_ANSWER.startsWith(result.rawText)).toBe(true);
    expect(result.rawText.length).toBeGreaterThan(0);
  });
});

describe('the image the CRM sees', () => {
  test('a non-square slice keeps its aspect (multiples of 28); coordinates map back per axis', async () => {
    const modelsDir = path.join(root, 'aspect');
    await writeTinyModels(modelsDir);
    const result = await service(modelsDir).ask({ jobId: 'aspect', slice: slice(300, 200), question: 'q' });
    expect(result.status).toBe('ok');
    expect(result.image.seen).toEqual({ width: seenSize(300), height: seenSize(200) });
    const sx = 300 / seenSize(300);
    const sy = 200 / seenSize(200);
    expect(result.box).toEqual([Math.round(40 * sx), Math.round(60 * sy), Math.round(120 * sx), Math.round(150 * sy)]);
    expect(result.tokens.image).toBe((seenSize(300) / 28) * (seenSize(200) / 28));
  });

  test('an old export traced at one image grid (medreasoner_fixed_size) is refused with what to do', async () => {
    const modelsDir = path.join(root, 'fixed');
    await writeTinyModels(modelsDir, { crm: { legacyFixedSize: 252 } });
    const error = (await service(modelsDir).ask({ jobId: 'fixed', slice: slice(300, 200), question: 'q' }).catch((e: unknown) => e)) as InferenceError;
    expect(error).toBeInstanceOf(InferenceError);
    expect(error.code).toBe('model-broken');
    expect(error.message).toMatch(/traced at one image grid \(preprocessor_config.json medreasoner_fixed_size 252\)/);
    expect(error.message).toMatch(/Re-export the model with the current native-models\/export_medreasoner.py/);
  });
});

describe('answers the seed would use: used, each fix a warning', () => {
  const cases: { name: string; answer: string; warnings: RegExp[]; box: (s: number) => number[]; outside?: number }[] = [
    {
      name: 'a box reaching past the image is clipped to it',
      answer: "<think>x</think><answer>{'bbox': [40, 60, 400, 150], 'points_1': [70, 100], 'points_2': [95, 120]}</answer>",
      warnings: [/bbox \[40, 60, 400, 150\] reaches outside the 252×252 image the model saw: clipped to \[40, 60, 252, 150\]/],
      box: (k) => [40, 60, 252, 150].map((v) => Math.min(255, Math.round(v * k))),
    },
    {
      name: 'a key point outside the box is kept and flagged',
      answer: "<think>x</think><answer>{'bbox': [40, 60, 120, 150], 'points_1': [10, 100], 'points_2': [95, 120]}</answer>",
      warnings: [/points_1 \[10, 100\] lies outside the bbox \(kept\)/],
      box: (k) => [40, 60, 120, 150].map((v) => Math.round(v * k)),
      outside: 0,
    },
    {
      name: 'a reversed box is put the right way round; floats are read',
      answer: "<think>x</think><answer>{'bbox': [120.5, 150, 40, 60.25], 'points_1': [70, 100.5], 'points_2': [95, 120]}</answer>",
      warnings: [/bbox x corners reversed \(120.5 > 40\): swapped/, /bbox y corners reversed \(150 > 60.25\): swapped/],
      box: (k) => [40, 60.25, 120.5, 150].map((v) => Math.round(v * k)),
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const modelsDir = path.join(root, `fix-${cases.indexOf(c)}`);
      await writeTinyModels(modelsDir, { crm: { answer: c.answer } });
      const result = await service(modelsDir).ask({ jobId: 'w', slice: slice(256, 256), question: 'q' });
      expect(result.status).toBe('ok');
      expect(result.failure).toBeNull();
      expect(result.warnings).toHaveLength(c.warnings.length);
      c.warnings.forEach((w, i) => expect(result.warnings[i]).toMatch(w));
      expect(result.box).toEqual(c.box(256 / 252));
      expect(result.mask!.area).toBeGreaterThan(0);
      if (c.outside !== undefined) {
        const [x, y] = result.points![c.outside]!;
        const [x0, y0, x1, y1] = result.box!;
        expect(x < x0! || x > x1! || y < y0! || y > y1!).toBe(true);
      }
    });
  }
});

describe('answers that fail', () => {
  const cases: { name: string; answer: string; kind: string; message: RegExp }[] = [
    { name: 'no answer block', answer: '<think>The image shows no clear abnormality.</think> I cannot localise it.', kind: 'no-answer', message: /no <answer> block/ },
    { name: 'malformed JSON', answer: "<think>x</think><answer>{'bbox': [40, 60, 120], 'points_1': [70, 100], 'points_2': [95, 120]}</answer>", kind: 'malformed-answer', message: /"bbox" has 3 values/ },
    { name: 'a key missing', answer: "<think>x</think><answer>{'bbox': [40, 60, 120, 150], 'points_1': [70, 100]}</answer>", kind: 'malformed-answer', message: /"points_2" is missing/ },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.kind}, raw text kept, no mask`, async () => {
      const modelsDir = path.join(root, `fail-${c.kind}-${cases.indexOf(c)}`);
      await writeTinyModels(modelsDir, { crm: { answer: c.answer } });
      const result = await service(modelsDir).ask({ jobId: 'f', slice: slice(256, 256), question: 'q' });
      expect(result.status).toBe('failed');
      expect(result.failure?.kind).toBe(c.kind);
      expect(result.failure?.message).toMatch(c.message);
      expect(result.rawText).toBe(c.answer);
      expect(result.mask).toBeNull();
      expect(result.box).toBeNull();
    });
  }
});

describe('models that are missing or damaged', () => {
  test('no CRM installed: a model-missing error that says how to install one', async () => {
    const empty = path.join(root, 'empty');
    const s = service(empty);
    const error = await s.ask({ jobId: 'x', slice: slice(64, 64), question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    expect((error as InferenceError).code).toBe('model-missing');
    expect((error as InferenceError).message).toMatch(/medreasoner models install medreasoner-7b --from/);
    const status = await s.status();
    expect(status.crm.state).toBe('missing');
    expect(status.asm.state).toBe('default');
    expect(status.provider).toEqual({ name: 'cpu', reason: CPU.reason });
  });

  test('without MedSAM2, segment uses the default segmenter and says so', async () => {
    const result = await service(path.join(root, 'empty')).segment({ jobId: 's', slice: slice(64, 64), box: [10, 10, 40, 40], points: [{ x: 25, y: 25, label: 1 }] });
    expect(result.segmenter.kind).toBe('default');
    expect(result.segmenter.label).toMatch(/^Default segmenter/);
  });

  test('a missing .onnx_data is caught before ONNX Runtime sees it (the process survives), naming the file', async () => {
    const modelsDir = path.join(root, 'missing-data');
    const { crmDir } = await writeTinyModels(modelsDir);
    await unlink(path.join(crmDir, 'onnx', 'decoder_model_merged.onnx_data'));
    const s = service(modelsDir);
    expect((await s.status()).crm).toMatchObject({ state: 'broken', message: expect.stringContaining('onnx/decoder_model_merged.onnx_data is missing') });
    const error = (await s.ask({ jobId: 'x', slice: slice(64, 64), question: 'q' }).catch((e: unknown) => e)) as InferenceError;
    expect(error.code).toBe('model-broken');
    expect(error.message).toContain('decoder_model_merged.onnx_data is missing');
    // The worker is still alive and answers.
    expect((await s.segment({ jobId: 's', slice: slice(64, 64), box: [1, 1, 30, 30], points: [] })).segmenter.kind).toBe('medsam2');
  });

  test('a truncated external data file is caught by size, naming the expected size', async () => {
    const modelsDir = path.join(root, 'truncated');
    const { asmDir } = await writeTinyModels(modelsDir);
    const file = path.join(asmDir, 'onnx', 'vision_encoder.onnx_data');
    const size = (await readFile(file)).length;
    await truncate(file, Math.floor(size / 2));
    const s = service(modelsDir);
    const status = await s.status();
    expect(status.asm.state).toBe('broken');
    expect(status.asm.message).toMatch(new RegExp(`vision_encoder.onnx_data is .* expected .*\\(${size} bytes\\): truncated`));
    await expect(s.segment({ jobId: 's', slice: slice(64, 64), box: [1, 1, 30, 30], points: [] })).rejects.toMatchObject({ code: 'model-broken' });
  });

  test('external data cut short behind the manifest\u2019s back (manifest updated) is still caught from the ONNX references', async () => {
    const modelsDir = path.join(root, 'short-data');
    const { asmDir } = await writeTinyModels(modelsDir);
    const dataFile = path.join(asmDir, 'onnx', 'vision_encoder.onnx_data');
    await truncate(dataFile, 1000);
    // Someone "fixed" the manifest to the new size: the ONNX file's own references still catch it.
    const manifestFile = path.join(asmDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    for (const f of manifest.files) if (f.path === 'onnx/vision_encoder.onnx_data') f.size = 1000;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const status = await service(modelsDir).status();
    expect(status.asm.state).toBe('broken');
    expect(status.asm.message).toMatch(/vision_encoder.onnx_data is 1000 bytes but vision_encoder.onnx needs \d+: truncated/);
  });

  test('a corrupt file of the right size is found by verify (sha256), naming both hashes', async () => {
    const modelsDir = path.join(root, 'corrupt');
    const { crmDir } = await writeTinyModels(modelsDir);
    const file = path.join(crmDir, 'onnx', 'embed_tokens.onnx');
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(file, bytes);
    const { problems } = await verifyInstalled(crmDir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'onnx/embed_tokens.onnx', kind: 'sha256-mismatch', message: expect.stringMatching(/has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/) });
  });
});
