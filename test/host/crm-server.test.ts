// The CRM on a real OpenAI-compatible server: `transformers serve` (the venv's transformers)
// on loopback, serving the random-weight Qwen2.5-VL checkpoint whose ONNX export the local
// path runs. The server must give the same greedy reply as the app's own ONNX run on the
// same slice and prompt; streaming, Cancel, a wrong key (through a loopback auth proxy of the
// test's own: transformers serve has no API-key option), an unknown model, and the server
// killed mid-answer are each run against it. The audit log gets one line per request.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadCrm, type CrmImage, type CrmRunResult } from '../../electron/host/inference/crm-runner.ts';
import { readPromptFile } from '../../electron/host/inference/crm-prompt.ts';
import { InferenceEngine } from '../../electron/host/inference/inference-engine.ts';
import { createAuditLog, AUDIT_FILE } from '../../electron/host/inference/remote/crm-audit.ts';
import { createRemoteCrm } from '../../electron/host/inference/remote/crm-remote.ts';
import { parseServerConfig } from '../../electron/host/inference/remote/crm-server-config.ts';
import { CrmServerError } from '../../electron/host/inference/remote/crm-server-error.ts';
import { probeServer } from '../../electron/host/inference/remote/crm-server-probe.ts';
import { readManifest } from '../../electron/host/models/manifest.ts';
import { ensureRandomQwen, type RandomQwen } from './random-qwen.ts';
import { startAuthProxy, startTransformersServe, type AuthProxy, type ServedModel } from './transformers-serve.ts';

const QUESTION = 'Which structure looks abnormal?';
const NEW_TOKENS = 40;

/** Not a multiple of 28 on purpose: the app must send what the server's processor would keep. */
function testSlice(): CrmImage {
  const width = 250;
  const height = 190;
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

let model: RandomQwen;
let served: ServedModel;
let proxy: AuthProxy;
let work: string;
let local: CrmRunResult;

const config = (overrides: Record<string, unknown> = {}) =>
  parseServerConfig({ name: 'test GPU', baseUrl: served.baseUrl, model: served.model, timeoutS: 60, maxInFlight: 4, ...overrides });

beforeAll(async () => {
  const started = performance.now();
  model = await ensureRandomQwen();
  work = await mkdtemp(path.join(tmpdir(), 'crm-server-'));
  served = await startTransformersServe(model.checkpoint);
  proxy = await startAuthProxy(served.baseUrl, 'right-key');
  const manifest = await readManifest(path.join(model.exportDir, 'manifest.json'));
  const crm = await loadCrm({ dir: model.exportDir, manifest, variant: 'fp32', provider: 'cpu' });
  try {
    local = await crm.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS });
  } finally {
    await crm.dispose();
  }
  console.log(`transformers serve + local reference ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
  await proxy?.close();
  await served?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('CRM on a real OpenAI-compatible server (transformers serve, random-weight Qwen2.5-VL)', () => {
  test('the server streams exactly the local ONNX path\u2019s greedy reply on the same slice and weights', async () => {
    const prompt = await readPromptFile(model.exportDir);
    const audit = createAuditLog(work);
    const remote = createRemoteCrm({ config: config(), prompt, audit });
    const pieces: { text: string; at: number }[] = [];
    const t0 = performance.now();
    const result = await remote.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS, onText: (text) => pieces.push({ text, at: performance.now() - t0 }), subject: { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sliceIndex: 7 } });
    const total = performance.now() - t0;
    // A degenerate reply would make the comparison trivially true.
    expect(local.generatedTokens).toBe(NEW_TOKENS);
    expect(new Set(local.generatedIds).size).toBeGreaterThan(8);
    expect(result.seen).toEqual(local.seen);
    expect(result.seen.width % 28).toBe(0);
    expect(result.rawText).toBe(local.rawText);
    expect(result.generatedTokens).toBe(local.generatedTokens);
    expect(result.truncated).toBe(true);
    expect(result.cancelled).toBe(false);
    expect(pieces.map((p) => p.text).join('')).toBe(result.rawText);
    // Streamed: many pieces, the first long before the reply ended.
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces[0]!.at).toBeLessThan(total * 0.8);
    const lines = (await readFile(path.join(work, AUDIT_FILE), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ server: 'test GPU', origin: new URL(served.baseUrl).origin, model: served.model, studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sliceIndex: 7, outcome: 'ok', imageWidth: result.seen.width, imageHeight: result.seen.height, completionTokens: NEW_TOKENS });
    expect(JSON.stringify(lines[0])).not.toMatch(/base64|image_url|Question|abnormal/);
  }, 300_000);

  test('Cancel aborts the request mid-answer and keeps what came; the server serves the next ask', async () => {
    const prompt = await readPromptFile(model.exportDir);
    const remote = createRemoteCrm({ config: config(), prompt });
    let pieces = 0;
    let cancelAt = 0;
    const t0 = performance.now();
    const result = await remote.run(testSlice(), {
      question: QUESTION,
      maxNewTokens: 1024,
      onText: () => {
        pieces++;
        if (pieces === 5) cancelAt = performance.now();
      },
      isCancelled: () => pieces >= 5,
    });
    expect(result.cancelled).toBe(true);
    expect(result.rawText.length).toBeGreaterThan(0);
    expect(local.rawText.startsWith(result.rawText.slice(0, 10))).toBe(true);
    expect(performance.now() - cancelAt).toBeLessThan(2000);
    expect(performance.now() - t0).toBeLessThan(60_000);
    const again = await remote.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS });
    expect(again.rawText).toBe(local.rawText);
  }, 300_000);

  test('a wrong API key is refused with a clear message; the right one answers (loopback auth proxy)', async () => {
    const prompt = await readPromptFile(model.exportDir);
    const wrong = createRemoteCrm({ config: config({ baseUrl: proxy.baseUrl, apiKey: 'wrong-key' }), prompt });
    const error = await wrong.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmServerError);
    expect((error as CrmServerError).kind).toBe('auth');
    expect((error as CrmServerError).message).toMatch(/refused the API key \(HTTP 401: Invalid API key\)/);
    const right = createRemoteCrm({ config: config({ baseUrl: proxy.baseUrl, apiKey: 'right-key' }), prompt });
    expect((await right.run(testSlice(), { question: QUESTION, maxNewTokens: NEW_TOKENS })).rawText).toBe(local.rawText);
    expect(proxy.requests.map((r) => r.authorized)).toEqual([false, true]);
    const probe = await probeServer(config({ baseUrl: proxy.baseUrl, apiKey: 'wrong-key' }));
    expect(probe.ok).toBe(false);
    expect(probe.failure?.kind).toBe('auth');
  }, 300_000);

  test('an unknown model is named; the connection test says what the server answers as', async () => {
    const prompt = await readPromptFile(model.exportDir);
    const remote = createRemoteCrm({ config: config({ model: 'zzzyzh/MedReasoner-7B' }), prompt });
    const error = (await remote.run(testSlice(), { question: QUESTION, maxNewTokens: 4 }).catch((e: unknown) => e)) as CrmServerError;
    expect(error.kind).toBe('unknown-model');
    expect(error.message).toContain('does not serve the model "zzzyzh/MedReasoner-7B"');
    const probe = await probeServer(config());
    expect(probe).toMatchObject({ ok: true, modelAnswers: true, failure: null });
    expect(probe.answeredAs).toContain(served.model);
    const bad = await probeServer(config({ model: 'zzzyzh/MedReasoner-7B' }));
    expect(bad.failure?.kind).toBe('unknown-model');
  }, 300_000);

  test('the engine asks the server: provenance names server and model, the ASM stays local, the audit has the slice\u2019s UIDs', async () => {
    const auditDir = path.join(work, 'engine');
    const engine = await InferenceEngine.create({
      models: { dir: path.join(work, 'no-models'), source: 'option' },
      provider: { provider: 'cpu', reason: 'test', probe: { attempted: false, error: null, ms: 0 } },
      crmServer: { config: config(), promptFile: path.join(model.exportDir, 'prompt.json'), auditDir },
    });
    const slice = testSlice();
    const tokens: string[] = [];
    const result = await engine.ask(
      {
        jobId: 'j1',
        slice: { seriesKey: 's1', sliceIndex: 3, width: slice.width, height: slice.height, pixels: Float32Array.from(slice.grey), invert: false, studyInstanceUid: '1.2.840.1', seriesInstanceUid: '1.2.840.1.2' },
        question: QUESTION,
        window: { center: 127.5, width: 255 },
        maxNewTokens: NEW_TOKENS,
      },
      { onToken: (t) => tokens.push(t) },
    );
    await engine.dispose();
    expect(result.crm.server).toEqual({ name: 'test GPU', origin: new URL(served.baseUrl).origin, model: served.model });
    expect(result.crm.label).toBe(`${served.model} on test GPU (${new URL(served.baseUrl).origin})`);
    expect(tokens.join('')).toBe(result.rawText);
    // Random weights write no <answer> and run into the token limit: truncated, the text kept.
    expect(result.status).toBe('failed');
    expect(result.failure?.kind).toBe('truncated');
    expect(result.rawText).toBe(local.rawText);
    const audit = JSON.parse((await readFile(path.join(auditDir, AUDIT_FILE), 'utf8')).trim()) as Record<string, unknown>;
    expect(audit).toMatchObject({ studyInstanceUid: '1.2.840.1', seriesInstanceUid: '1.2.840.1.2', seriesKey: 's1', sliceIndex: 3, outcome: 'ok' });
  }, 300_000);

  // Last: it kills the server.
  test('the server killed mid-answer: the ask fails as a cut stream and keeps the text received', async () => {
    const prompt = await readPromptFile(model.exportDir);
    const remote = createRemoteCrm({ config: config(), prompt });
    let pieces = 0;
    const error = (await remote
      .run(testSlice(), {
        question: QUESTION,
        maxNewTokens: 1024,
        onText: () => {
          pieces++;
          if (pieces === 5) served.process.kill('SIGKILL');
        },
      })
      .catch((e: unknown) => e)) as CrmServerError;
    expect(error).toBeInstanceOf(CrmServerError);
    expect(error.kind).toBe('stream-cut');
    expect(error.partialText.length).toBeGreaterThan(0);
    expect(local.rawText.startsWith(error.partialText.slice(0, 10))).toBe(true);
    expect(error.message).toMatch(/cut|closed the stream/);
    const next = (await remote.run(testSlice(), { question: QUESTION, maxNewTokens: 4 }).catch((e: unknown) => e)) as CrmServerError;
    expect(next.kind).toBe('refused');
    expect(next.message).toMatch(/refused the connection/);
  }, 300_000);
});
