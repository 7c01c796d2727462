// Browser mode: the same renderer bundle and the same host as the Electron shell,
// over HTTP and a WebSocket on 127.0.0.1 only. Used where Electron's binary cannot
// be installed, and by the end-to-end tests.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Host } from '../host/host.ts';
import { contentSecurityPolicy } from '../common/content-security-policy.ts';
import {
  hasAcceptableOrigin,
  hasExpectedHost,
  LAUNCH_PATH,
  NONCE_PARAM,
  refusalMessage,
  SessionAuth,
  sessionCookieName,
} from './session-auth.ts';
import { resolveInside, sendFile } from './static-files.ts';
import { FILE_BATCH_CONTENT_TYPE, FILE_BATCH_PATH } from '../common/file-batch-format.ts';
import { FILE_KEY, fileBatchBody, planFileBatch } from './file-batch.ts';

export interface BrowserServerOptions {
  host: Host;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Fixed bearer secret for tests that need one; a fresh random one per launch otherwise. */
  secret?: string;
  /** How long a launch nonce stays valid (default 60 s). */
  nonceTtlMs?: number;
  /** The clock for nonce lifetimes (tests). */
  now?: () => number;
  log?: (message: string) => void;
}

export interface BrowserServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /**
   * A new one-time launch URL: its nonce works once, within a minute, and becomes a
   * session cookie. Each browser page needs its own.
   */
  newLaunchUrl(): string;
  /** The bearer token for tools and tests; never put it in a URL. */
  secret: string;
  /** The session cookie's name: it carries the port, so instances side by side keep theirs. */
  cookieName: string;
  close(): Promise<void>;
}

// Labelmaps cross the boundary (seg.export, seg.autosave): a 512×512×500 one, run-length encoded, can take tens of MB.
const MAX_BODY_BYTES = 256 * 1024 * 1024;

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const { host } = options;
  const log = options.log ?? (() => {});
  const rendererDir = path.resolve(options.rendererDir);
  let auth: SessionAuth | null = null;
  let origin = '';
  let hostHeader = '';

  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy([`ws://${hostHeader}`]),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  });

  function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    response.writeHead(status, { 'Content-Type': contentType, ...securityHeaders() });
    response.end(body);
  }

  async function readBody(request: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new Error('request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handleCall(request: IncomingMessage, response: ServerResponse, method: string): Promise<void> {
    if (request.method !== 'POST') return reply(response, 405, 'POST only');
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply(response, 415, 'application/json only');
    }
    let params: unknown;
    try {
      const body = await readBody(request);
      params = body.trim() === '' ? {} : JSON.parse(body);
    } catch (error) {
      return reply(
        response,
        400,
        JSON.stringify({ ok: false, error: { code: 'invalid-params', message: `Unreadable request body: ${String(error)}` } }),
        'application/json',
      );
    }
    const answer = await host.dispatch(method, params);
    reply(response, 200, JSON.stringify(answer), 'application/json');
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hasExpectedHost(request, hostHeader)) return reply(response, 421, 'Wrong host');
    if (!hasAcceptableOrigin(request, origin)) return reply(response, 403, 'Cross-origin requests are refused');
    const url = new URL(request.url ?? '/', origin);

    if (!auth) return reply(response, 503, 'Starting');

    if (url.pathname === LAUNCH_PATH) {
      if (request.method !== 'GET') return reply(response, 405, 'GET only');
      const outcome = auth.redeem(url.searchParams.get(NONCE_PARAM));
      if ('refused' in outcome) return reply(response, 401, refusalMessage(outcome.refused));
      const headers = { 'Set-Cookie': auth.sessionCookie(outcome.session), ...securityHeaders() };
      if (request.headers['sec-fetch-site'] === 'cross-site') {
        // Opened from the launch file (file://): the browser would withhold a Strict cookie on
        // a redirect that page started, so the page moves on to / itself, a same-origin step.
        response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
        response.end('<!doctype html><meta http-equiv="refresh" content="0;url=/"><title>MedReasoner</title>');
        return;
      }
      // 303 to /: the address bar and history keep /, not the (spent) nonce.
      response.writeHead(303, { ...headers, Location: '/' });
      response.end();
      return;
    }
    if (!auth.isAuthenticated(request)) {
      return reply(response, 401, 'This server only answers the page it launched. Open a launch link from `medreasoner serve` (Enter in its terminal prints a new one).');
    }

    if (url.pathname.startsWith('/api/call/')) {
      return handleCall(request, response, decodeURIComponent(url.pathname.slice('/api/call/'.length)));
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'Method not allowed');

    if (url.pathname.startsWith('/files/')) {
      const fileKey = url.pathname.slice('/files/'.length);
      const file = FILE_KEY.test(fileKey) ? host.resolveFile(fileKey) : undefined;
      if (!file || !(await sendFile(response, file, { ...securityHeaders(), 'Content-Type': 'application/dicom' }))) {
        reply(response, 404, 'No such file in the index');
      }
      return;
    }

    if (url.pathname === FILE_BATCH_PATH) {
      const plan = await planFileBatch(url.searchParams.get('keys'), (key) => host.resolveFile(key));
      if ('refused' in plan) return reply(response, plan.status, plan.refused);
      response.writeHead(200, { ...securityHeaders(), 'Content-Type': FILE_BATCH_CONTENT_TYPE });
      if (request.method === 'HEAD') return void response.end();
      // Each chunk written out before the next is read: the body reuses one buffer for every file.
      for await (const chunk of fileBatchBody(plan.items, { reuseBuffer: true })) {
        await new Promise<void>((resolve, reject) => response.write(chunk, (error) => (error ? reject(error) : resolve())));
      }
      response.end();
      return;
    }

    const file = resolveInside(rendererDir, url.pathname);
    if (!file || !(await sendFile(response, file, securityHeaders()))) reply(response, 404, 'Not found');
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`request ${request.method} ${request.url} failed: ${String(error)}`);
      if (!response.headersSent) reply(response, 500, 'Internal error');
      else response.destroy();
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', origin);
    const allowed =
      url.pathname === '/api/events' &&
      hasExpectedHost(request, hostHeader) &&
      hasAcceptableOrigin(request, origin) &&
      auth !== null &&
      auth.isAuthenticated(request);
    if (!allowed) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => attachEvents(ws));
  });

  function attachEvents(ws: WebSocket): void {
    const unsubscribe = host.subscribe((event) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    // Events flow one way; anything the page sends is ignored rather than trusted.
    ws.on('message', () => {});
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hostHeader = `127.0.0.1:${port}`;
  origin = `http://${hostHeader}`;
  const sessions = new SessionAuth({
    cookieName: sessionCookieName(port),
    ...(options.secret ? { secret: options.secret } : {}),
    ...(options.nonceTtlMs !== undefined ? { nonceTtlMs: options.nonceTtlMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  auth = sessions;

  return {
    url: origin,
    newLaunchUrl: () => `${origin}${LAUNCH_PATH}?${NONCE_PARAM}=${sessions.issueNonce()}`,
    secret: sessions.secret,
    cookieName: sessions.cookieName,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
