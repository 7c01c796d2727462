// Browser mode's launch: a one-time nonce in the link, exchanged for a separate session
// id in a port-named cookie; the nonce is refused on second use and after its minute; two
// servers side by side keep their own sessions; and what the opener gets on its command
// line holds neither the secret nor the nonce (the spawn is spied on).
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../electron/host/host.ts';
import { startBrowserServer, type BrowserServer } from '../../electron/server/browser-server.ts';
import { openInBrowser, type Spawner } from '../../electron/server/launch-file.ts';
import { readServerTokenFile, removeServerTokenFile, writeServerTokenFile } from '../../electron/server/server-token-file.ts';

let tempDir: string;
let host: Host;
let rendererDir: string;
const servers: BrowserServer[] = [];

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'mr-launch-'));
  rendererDir = path.join(tempDir, 'renderer');
  await mkdir(rendererDir);
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>MedReasoner</title>');
  host = createHost({ shell: 'test', dataDir: path.join(tempDir, 'data') });
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await host?.dispose();
  await rm(tempDir, { recursive: true, force: true });
});

async function serve(options: { now?: () => number; nonceTtlMs?: number } = {}): Promise<BrowserServer> {
  const server = await startBrowserServer({ host, rendererDir, ...options });
  servers.push(server);
  return server;
}

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function cookieOf(reply: Reply): { name: string; value: string; attributes: string } {
  const header = reply.headers['set-cookie']?.[0];
  if (!header) throw new Error(`no Set-Cookie (status ${reply.status}: ${reply.body})`);
  const [pair, ...attributes] = header.split(';');
  const [name, value] = (pair as string).split('=') as [string, string];
  return { name, value, attributes: attributes.join(';') };
}

describe('browser-mode launch', () => {
  it('exchanges a nonce once for a session id that is neither the nonce nor the secret', async () => {
    const server = await serve();
    const link = server.newLaunchUrl();
    const nonce = new URL(link).searchParams.get('nonce') as string;
    const first = await get(link);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = cookieOf(first);
    expect(cookie.value).not.toBe(nonce);
    expect(cookie.value).not.toBe(server.secret);
    expect(cookie.value.length).toBeGreaterThanOrEqual(32);
    expect((await get(`${server.url}/`, { Cookie: `${cookie.name}=${cookie.value}` })).status).toBe(200);

    const second = await get(link);
    expect(second.status).toBe(401);
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(second.body).toContain('already used');
  });

  it('refuses a nonce past its lifetime', async () => {
    let clock = 1_000_000;
    const server = await serve({ now: () => clock, nonceTtlMs: 60_000 });
    const link = server.newLaunchUrl();
    const fresh = server.newLaunchUrl();
    clock += 60_001;
    const late = await get(link);
    expect(late.status).toBe(401);
    expect(late.headers['set-cookie']).toBeUndefined();
    expect(late.body).toContain('expired');
    expect((await get(fresh)).status, 'an expired nonce is refused on every use').toBe(401);
    const next = server.newLaunchUrl();
    clock += 59_000;
    expect((await get(next)).status).toBe(303);
  });

  it('names the cookie after the port, Path=/, HttpOnly, SameSite=Strict', async () => {
    const server = await serve();
    const cookie = cookieOf(await get(server.newLaunchUrl()));
    expect(cookie.name).toBe(`mr_session_${new URL(server.url).port}`);
    expect(server.cookieName).toBe(cookie.name);
    expect(cookie.attributes).toMatch(/HttpOnly/);
    expect(cookie.attributes).toMatch(/SameSite=Strict/);
    expect(cookie.attributes).toMatch(/Path=\//);
  });

  it('keeps two servers side by side apart: each answers its own session only', async () => {
    const a = await serve();
    const b = await serve();
    expect(a.url).not.toBe(b.url);
    const cookieA = cookieOf(await get(a.newLaunchUrl()));
    const cookieB = cookieOf(await get(b.newLaunchUrl()));
    expect(cookieA.name).not.toBe(cookieB.name);
    // A browser sends both cookies to both ports (cookies ignore the port): each server picks its own.
    const both = `${cookieA.name}=${cookieA.value}; ${cookieB.name}=${cookieB.value}`;
    expect((await get(`${a.url}/`, { Cookie: both })).status).toBe(200);
    expect((await get(`${b.url}/`, { Cookie: both })).status).toBe(200);
    expect((await get(`${a.url}/`, { Cookie: `${cookieA.name}=${cookieB.value}` })).status).toBe(401);
    expect((await get(`${b.url}/`, { Cookie: `${cookieB.name}=${cookieA.value}` })).status).toBe(401);
    // A nonce of one is nothing to the other.
    const linkA = new URL(a.newLaunchUrl());
    expect((await get(`${b.url}${linkA.pathname}${linkA.search}`)).status).toBe(401);
    expect((await get(linkA.href)).status).toBe(303);
  });

  it('continues with a same-origin step when the launch comes from the launch file (cross-site)', async () => {
    const server = await serve();
    const reply = await get(server.newLaunchUrl(), { 'Sec-Fetch-Site': 'cross-site' });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('content="0;url=/"');
    expect(cookieOf(reply).name).toBe(server.cookieName);
  });

  it('gives the opener a launch file path: no secret, no nonce on its command line', async () => {
    const server = await serve();
    const calls: Array<{ command: string; args: string[] }> = [];
    const spy: Spawner = (command, args) => {
      calls.push({ command, args: [...args] });
      return { on: () => undefined, unref: () => undefined };
    };
    const dir = path.join(tempDir, 'data', 'launch');
    const link = server.newLaunchUrl();
    const outcome = await openInBrowser({ launchUrl: link, dir, spawn: spy, platform: 'linux', env: { DISPLAY: ':0' } });
    expect(outcome.opened).toBe(true);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.command).toBe('xdg-open');
    const argv = [call.command, ...call.args].join(' ');
    const nonce = new URL(link).searchParams.get('nonce') as string;
    expect(argv).not.toContain(server.secret);
    expect(argv).not.toContain(nonce);
    expect(argv).not.toContain('127.0.0.1');
    const file = call.args.at(-1) as string;
    expect(path.dirname(file)).toBe(dir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const html = await readFile(file, 'utf8');
    expect(html).not.toContain(server.secret);
    const target = /url=([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(target).toBe(link);
    // The file's link is the live one-time link.
    expect((await get(target as string)).status).toBe(303);
    expect((await get(target as string)).status).toBe(401);
  });

  it('opens nothing without a display, and says so', async () => {
    const calls: string[] = [];
    const outcome = await openInBrowser({ launchUrl: 'http://127.0.0.1:1/launch?nonce=x', dir: path.join(tempDir, 'nodisplay'), spawn: (c) => (calls.push(c), { on: () => undefined, unref: () => undefined }), platform: 'linux', env: {} });
    expect(outcome.opened).toBe(false);
    expect(calls).toEqual([]);
  });

  it('hands tools the bearer secret in an owner-only file, which opens the API', async () => {
    const server = await serve();
    const dataDir = path.join(tempDir, 'tool-data');
    const file = await writeServerTokenFile(dataDir, server);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const { url, secret } = await readServerTokenFile(file);
    expect(url).toBe(server.url);
    const refused = await get(`${url}/`, { Authorization: 'Bearer wrong' });
    expect(refused.status).toBe(401);
    expect((await get(`${url}/`, { Authorization: `Bearer ${secret}` })).status).toBe(200);
    await removeServerTokenFile(file);
    await expect(stat(file)).rejects.toThrow();
  });
});
