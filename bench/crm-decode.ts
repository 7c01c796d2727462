// The app's CRM speed against PyTorch on the same random-weight Qwen2.5-VL, in one CPU run:
// ask latency per stage (preprocess, prefill = image + prompt to the first token, decode) and
// decode tokens/s, for the fp32 and q4 exports (loadCrm + generate, as `medreasoner ask`
// runs them) and for PyTorch's generate() (float32, eager attention).
//   node bench/crm-decode.ts [--scale narrow7b|small|tiny] [--tokens N] [--size S] [--json]
// narrow7b has the 7B's depth (28 layers, 32 vision blocks), head size and KV layout with
// narrow widths: the per-token work of the runtime (28 layers of cache concat, attention and
// kernel launches) is the 7B's, the FLOPs are not. It is built once into .cache/random-models/.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildPrompt, readPromptFile } from '../electron/host/inference/crm-prompt.ts';
import { loadCrm, type CrmImage } from '../electron/host/inference/crm-runner.ts';
import { readManifest } from '../electron/host/models/manifest.ts';
import { projectPython } from '../test/host/real-parts.ts';
import { ensureRandomQwen } from '../test/host/random-qwen.ts';

const exec = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const scale = (option('scale') ?? 'narrow7b') as 'narrow7b' | 'small' | 'tiny';
const tokens = Number(option('tokens') ?? 48);
const size = Number(option('size') ?? 336);
const json = args.includes('--json');
const QUESTION = 'Where is the abnormality?';

function ctSlice(n: number): CrmImage {
  const grey = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const r = Math.hypot(x - n / 2, y - n / 2) / (n / 2);
      const blob = Math.hypot(x - n * 0.35, y - n * 0.45) < n * 0.08;
      grey[y * n + x] = r < 0.85 ? (blob ? 180 : 80) + ((x * 13 + y * 7) % 25) : 3;
    }
  }
  return { grey, width: n, height: n };
}

interface Row {
  runtime: string;
  loadMs: number | null;
  preprocessMs: number;
  prefillMs: number;
  decodeMs: number;
  generated: number;
  tokensPerSecond: number | null;
}

const buildStarted = performance.now();
const model = await ensureRandomQwen({ scale, variants: ['fp32', 'q4'], checkTokens: 4 });
const buildSeconds = (performance.now() - buildStarted) / 1000;
const slice = ctSlice(size);
const rows: Row[] = [];
let imageTokens = 0;
let promptTokens = 0;

for (const variant of ['fp32', 'q4']) {
  const manifest = await readManifest(path.join(model.exportDir, 'manifest.json'));
  const t0 = performance.now();
  const crm = await loadCrm({ dir: model.exportDir, manifest, variant, provider: 'cpu' });
  const loadMs = performance.now() - t0;
  await crm.run(slice, { question: QUESTION, maxNewTokens: 2 }); // warm-up: first-run allocations
  const result = await crm.run(slice, { question: QUESTION, maxNewTokens: tokens });
  await crm.dispose();
  imageTokens = result.imageTokens;
  promptTokens = result.promptTokens;
  rows.push({
    runtime: `app ${variant} (transformers.js + onnxruntime-node)`,
    loadMs,
    preprocessMs: result.timings.preprocess,
    prefillMs: result.timings.prefill,
    decodeMs: result.timings.decode,
    generated: result.generatedTokens,
    tokensPerSecond: result.timings.tokensPerSecond,
  });
}

const work = await mkdtemp(path.join(tmpdir(), 'crm-decode-'));
try {
  const prompt = buildPrompt(await readPromptFile(model.exportDir), QUESTION);
  await writeFile(path.join(work, 'slice.u8'), slice.grey);
  await writeFile(path.join(work, 'prompt.txt'), prompt.text);
  const { stdout } = await exec(projectPython(), [
    path.join(repo, 'native-models/testing/torch_generate.py'), '--checkpoint', model.checkpoint,
    '--grey', path.join(work, 'slice.u8'), '--width', String(size), '--height', String(size),
    '--prompt', path.join(work, 'prompt.txt'), '--max-new-tokens', String(tokens),
  ], { maxBuffer: 64 * 1024 * 1024 });
  const torch = JSON.parse(stdout.trim().split('\n').at(-1)!) as { tokens: number[]; seconds: { preprocess: number; prefill: number; decode: number }; decodeTokensPerSecond: number | null };
  rows.push({
    runtime: 'PyTorch fp32 generate() (eager)',
    loadMs: null,
    preprocessMs: torch.seconds.preprocess * 1000,
    prefillMs: torch.seconds.prefill * 1000,
    decodeMs: torch.seconds.decode * 1000,
    generated: torch.tokens.length,
    tokensPerSecond: torch.decodeTokensPerSecond,
  });
} finally {
  await rm(work, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify({ scale, slice: `${size}×${size}`, imageTokens, promptTokens, buildSeconds, rows }, null, 2));
} else {
  console.log(`random-weight Qwen2.5-VL (${scale}), CPU, ${size}×${size} slice → ${imageTokens} image tokens, ${promptTokens} prompt tokens, up to ${tokens} new tokens (fixture ${buildSeconds.toFixed(0)} s)\n`);
  console.log('| runtime | load | preprocess | prefill | decode | tokens | decode tokens/s |');
  console.log('|---|---|---|---|---|---|---|');
  const ms = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} ms`);
  for (const r of rows) {
    console.log(`| ${r.runtime} | ${ms(r.loadMs)} | ${ms(r.preprocessMs)} | ${ms(r.prefillMs)} | ${ms(r.decodeMs)} | ${r.generated} | ${r.tokensPerSecond === null ? '—' : r.tokensPerSecond.toFixed(1)} |`);
  }
  console.log('\nPyTorch decode = generate(N) − generate(1) (prefill measured by generate(1)); the app\u2019s stages come from crm-runner.ts timings.');
}
