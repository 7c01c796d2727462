// Inference latency: the ASM's image encoder and prompt/mask decoder (the refinement path,
// embedding cached), the CRM's prefill (image + prompt to the first token) and decode speed
// (tokens/s), and the execution provider with its reason.
//   node bench/inference-latency.ts [--models <dir>] [--runs N] [--size S] [--json]
// Without --models it generates the tiny models (CPU figures only say the plumbing's cost);
// with a models folder holding MedReasoner-7B and MedSAM2 it measures the real ones.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyModels } from '../native-models/tiny/make-tiny-models.ts';
import { loadCrm } from '../electron/host/inference/crm-runner.ts';
import { decideExecutionProvider } from '../electron/host/inference/execution-provider.ts';
import { windowToUint8 } from '../electron/host/inference/image-prep.ts';
import { loadMedsam2 } from '../electron/host/inference/medsam2-segmenter.ts';
import { listInstalled, selectModel } from '../electron/host/models/registry.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(option('runs') ?? 5);
const size = Number(option('size') ?? 512);
const json = args.includes('--json');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

let modelsDir = option('models');
let temporary: string | null = null;
if (!modelsDir) {
  temporary = await mkdtemp(path.join(tmpdir(), 'medreasoner-bench-'));
  modelsDir = temporary;
  await writeTinyModels(modelsDir);
}
const decision = await decideExecutionProvider();
const installed = await listInstalled(modelsDir);
const crmModel = selectModel(installed, 'crm', decision.provider);
const asmModel = selectModel(installed, 'asm', decision.provider);

// A synthetic CT-like slice: soft tissue disc in air with a brighter blob.
const pixels = new Float32Array(size * size);
for (let y = 0; y < size; y++) {
  for (let x = 0; x < size; x++) {
    const r = Math.hypot(x - size / 2, y - size / 2) / (size / 2);
    const blob = Math.hypot(x - size * 0.35, y - size * 0.45) < size * 0.08;
    pixels[y * size + x] = r < 0.85 ? (blob ? 120 : 40) + ((x * 13 + y * 7) % 25) - 12 : -1000;
  }
}

const report: Record<string, unknown> = {
  provider: { name: decision.provider, reason: decision.reason },
  modelsDir,
  slice: `${size}×${size}`,
  runs,
};

if (asmModel) {
  const t0 = performance.now();
  const asm = await loadMedsam2({ dir: asmModel.dir, manifest: asmModel.manifest, variant: asmModel.variant, provider: decision.provider });
  const loadMs = performance.now() - t0;
  const encoder: number[] = [];
  const decoder: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const image = { key: `bench-${i}`, width: size, height: size, pixels, window: { lower: -160, upper: 240 }, picture: windowToUint8(pixels, { center: 40, width: 400 }) };
    const first = await asm.segment(image, { box: [size * 0.25, size * 0.3, size * 0.45, size * 0.6], points: [] });
    const refine = await asm.segment(image, { box: [size * 0.25, size * 0.3, size * 0.45, size * 0.6], points: [{ x: size * 0.35, y: size * 0.45, label: 1 }] });
    if (i === 0) continue; // warm-up
    encoder.push((first.timings.preprocess ?? 0) + (first.timings.encoder ?? 0));
    if (!refine.embeddingCached) throw new Error('the refinement did not reuse the cached embedding');
    decoder.push((refine.timings.decoder ?? 0) + (refine.timings.postprocess ?? 0));
  }
  await asm.dispose();
  report.asm = { model: `${asmModel.id} (${asmModel.variant})`, loadMs, encoderMs: median(encoder), decoderMs: median(decoder) };
} else report.asm = 'no ASM model installed';

if (crmModel) {
  const t0 = performance.now();
  const crm = await loadCrm({ dir: crmModel.dir, manifest: crmModel.manifest, variant: crmModel.variant, provider: decision.provider });
  const loadMs = performance.now() - t0;
  const grey = windowToUint8(pixels, { center: 40, width: 400 });
  const prefill: number[] = [];
  const tokensPerSecond: number[] = [];
  let lastRun = null;
  for (let i = 0; i < runs + 1; i++) {
    const run = await crm.run({ grey, width: size, height: size }, { question: 'Where is the lesion?' });
    lastRun = run;
    if (i === 0) continue;
    prefill.push(run.timings.prefill);
    if (run.timings.tokensPerSecond !== null) tokensPerSecond.push(run.timings.tokensPerSecond);
  }
  await crm.dispose();
  report.crm = {
    model: `${crmModel.id} (${crmModel.variant})`,
    loadMs,
    promptTokens: lastRun?.promptTokens,
    imageTokens: lastRun?.imageTokens,
    generatedTokens: lastRun?.generatedTokens,
    prefillMs: median(prefill),
    tokensPerSecond: tokensPerSecond.length > 0 ? median(tokensPerSecond) : null,
  };
} else report.crm = 'no CRM model installed';

if (temporary) await rm(temporary, { recursive: true, force: true });
if (json) console.log(JSON.stringify(report, null, 2));
else {
  const asm = report.asm as { model: string; loadMs: number; encoderMs: number; decoderMs: number } | string;
  const crm = report.crm as { model: string; loadMs: number; promptTokens: number; imageTokens: number; generatedTokens: number; prefillMs: number; tokensPerSecond: number | null } | string;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(`Execution provider: ${decision.provider.toUpperCase()} — ${decision.reason}`);
  console.log(`Models: ${modelsDir}${temporary ? ' (generated tiny models: figures measure the plumbing, not MedReasoner)' : ''}`);
  console.log(`Slice ${size}×${size}, median of ${runs} runs after one warm-up\n`);
  if (typeof asm === 'string') console.log(`ASM: ${asm}`);
  else console.log(`ASM ${asm.model}: load ${ms(asm.loadMs)}; encoder (preprocess + image encoder) ${ms(asm.encoderMs)}; decoder (prompt/mask decoder + resize) ${ms(asm.decoderMs)}`);
  if (typeof crm === 'string') console.log(`CRM: ${crm}`);
  else
    console.log(
      `CRM ${crm.model}: load ${ms(crm.loadMs)}; prompt ${crm.promptTokens} tokens (image ${crm.imageTokens}); prefill ${ms(crm.prefillMs)}; decode ${crm.tokensPerSecond?.toFixed(1) ?? '—'} tokens/s over ${crm.generatedTokens} tokens`,
    );
}
