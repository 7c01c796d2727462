// The CRM on a server against the CRM in the app: asks/s and p50/p95 latency of one batch
// of asks (CRM → ASM, the app's engine) at 1, 4 and 16 requests in flight against
// `transformers serve` on loopback serving the random-weight Qwen2.5-VL, beside the same
// batch run locally (the app's ONNX export of the same weights) one at a time.
//   node bench/crm-server.ts [--asks N] [--tokens T] [--json]
//   node bench/crm-server.ts --server <url> --server-model <id> --prompt <prompt.json>   (a real server;
//     key in MEDREASONER_CRM_API_KEY; the local row is then skipped)
// Random weights never stop early, so every ask decodes exactly T tokens: the figures say
// what the plumbing and the server's scheduling cost, not MedReasoner-7B's speed on a GPU.
// transformers serve without --continuous-batching runs one generate() per request; vLLM
// batches them (see README, "Production: the CRM on a GPU server").
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InferenceEngine } from '../electron/host/inference/inference-engine.ts';
import { parseServerConfig } from '../electron/host/inference/remote/crm-server-config.ts';
import { ensureRandomQwen } from '../test/host/random-qwen.ts';
import { startTransformersServe } from '../test/host/transformers-serve.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const asks = Number(option('asks') ?? 16);
const tokens = Number(option('tokens') ?? 32);
const json = args.includes('--json');
const provider = { provider: 'cpu' as const, reason: 'benchmark', probe: { attempted: false, error: null, ms: 0 } };

function slice(i: number) {
  const width = 250;
  const height = 190;
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = Math.hypot(x - 125 - i, y - 95) < 80 ? 80 + ((x * 7 + y * 3 + i) % 60) : 5;
  return { seriesKey: 'bench', sliceIndex: i, width, height, pixels, invert: false };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function batch(engine: InferenceEngine, inFlight: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (;;) {
      const i = next++;
      if (i >= asks) return;
      const t0 = performance.now();
      const result = await engine.ask({ jobId: `b${i}`, slice: slice(i), question: `Where is finding ${i}?`, window: { center: 128, width: 256 }, maxNewTokens: tokens });
      if (result.failure?.kind === 'server') throw new Error(result.failure.message);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { asksPerSecond: asks / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), seconds };
}

const external = option('server');
const model = external ? null : await ensureRandomQwen();
const served = model ? await startTransformersServe(model.checkpoint) : { baseUrl: external!, model: option('server-model') ?? '', stop: async () => {} };
const promptFile = option('prompt') ?? (model ? path.join(model.exportDir, 'prompt.json') : '');
if (external && (!served.model || !promptFile)) throw new Error('--server needs --server-model <id> and --prompt <prompt.json>');
const apiKey = process.env.MEDREASONER_CRM_API_KEY;
const work = await mkdtemp(path.join(tmpdir(), 'bench-crm-server-'));
const rows: { mode: string; inFlight: number; asksPerSecond: number; p50: number; p95: number; seconds: number }[] = [];
try {
  for (const inFlight of [1, 4, 16]) {
    const engine = await InferenceEngine.create({
      models: { dir: path.join(work, 'none'), source: 'option' },
      provider,
      crmServer: { config: parseServerConfig({ name: external ? new URL(served.baseUrl).host : 'loopback', baseUrl: served.baseUrl, model: served.model, maxInFlight: inFlight, timeoutS: 600, ...(apiKey ? { apiKey } : {}) }), promptFile, auditDir: work },
    });
    await batch(engine, 1).catch(() => {}); // warm the server's first request
    rows.push({ mode: external ? `server ${served.baseUrl}` : 'server (transformers serve, CPU)', inFlight, ...(await batch(engine, inFlight)) });
    await engine.dispose();
  }
  if (model) {
    const modelsDir = path.join(work, 'models');
    await mkdir(modelsDir);
    await symlink(model.exportDir, path.join(modelsDir, 'medreasoner-7b'));
    const local = await InferenceEngine.create({ models: { dir: modelsDir, source: 'option' }, provider });
    await local.warm();
    const label = (await local.status()).crm.label;
    rows.push({ mode: `local ONNX, ${label}`, inFlight: 1, ...(await batch(local, 1)) });
    await local.dispose();
  }
} finally {
  await served.stop();
  await rm(work, { recursive: true, force: true });
}

if (json) console.log(JSON.stringify({ asks, tokens, rows }, null, 2));
else {
  console.log(`${asks} asks (CRM ≤ ${tokens} tokens → default segmenter), ${external ? served.model : "random-weight Qwen2.5-VL (tiny), this machine's CPU"}\n`);
  console.log('| CRM | in flight | asks/s | p50 ms | p95 ms | batch s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.mode} | ${r.inFlight} | ${r.asksPerSecond.toFixed(2)} | ${Math.round(r.p50)} | ${Math.round(r.p95)} | ${r.seconds.toFixed(1)} |`);
}
