// `medreasoner ask --server …` end to end on the embedded sample CT. Against a real
// `transformers serve` (random-weight Qwen2.5-VL): the one-slice ask gives the local ONNX
// path's exact reply on the same windowed slice, and a batch (--slices, --in-flight) writes
// one JSONL line per ask and resumes after an interruption. Random weights never write an
// <answer>, so the answer → ASM → mask → SEG/SR leg is driven by a scripted loopback server
// that streams a well-formed MedReasoner reply (a stand-in, not the real-server check).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAskCommand } from '../../electron/cli/commands/ask-command.ts';
import { loadCrm } from '../../electron/host/inference/crm-runner.ts';
import { windowToUint8 } from '../../electron/host/inference/image-prep.ts';
import { AUDIT_FILE } from '../../electron/host/inference/remote/crm-audit.ts';
import { seriesSlice, singleImageSeries } from '../../electron/host/inference/series-slice.ts';
import { readManifest } from '../../electron/host/models/manifest.ts';
import { writeSample } from '../../electron/host/sample/sample-store.ts';
import { ensureRandomQwen, type RandomQwen } from './random-qwen.ts';
import { startTransformersServe, type ServedModel } from './transformers-serve.ts';

const QUESTION = 'Which organ is enlarged?';
const WINDOW = { center: 40, width: 400 };
const TOKENS = 24;

let root: string;
let seriesDir: string;
let model: RandomQwen;
let served: ServedModel;
let home: string;

async function ask(args: string[], progress?: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const previous = process.env.MEDREASONER_HOME;
  process.env.MEDREASONER_HOME = home;
  try {
    const code = await runAskCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s), ...(progress ? { progress: (s: string) => progress.push(s) } : {}) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    if (previous === undefined) delete process.env.MEDREASONER_HOME;
    else process.env.MEDREASONER_HOME = previous;
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'cli-ask-server-'));
  home = path.join(root, 'home');
  await writeSample(path.join(root, 'sample'));
  seriesDir = path.join(root, 'sample', 'dicom');
  model = await ensureRandomQwen();
  served = await startTransformersServe(model.checkpoint);
}, 600_000);
afterAll(async () => {
  await served?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const serverArgs = () => ['--server', served.baseUrl, '--server-model', served.model, '--server-name', 'loopback GPU', '--prompt', path.join(model.exportDir, 'prompt.json')];

describe('medreasoner ask against a real OpenAI-compatible server', () => {
  test('--server answers one slice with the local ONNX path\u2019s exact reply, names the server, audits the request', async () => {
    const { code, out, err } = await ask(['--series', seriesDir, '--slice', '40', '--question', QUESTION, '--window', `${WINDOW.center},${WINDOW.width}`, '--max-new-tokens', String(TOKENS), '--json', ...serverArgs()]);
    const result = JSON.parse(out) as { crm: { server: unknown }; rawText: string; failure: { kind: string }; tokens: { generated: number }; image: { seen: { width: number } } };
    expect(err).toBe('');
    expect(code).toBe(1); // random weights: no <answer> within the limit
    expect(result.failure.kind).toBe('truncated');
    expect(result.crm.server).toEqual({ name: 'loopback GPU', origin: new URL(served.baseUrl).origin, model: served.model });
    const series = await singleImageSeries(seriesDir);
    const slice = await seriesSlice(series, 40);
    const crm = await loadCrm({ dir: model.exportDir, manifest: await readManifest(path.join(model.exportDir, 'manifest.json')), variant: 'fp32', provider: 'cpu' });
    try {
      const local = await crm.run({ grey: windowToUint8(slice.pixels, WINDOW, slice.invert), width: slice.width, height: slice.height }, { question: QUESTION, maxNewTokens: TOKENS });
      expect(result.rawText).toBe(local.rawText);
      expect(result.tokens.generated).toBe(local.generatedTokens);
      expect(result.image.seen.width).toBe(local.seen.width);
    } finally {
      await crm.dispose();
    }
    const audit = (await readFile(path.join(home, AUDIT_FILE), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({ server: 'loopback GPU', studyInstanceUid: series.summary.studyInstanceUid, seriesInstanceUid: series.summary.seriesInstanceUid, sliceIndex: 40, outcome: 'ok' });
  }, 300_000);

  test('a batch over --slices with --in-flight 4 writes one JSONL line per ask, and resumes after an interruption', async () => {
    const results = path.join(root, 'batch.jsonl');
    const args = ['--series', seriesDir, '--slices', '36-41', '--question', QUESTION, '--max-new-tokens', '8', '--in-flight', '4', '--results', results, '--json', ...serverArgs()];
    const first = await ask(args);
    const summary = JSON.parse(first.out) as { total: number; skipped: number; ok: number; failed: number };
    expect(summary).toMatchObject({ total: 6, skipped: 0 });
    const lines = (await readFile(results, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { slice: number; rawText: string; crm: { server: { model: string } } });
    expect(lines.map((l) => l.slice).sort((a, b) => a - b)).toEqual([36, 37, 38, 39, 40, 41]);
    for (const line of lines) {
      expect(line.crm.server.model).toBe(served.model);
      expect(line.rawText.length).toBeGreaterThan(0);
    }
    // Interrupted after two answers, the last line half-written: the rerun asks the other four.
    const kept = (await readFile(results, 'utf8')).trim().split('\n').slice(0, 2);
    await writeFile(results, `${kept.join('\n')}\n{"key": "[\\"cut`);
    const second = JSON.parse((await ask(args)).out) as { skipped: number };
    expect(second.skipped).toBe(2);
    const after = (await readFile(results, 'utf8')).split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).map((l) => JSON.parse(l) as { slice: number; rawText: string });
    expect(new Set(after.map((l) => l.slice))).toEqual(new Set([36, 37, 38, 39, 40, 41]));
    expect(after).toHaveLength(6);
    // The same slice gives the same greedy reply in both runs.
    const bySlice = new Map(lines.map((l) => [l.slice, l.rawText]));
    for (const line of after) expect(line.rawText).toBe(bySlice.get(line.slice));
    const third = JSON.parse((await ask(args)).out) as { skipped: number; ok: number; failed: number };
    expect(third).toMatchObject({ skipped: 6, ok: 0, failed: 0 });
  }, 300_000);
});

describe('the answer leg through a server (scripted loopback stand-in)', () => {
  test('box, points and mask come back, and the SEG and SR name the server and model', async () => {
    const reply = "<think>The enlarged organ is in the right upper abdomen.</think><answer>{'bbox': [60, 70, 140, 150], 'points_1': [100, 110], 'points_2': [90, 100]}</answer>";
    const scripted = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const piece of reply.match(/.{1,7}/g)!) res.write(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: { content: piece }, index: 0 }] })}\n\n`);
        res.end(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: {}, index: 0, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
      });
    });
    await new Promise<void>((resolve) => scripted.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(scripted.address() as AddressInfo).port}/v1`;
    try {
      const seg = path.join(root, 'answer-seg.dcm');
      const sr = path.join(root, 'answer-sr.dcm');
      const { code, out, err } = await ask(['--series', seriesDir, '--slice', '40', '--question', QUESTION, '--json', '--server', url, '--server-model', 'medreasoner-7b', '--server-name', 'scripted', '--prompt', path.join(model.exportDir, 'prompt.json'), '--seg', seg, '--sr', sr]);
      expect(err).toBe('');
      expect(code).toBe(0);
      const result = JSON.parse(out) as { reasoning: string; box: number[]; points: number[][]; mask: { area: number }; crm: { server: { origin: string } } };
      expect(result.reasoning).toBe('The enlarged organ is in the right upper abdomen.');
      expect(result.box).toHaveLength(4);
      expect(result.points).toHaveLength(2);
      expect(result.mask.area).toBeGreaterThan(0);
      const origin = new URL(url).origin;
      expect(result.crm.server.origin).toBe(origin);
      expect((await readFile(sr)).includes(Buffer.from(`served by ${origin}`))).toBe(true);
      expect((await readFile(seg)).includes(Buffer.from('medreasoner-7b'))).toBe(true);
    } finally {
      scripted.closeAllConnections();
      await new Promise((resolve) => scripted.close(resolve));
    }
  }, 300_000);
});

describe('batch from a JSONL file against a server (scripted loopback stand-in that counts open requests)', () => {
  test('--batch items.jsonl over two series folders keeps at most --in-flight requests open and answers each item once', async () => {
    let open = 0;
    let peak = 0;
    const questions: string[] = [];
    const stub = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        open++;
        peak = Math.max(peak, open);
        const text = ((JSON.parse(body) as { messages: { content: { type: string; text?: string }[] }[] }).messages[1]!.content.find((c) => c.type === 'text')!.text)!;
        questions.push(text);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // Slow enough that the lanes overlap.
        setTimeout(() => {
          res.end(`data: ${JSON.stringify({ model: 'm', choices: [{ delta: { content: '<think>x</think>' }, index: 0, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
          open--;
        }, 300);
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
    try {
      const second = path.join(root, 'sample-copy');
      await writeSample(second);
      const items = path.join(root, 'items.jsonl');
      const lines = [
        ...[30, 31, 32, 33, 34].map((slice) => ({ series: path.relative(root, seriesDir), slice, question: `first ${slice}?` })),
        ...[40, 41, 42].map((slice) => ({ series: path.join(second, 'dicom'), slice, question: `second ${slice}?` })),
      ];
      await writeFile(items, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const results = path.join(root, 'items-results.jsonl');
      const bar: string[] = [];
      const { code, out } = await ask(['--batch', items, '--results', results, '--in-flight', '3', '--json', '--server', url, '--server-model', 'm', '--prompt', path.join(model.exportDir, 'prompt.json')], bar);
      // On a terminal: a bar redrawn as asks start and end, ending full.
      expect(bar[0]).toMatch(/^\[\.{30}\] 0\/8 · 0 failed · 0 in flight/);
      expect(bar.some((line) => / 3 in flight /.test(line))).toBe(true);
      expect(bar.filter((line) => line !== '\n').at(-1)).toMatch(/^\[#{30}\] 8\/8 · 8 failed · 0 in flight/);
      expect(code).toBe(1); // every reply lacks an <answer>: each item is a failed ask, recorded
      expect(JSON.parse(out)).toMatchObject({ total: 8, skipped: 0, ok: 0, failed: 8 });
      expect(peak).toBe(3);
      expect(questions).toHaveLength(8);
      const written = (await readFile(results, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { series: string; slice: number; question: string; failure: { kind: string } });
      expect(new Set(written.map((w) => `${path.basename(path.dirname(w.series))}:${w.slice}:${w.question}`))).toEqual(new Set([...[30, 31, 32, 33, 34].map((s) => `sample:${s}:first ${s}?`), ...[40, 41, 42].map((s) => `sample-copy:${s}:second ${s}?`)]));
      expect(written.every((w) => w.failure.kind === 'no-answer')).toBe(true);
    } finally {
      stub.closeAllConnections();
      await new Promise((resolve) => stub.close(resolve));
    }
  }, 300_000);
});
