// Browser mode's server: the per-launch secret guards every request and the socket,
// the contract is validated at the boundary, and only indexed files are served.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHost, type Host } from '../../electron/host/host.ts';
import { startBrowserServer, type BrowserServer } from '../../electron/server/browser-server.ts';
import { PYDICOM_TEST_FILES, requireDir } from './real-parts.ts';

let tempDir: string;
let host: Host;
let server: BrowserServer;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, 'python3-pydicom (its test_files corpus)');
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'mr-server-'));
  const rendererDir = path.join(tempDir, 'renderer');
  await mkdir(rendererDir);
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>MedReasoner</title>');
  await writeFile(path.join(tempDir, 'outside.txt'), 'must never be served');
  host = createHost({ shell: 'test', dataDir: path.join(tempDir, 'data') });
  server = await startBrowserServer({ host, rendererDir });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
  await rm(tempDir, { recursive: true, force: true });
});

/** A raw request, so tests control every header (fetch would add or forbid some). */
function request(
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(pathname, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A fresh one-time launch link, as a path on the server. */
function launchPath(): string {
  const url = new URL(server.newLaunchUrl());
  return url.pathname + url.search;
}

const bearer = () => ({ Authorization: `Bearer ${server.secret}` });

async function call(method: string, params: unknown): Promise<{ ok: boolean; result?: any; error?: any }> {
  const res = await request(`/api/call/${method}`, {
    method: 'POST',
    headers: { ...bearer(), 'Content-Type': 'application/json' },
    body: JSON.stringify(params),
  });
  expect(res.status).toBe(200);
  return JSON.parse(res.body.toString('utf8'));
}

describe('browser-mode server', () => {
  it('listens on loopback only, on a random port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.newLaunchUrl()).toMatch(new RegExp(`^${server.url}/launch\\?nonce=[A-Za-z0-9_-]{32}$`));
    expect(server.newLaunchUrl()).not.toContain(server.secret);
    expect(server.secret.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses every request without the secret: page, API and files', async () => {
    expect((await request('/')).status).toBe(401);
    expect((await request('/index.html')).status).toBe(401);
    expect((await request('/api/call/app.info', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await request('/files/abc')).status).toBe(401);
    expect((await request('/', { headers: { Authorization: 'Bearer not-the-secret' } })).status).toBe(401);
  });

  it('turns a launch nonce into an HttpOnly, SameSite=Strict session cookie', async () => {
    expect((await request('/launch?nonce=wrong')).status).toBe(401);
    expect((await request(`/launch?nonce=${server.secret}`)).status).toBe(401);
    const launch = await request(launchPath());
    expect(launch.status).toBe(303);
    expect(launch.headers.location).toBe('/');
    const cookie = String(launch.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain(server.secret);
    const page = await request('/', { headers: { Cookie: cookie.split(';')[0] as string } });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<title>MedReasoner</title>');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/\s'unsafe-eval'/);
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    expect((await request('/', { headers: { ...bearer(), Host: 'evil.example' } })).status).toBe(421);
    expect((await request('/', { headers: { ...bearer(), Origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('never serves files outside the renderer bundle', async () => {
    for (const probe of ['/../outside.txt', '/%2e%2e/outside.txt', '/..%2foutside.txt']) {
      const res = await request(probe, { headers: bearer() });
      expect(res.status, probe).toBe(404);
    }
  });

  it('validates calls at the boundary', async () => {
    expect((await call('no.such.call', {})).error.code).toBe('unknown-method');
    const invalid = await call('dicom.import', { jobId: 'j1', paths: [] });
    expect(invalid.ok).toBe(false);
    expect(invalid.error.code).toBe('invalid-params');
    expect(invalid.error.issues[0].path).toBe('paths');
    const extra = await call('dicom.studies', { sneaky: true });
    expect(extra.error.code).toBe('invalid-params');
    const info = await call('app.info', {});
    expect(info.ok).toBe(true);
    expect(info.result.shell).toBe('test');
    expect(info.result.canChoosePaths).toBe(false);
    expect((await call('app.choosePaths', { kind: 'folder' })).error.code).toBe('unsupported');
  });

  it('serves the bytes of indexed files by key, and nothing else', async () => {
    const source = path.join(PYDICOM_TEST_FILES, 'CT_small.dcm');
    const imported = await call('dicom.import', { jobId: 'server-ct', paths: [source] });
    expect(imported.ok).toBe(true);
    expect(imported.result.instancesAdded).toBe(1);
    const [seriesKey] = imported.result.seriesKeys;
    const detail = await call('dicom.series', { seriesKey });
    const fileKey = detail.result.slices[0].fileKey as string;
    const served = await request(`/files/${fileKey}`, { headers: bearer() });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('application/dicom');
    expect(served.body.equals(await readFile(source))).toBe(true);
    expect((await request('/files/0123456789abcdef01234567', { headers: bearer() })).status).toBe(404);
    expect((await request(`/files/${encodeURIComponent('../../etc/passwd')}`, { headers: bearer() })).status).toBe(404);
  });

  it('streams events over the WebSocket to the session, and refuses the socket without it', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}/api/events`;
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(refused).toBe(401);

    const forged = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl, { headers: { Cookie: `${server.cookieName}=${server.secret}` } });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => {});
    });
    expect(forged, 'the bearer secret is not a session id').toBe(401);

    const launch = await request(launchPath());
    const session = String(launch.headers['set-cookie']).split(';')[0] as string;
    const ws = new WebSocket(wsUrl, { headers: { Cookie: session } });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const received: Array<{ event: string; payload: any }> = [];
    ws.on('message', (data) => received.push(JSON.parse(String(data))));
    const result = await call('dicom.import', { jobId: 'server-mr', paths: [path.join(PYDICOM_TEST_FILES, 'MR_small.dcm')] });
    expect(result.ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    ws.close();
    const done = received.find((m) => m.event === 'dicom.importProgress' && m.payload.phase === 'done');
    expect(done?.payload.jobId).toBe('server-mr');
    expect(received.some((m) => m.event === 'dicom.studiesChanged')).toBe(true);
  });
});
