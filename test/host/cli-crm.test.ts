// `medreasoner crm show|set|test|local` against a loopback stub OpenAI endpoint: the
// setting lands in <data>/crm-server.json (owner-only) with the key from the environment,
// the key is never printed, the connection test names what the server answers as, and
// `ask` without --server then uses the saved server.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCrmCommand } from '../../electron/cli/commands/crm-command.ts';
import { crmServerChoice } from '../../electron/cli/commands/crm-server-options.ts';
import { parseOptions } from '../../electron/cli/commands/ask-command.ts';

let home: string;
let stub: http.Server;
let url: string;
const auth: (string | undefined)[] = [];

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'cli-crm-'));
  stub = http.createServer((req, res) => {
    auth.push(req.headers.authorization);
    req.resume();
    req.on('end', () => {
      if (req.headers.authorization !== 'Bearer k-123') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"bad key"}}');
      } else if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data":[{"id":"medreasoner-7b"}]}');
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: { content: 'x' }, index: 0, finish_reason: 'length' }] })}\n\ndata: [DONE]\n\n`);
      }
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  stub.closeAllConnections();
  await new Promise((resolve) => stub.close(resolve));
  await rm(home, { recursive: true, force: true });
});

async function crm(args: string[], extraEnv: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCrmCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s) }, { MEDREASONER_HOME: home, ...extraEnv });
  return { code, out: out.join(''), err: err.join('') };
}

describe('medreasoner crm', () => {
  test('set stores the server with the key from the environment; show and test never print it; local switches back', async () => {
    expect((await crm(['show'])).out).toMatch(/^CRM: the local model/);
    const set = await crm(['set', '--url', url, '--model', 'medreasoner-7b', '--name', 'GPU 1'], { MEDREASONER_CRM_API_KEY: 'k-123' });
    expect(set.code).toBe(0);
    expect(set.out).toContain(`CRM: medreasoner-7b on GPU 1 (${new URL(url).origin})`);
    expect(set.out).toContain('API key stored');
    const file = path.join(home, 'crm-server.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain('k-123');
    const shown = await crm(['show', '--json']);
    expect(JSON.parse(shown.out)).toMatchObject({ mode: 'server', server: { apiKeySet: true, model: 'medreasoner-7b' } });
    expect(shown.out).not.toContain('k-123');
    const tested = await crm(['test']);
    expect(tested).toMatchObject({ code: 0, err: '' });
    expect(tested.out).toMatch(/^OK: http:\/\/127\.0\.0\.1:\d+ answers for medreasoner-7b \(as medreasoner-7b\); it lists medreasoner-7b/);
    expect(tested.out).not.toContain('k-123');
    expect(auth.every((a) => a === 'Bearer k-123')).toBe(true);
    // ask without --server uses what was saved; --local overrides it.
    const saved = await crmServerChoice(parseOptions([], { values: [], flags: ['local'] }), { MEDREASONER_HOME: home }, home);
    expect(saved?.config).toMatchObject({ name: 'GPU 1', model: 'medreasoner-7b', apiKey: 'k-123' });
    expect(await crmServerChoice(parseOptions(['--local'], { values: [], flags: ['local'] }), { MEDREASONER_HOME: home }, home)).toBeNull();
    // Moving the server to another origin without a key drops the stored one.
    await crm(['set', '--url', url.replace('127.0.0.1', 'localhost'), '--model', 'medreasoner-7b']);
    expect(await readFile(file, 'utf8')).not.toContain('k-123');
    expect((await crm(['test'])).err).toMatch(/refused the API key \(HTTP 401: bad key\)/);
    expect((await crm(['local'])).out).toMatch(/^CRM: the local model/);
    expect((await crm(['set', '--url', 'http://gpu1.example.org/v1', '--model', 'm'])).err).toMatch(/plain HTTP to another machine/);
  });
});
