// export_medreasoner.py on a random-weight Qwen2.5-VL with the 7B's structure, judged against
// PyTorch in the same run: the app's own loader (loadCrm → transformers.js → onnxruntime-node)
// must generate exactly PyTorch's greedy tokens with the fp32 export, every other variant must
// load and generate, and the dynamic-grid vision encoder must match HF's vision tower at the
// grids the processor makes of differently shaped images.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadCrm, type CrmImage } from '../../electron/host/inference/crm-runner.ts';
import { buildPrompt, readPromptFile } from '../../electron/host/inference/crm-prompt.ts';
import { readManifest } from '../../electron/host/models/manifest.ts';
import { projectPython } from './real-parts.ts';
import { ensureRandomQwen, RANDOM_QWEN_VARIANTS, type RandomQwen } from './random-qwen.ts';

const exec = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const NEW_TOKENS = 40;
const QUESTION = 'Which structure looks abnormal?';

/** A non-square slice (multiples of 28, so no resampling filter can differ between the two sides). */
function testSlice(): CrmImage {
  const width = 224;
  const height = 168;
  const grey = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.hypot(x - width / 2, y - height / 2) / (height / 2);
      const blob = Math.hypot(x - width * 0.35, y - height * 0.45) < height * 0.12;
      grey[y * width + x] = r < 0.9 ? (blob ? 190 : 70) + ((x * 13 + y * 7) % 40) : 4;
    }
  }
  return { grey, width, height };
}

function agreement(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

let model: RandomQwen;
let work: string;
let torchTokens: number[];

beforeAll(async () => {
  const started = performance.now();
  model = await ensureRandomQwen();
  console.log(`random Qwen2.5-VL + export: ${model.buildSeconds === null ? 'cached' : `built in ${model.buildSeconds.toFixed(1)} s`} (${path.relative(repo, model.exportDir)})`);
  work = await mkdtemp(path.join(tmpdir(), 'crm-parity-'));
  const slice = testSlice();
  const prompt = buildPrompt(await readPromptFile(model.exportDir), QUESTION);
  await writeFile(path.join(work, 'slice.u8'), slice.grey);
  await writeFile(path.join(work, 'prompt.txt'), prompt.text);
  const { stdout } = await exec(projectPython(), [
    path.join(repo, 'native-models/testing/torch_generate.py'),
    '--checkpoint', model.checkpoint,
    '--grey', path.join(work, 'slice.u8'), '--width', String(slice.width), '--height', String(slice.height),
    '--prompt', path.join(work, 'prompt.txt'),
    '--max-new-tokens', String(NEW_TOKENS),
  ], { maxBuffer: 64 * 1024 * 1024 });
  torchTokens = (JSON.parse(stdout.trim().split('\n').at(-1)!) as { tokens: number[] }).tokens;
  console.log(`PyTorch reference ready after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('CRM export parity (random-weight Qwen2.5-VL, CPU)', () => {
  test('PyTorch greedy reference is long enough to be meaningful', () => {
    expect(torchTokens.length).toBeGreaterThanOrEqual(32);
    // A degenerate random model repeating one token would make the parity trivially true.
    expect(new Set(torchTokens).size).toBeGreaterThan(8);
  });

  test('the app generates exactly PyTorch\u2019s tokens with the fp32 export', async () => {
    const manifest = await readManifest(path.join(model.exportDir, 'manifest.json'));
    const crm = await loadCrm({ dir: model.exportDir, manifest, variant: 'fp32', provider: 'cpu' });
    try {
      const result = await crm.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS });
      expect(result.seen).toEqual({ width: 224, height: 168 });
      expect(result.generatedIds!.length).toBeGreaterThanOrEqual(32);
      expect(result.generatedIds).toEqual(torchTokens);
    } finally {
      await crm.dispose();
    }
  }, 300_000);

  test.each(RANDOM_QWEN_VARIANTS.filter((v) => v !== 'fp32'))('the %s export loads in the app and generates', async (variant) => {
    const manifest = await readManifest(path.join(model.exportDir, 'manifest.json'));
    const crm = await loadCrm({ dir: model.exportDir, manifest, variant, provider: 'cpu' });
    try {
      const result = await crm.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS });
      const note = variant.startsWith('q4') ? ' (random weights: 4-bit rounding flips near-tied logits, so low agreement says nothing about real weights)' : '';
      console.log(`${variant}: ${agreement(result.generatedIds!, torchTokens)}/${torchTokens.length} leading tokens agree with PyTorch fp32${note}`);
      expect(result.generatedIds!.length).toBeGreaterThan(0);
      expect(result.imageTokens).toBe((168 / 28) * (224 / 28));
    } finally {
      await crm.dispose();
    }
  }, 300_000);

  test('the vision encoder takes any grid: HF\u2019s vision tower at 512², 256², 181×217 and 1024×768 matches the wrapper and the ONNX exports', async () => {
    const onnx = ['vision_encoder.onnx', 'vision_encoder_fp16.onnx'].map((f) => path.join(model.exportDir, 'onnx', f));
    const { stdout } = await exec(projectPython(), [
      path.join(repo, 'native-models/testing/check_vision_grids.py'), '--checkpoint', model.checkpoint, ...onnx.flatMap((f) => ['--onnx', f]),
    ], { maxBuffer: 64 * 1024 * 1024 });
    const records = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { source: string; image?: string; grid?: number[]; max_abs?: number; max_ref?: number; two_images_error?: string | null });
    const comparisons = records.filter((r) => r.image !== undefined);
    expect(new Set(comparisons.map((r) => r.image))).toEqual(new Set(['512x512', '256x256', '181x217', '1024x768']));
    expect(new Set(comparisons.map((r) => r.grid!.join('x'))).size).toBe(4);
    for (const r of comparisons) {
      const relative = r.max_abs! / r.max_ref!;
      console.log(`${path.basename(r.source)} ${r.image} grid ${r.grid!.join('x')}: max |Δ| ${r.max_abs!.toExponential(2)} (${relative.toExponential(2)} of max)`);
      // float32 reorders sums only; float16 keeps ~3 significant digits.
      expect(relative).toBeLessThan(r.source.endsWith('_fp16.onnx') ? 2e-2 : 1e-5);
    }
    const multi = records.filter((r) => 'two_images_error' in r);
    expect(multi).toHaveLength(2);
    for (const r of multi) expect(r.two_images_error).toBeTruthy();
  }, 300_000);
});
