// How the server CRM fails, against small loopback HTTP servers that misbehave on purpose
// (the real-server behaviour is in crm-server.test.ts): busy with Retry-After, 5xx, a chunk
// that is not JSON, an error object mid-stream, silence past the timeout, plain HTTP spoken
// to an https:// URL, nothing listening. Also the settings: plain HTTP off this machine
// needs confirmation, and an API key never follows the server to another origin.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PromptFile } from '../../electron/host/inference/crm-prompt.ts';
import { createRemoteCrm } from '../../electron/host/inference/remote/crm-remote.ts';
import { CrmServerConfigError, parseServerConfig } from '../../electron/host/inference/remote/crm-server-config.ts';
import { CrmServerError } from '../../electron/host/inference/remote/crm-server-error.ts';
import { CrmSettingsStore, viewOfServer } from '../../electron/host/inference/remote/crm-server-settings.ts';
import { freePort } from './transformers-serve.ts';

const prompt: PromptFile = {
  format: 'medreasoner-prompt',
  version: 1,
  source: 'test',
  fill: 'python-format',
  answerExample: "{'bbox': [xmin, ymin, xmax, ymax]}",
  default: 'think',
  variants: { think: '<image>\nQuestion: {Question}\nExample: {Answer}' },
};
const image = { grey: new Uint8Array(56 * 56).fill(80), width: 56, height: 56 };

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string, attempt: number) => void;
let handler: Handler = () => {};
let attempts = 0;
let server: http.Server;
let baseUrl: string;
let work: string;

const chunk = (content: string, finish: string | null = null) => `data: ${JSON.stringify({ model: 'm', choices: [{ delta: { content }, index: 0, finish_reason: finish }] })}\n\n`;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => handler(req, res, body, attempts++));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  work = await mkdtemp(path.join(tmpdir(), 'crm-fail-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

function crm(overrides: Record<string, unknown> = {}) {
  attempts = 0;
  return createRemoteCrm({ config: parseServerConfig({ name: 'stub', baseUrl, model: 'm', timeoutS: 2, ...overrides }), prompt });
}
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as CrmServerError);

describe('server CRM failures', () => {
  test('the request is the seed\u2019s: system turn, PNG data URL then the exact prompt text, temperature 0, the token limit', async () => {
    let seen: Record<string, unknown> = {};
    handler = (req, res, body) => {
      seen = { ...(JSON.parse(body) as Record<string, unknown>), authorization: req.headers.authorization };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('<think>x</think>')}${chunk('', 'stop')}data: [DONE]\n\n`);
    };
    const result = await crm({ apiKey: 'k1' }).run(image, { question: 'Where?' });
    expect(result.rawText).toBe('<think>x</think>');
    const messages = seen.messages as { role: string; content: unknown }[];
    expect(messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
    const content = messages[1]!.content as { type: string; image_url?: { url: string }; text?: string }[];
    expect(content.map((c) => c.type)).toEqual(['image_url', 'text']);
    expect(content[0]!.image_url!.url).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect(content[1]!.text).toBe("<image>\nQuestion: Where?\nExample: {'bbox': [xmin, ymin, xmax, ymax]}");
    expect(seen).toMatchObject({ model: 'm', temperature: 0, max_tokens: 1024, stream: true, authorization: 'Bearer k1' });
  });

  test('429 with Retry-After is waited out, then answered', async () => {
    handler = (_req, res, _body, attempt) => {
      if (attempt === 0) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'too many requests' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('ok', 'stop')}data: [DONE]\n\n`);
    };
    const t0 = performance.now();
    expect((await crm().run(image, { question: 'q' })).rawText).toBe('ok');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(attempts).toBe(2);
  });

  test('503 with a Retry-After beyond what an ask waits fails at once, naming it', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'retry-after': '600' });
      res.end('{"detail":"overloaded"}');
    };
    const error = await failure(crm().run(image, { question: 'q' }));
    expect(error.kind).toBe('busy');
    expect(error.retryAfterS).toBe(600);
    expect(error.message).toBe('stub (http://127.0.0.1:' + new URL(baseUrl).port + ') is busy (HTTP 503, retry after 600 s): overloaded');
  });

  test('a 500 is the server\u2019s message', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"CUDA out of memory"}}');
    };
    const error = await failure(crm().run(image, { question: 'q' }));
    expect(error.kind).toBe('server');
    expect(error.message).toMatch(/HTTP 500: CUDA out of memory/);
  });

  test('a chunk that is not JSON fails as malformed, keeping the text before it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('<think>half')}data: {not json\n\n`);
    };
    const error = await failure(crm().run(image, { question: 'q' }));
    expect(error.kind).toBe('malformed');
    expect(error.partialText).toBe('<think>half');
  });

  test('an error object mid-stream, and a stream that ends without finishing, keep the partial text', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`${chunk('<think>a')}data: {"error":{"message":"engine died"}}\n\n`);
    };
    const mid = await failure(crm().run(image, { question: 'q' }));
    expect([mid.kind, mid.partialText, mid.message.includes('engine died')]).toEqual(['server', '<think>a', true]);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunk('<think>ab'));
    };
    const cut = await failure(crm().run(image, { question: 'q' }));
    expect([cut.kind, cut.partialText]).toEqual(['stream-cut', '<think>ab']);
  });

  test('silence past the timeout fails as a timeout with what had come', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('<think>slow'));
    };
    const t0 = performance.now();
    const error = await failure(crm({ timeoutS: 1 }).run(image, { question: 'q' }));
    expect(error.kind).toBe('timeout');
    expect(error.partialText).toBe('<think>slow');
    expect(performance.now() - t0).toBeLessThan(5000);
    server.closeAllConnections();
  });

  test('an https:// URL on a plain HTTP port fails as TLS; nothing listening fails as refused', async () => {
    const tls = await failure(crm({ baseUrl: baseUrl.replace('http:', 'https:') }).run(image, { question: 'q' }));
    expect(tls.kind).toBe('tls');
    expect(tls.message).toMatch(/TLS connection failed/);
    const refused = await failure(crm({ baseUrl: `http://127.0.0.1:${await freePort()}/v1` }).run(image, { question: 'q' }));
    expect(refused.kind).toBe('refused');
  });

  test('plain HTTP to another machine needs confirmation; loopback does not', () => {
    expect(() => parseServerConfig({ name: 'x', baseUrl: 'http://gpu1.example.org:8000/v1', model: 'm' })).toThrow(CrmServerConfigError);
    expect(() => parseServerConfig({ name: 'x', baseUrl: 'http://gpu1.example.org:8000/v1', model: 'm', insecureConfirmed: true })).not.toThrow();
    expect(() => parseServerConfig({ name: 'x', baseUrl: 'https://gpu1.example.org/v1', model: 'm' })).not.toThrow();
    expect(() => parseServerConfig({ name: 'x', baseUrl: 'http://127.0.0.1:8000/v1/', model: 'm' })).not.toThrow();
    expect(() => parseServerConfig({ name: 'x', baseUrl: 'https://user:pw@gpu1/v1', model: 'm' })).toThrow(/API key field/);
  });

  test('settings keep the key owner-only, never show it, and drop it when the server moves to another origin', async () => {
    const store = new CrmSettingsStore(work);
    await store.saveServer({ name: 'GPU', baseUrl: 'https://gpu1.example.org/v1', model: 'm', apiKey: 'secret-1' }, 'server');
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    const view = viewOfServer((await store.load()).server!);
    expect(view).toMatchObject({ apiKeySet: true, origin: 'https://gpu1.example.org' });
    expect(JSON.stringify(view)).not.toContain('secret-1');
    await store.saveServer({ name: 'GPU', baseUrl: 'https://gpu1.example.org/v2', model: 'm2' });
    expect((await store.active())?.apiKey).toBe('secret-1');
    await store.saveServer({ name: 'GPU', baseUrl: 'https://gpu2.example.org/v1', model: 'm2' });
    expect((await store.active())?.apiKey).toBeUndefined();
    expect(await readFile(store.file, 'utf8')).not.toContain('secret-1');
    await store.useLocal();
    expect(await store.active()).toBeNull();
  });
});
