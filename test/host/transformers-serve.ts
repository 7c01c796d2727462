// A real OpenAI-compatible server for the CRM server tests: `transformers serve` from the
// project's Python environment, pinned to one checkpoint, on a free loopback port. Its hub
// cache is an empty temporary folder (GET /v1/models scans the cache and fails without one).
// transformers serve has no API-key option: startAuthProxy puts a loopback proxy of the
// test's own in front of it that demands "Authorization: Bearer <key>" and streams through.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectPython } from './real-parts.ts';

export interface ServedModel {
  baseUrl: string;
  /** The id the server is pinned to (the checkpoint path, as transformers serve names it). */
  model: string;
  process: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startTransformersServe(checkpoint: string, timeoutMs = 240_000): Promise<ServedModel> {
  const port = await freePort();
  const hubCache = await mkdtemp(path.join(tmpdir(), 'hf-hub-'));
  const transformers = path.join(path.dirname(projectPython()), 'transformers');
  const child = spawn(transformers, ['serve', checkpoint, '--host', '127.0.0.1', '--port', String(port), '--device', 'cpu', '--dtype', 'float32', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HF_HUB_CACHE: hubCache, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '1' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const started = Date.now();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  for (;;) {
    if (exited !== null) throw new Error(`transformers serve exited with ${exited} before it was ready:\n${output.slice(-4000)}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`transformers serve was not ready after ${timeoutMs / 1000} s:\n${output.slice(-4000)}`);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    baseUrl,
    model: checkpoint,
    process: child,
    log: () => output,
    async stop() {
      if (exited === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      await rm(hubCache, { recursive: true, force: true });
    },
  };
}

export interface AuthProxy {
  baseUrl: string;
  requests: { authorized: boolean; path: string }[];
  close(): Promise<void>;
}

/** Loopback proxy: 401 unless "Authorization: Bearer <key>", else the request goes upstream and the reply streams back as it comes. */
export async function startAuthProxy(upstreamBaseUrl: string, key: string): Promise<AuthProxy> {
  const upstream = new URL(upstreamBaseUrl);
  const requests: AuthProxy['requests'] = [];
  const server = http.createServer((req, res) => {
    const authorized = req.headers.authorization === `Bearer ${key}`;
    requests.push({ authorized, path: req.url ?? '' });
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ error: { message: 'Invalid API key', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      req.resume();
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
