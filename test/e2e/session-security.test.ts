// The browser-mode server answers only the page it launched: no session, no data.
// Each refusal is checked next to the same request made with the session, so a 401
// cannot pass because the resource did not exist.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openInBrowser } from '../../electron/server/launch-file.ts';
import type { MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
import { PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import { launchChromium, startWorkstation, type Workstation } from './harness.ts';

type SeriesAnswer = { slices: Array<{ fileKey: string }> };
type ImportAnswer = { seriesKeys: string[] };

let workstation: Workstation;
let fileKey: string;
let browser: Browser | undefined;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
  workstation = await startWorkstation();
  const imported = (await workstation.call('dicom.import', { jobId: 'security-setup', paths: [path.join(PYDICOM_TEST_FILES, 'CT_small.dcm')] })) as ImportAnswer;
  const seriesKey = imported.seriesKeys[0];
  if (!seriesKey) throw new Error('importing CT_small.dcm produced no series');
  const series = (await workstation.call('dicom.series', { seriesKey })) as SeriesAnswer;
  const first = series.slices[0];
  if (!first) throw new Error('CT_small.dcm series has no slice');
  fileKey = first.fileKey;
});

afterAll(async () => {
  await browser?.close();
  await workstation?.close();
});

/** The session cookie a fresh launch link hands out, as a real browser would receive it. */
async function sessionCookie(): Promise<string> {
  const response = await fetch(workstation.server.newLaunchUrl(), { redirect: 'manual' });
  const setCookie = response.headers.get('set-cookie');
  if (!setCookie) throw new Error(`the launch URL set no cookie (status ${response.status})`);
  return setCookie.split(';')[0] ?? '';
}

function callStudies(headers: Record<string, string>): Promise<Response> {
  return fetch(`${workstation.server.url}/api/call/dicom.studies`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: '{}',
  });
}

function openEvents(headers: Record<string, string>): Promise<{ opened: boolean; status: number | null }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${workstation.server.url.replace(/^http/, 'ws')}/api/events`, { headers });
    socket.on('open', () => {
      socket.close();
      resolve({ opened: true, status: 101 });
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve({ opened: false, status: response.statusCode ?? null });
      socket.terminate();
    });
    socket.on('error', () => resolve({ opened: false, status: null }));
  });
}

describe('browser-mode session', () => {
  it('refuses dicom.studies without the session and answers it with the session cookie', async () => {
    const refused = await callStudies({});
    expect([401, 403]).toContain(refused.status);

    const answered = await callStudies({ Cookie: await sessionCookie() });
    expect(answered.status).toBe(200);
    const body = (await answered.json()) as { ok: boolean; result?: { patients: unknown[] } };
    expect(body.ok).toBe(true);
    expect(body.result?.patients.length).toBeGreaterThan(0);
  });

  it('refuses a file’s bytes without the session and serves them with it', async () => {
    const url = `${workstation.server.url}/files/${encodeURIComponent(fileKey)}`;
    const refused = await fetch(url);
    expect([401, 403]).toContain(refused.status);
    expect((await refused.arrayBuffer()).byteLength).toBeLessThan(1000);

    const served = await fetch(url, { headers: { Cookie: await sessionCookie() } });
    expect(served.status).toBe(200);
    const bytes = new Uint8Array(await served.arrayBuffer());
    expect(Buffer.from(bytes.subarray(128, 132)).toString('latin1')).toBe('DICM');
  });

  it('refuses a wrong launch token and a forged cookie', async () => {
    const wrongToken = await fetch(`${workstation.server.url}/launch?nonce=not-a-nonce`, { redirect: 'manual' });
    expect([401, 403]).toContain(wrongToken.status);
    expect(wrongToken.headers.get('set-cookie')).toBeNull();

    const cookieName = (await sessionCookie()).split('=')[0];
    const forged = await callStudies({ Cookie: `${cookieName}=forged-value` });
    expect([401, 403]).toContain(forged.status);
  });

  it('refuses a cross-origin request even when it carries the cookie', async () => {
    const response = await callStudies({ Cookie: await sessionCookie(), Origin: 'http://evil.example' });
    expect([401, 403]).toContain(response.status);
  });

  it('refuses the event WebSocket without the session and opens it with the session', async () => {
    const refused = await openEvents({});
    expect(refused.opened).toBe(false);
    expect([401, 403]).toContain(refused.status);

    const accepted = await openEvents({ Cookie: await sessionCookie() });
    expect(accepted.opened).toBe(true);
  });

  it('opens the app in Chromium from the launch file the opener gets, and the link is spent after', async () => {
    browser = await launchChromium();
    let file = '';
    const link = workstation.server.newLaunchUrl();
    const outcome = await openInBrowser({
      launchUrl: link,
      dir: path.join(workstation.dataDir, 'launch'),
      platform: 'linux',
      env: { DISPLAY: ':0' },
      // The opener the test plays: what xdg-open would hand the browser is the file.
      spawn: (_command, args) => {
        file = args.at(-1) as string;
        return { on: () => undefined, unref: () => undefined };
      },
    });
    expect(outcome.opened).toBe(true);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.waitForURL(`${workstation.server.url}/`, { timeout: 30_000 });
    await page.waitForFunction(() => (globalThis as MrTestGlobal).__mrTest?.appPhase() === 'ready', undefined, { timeout: 60_000 });
    // The address bar ends at /, the nonce is gone from it, and the cookie is the port's.
    expect(page.url()).toBe(`${workstation.server.url}/`);
    const cookies = await context.cookies(workstation.server.url);
    expect(cookies.map((c) => c.name)).toEqual([workstation.server.cookieName]);
    expect(cookies[0]?.httpOnly).toBe(true);
    expect(cookies[0]?.sameSite).toBe('Strict');

    // The same link in another browser context (someone who read it) gets nothing.
    const other = await browser.newContext();
    const stolen = await other.newPage();
    const response = await stolen.goto(link);
    expect(response?.status()).toBe(401);
    expect(await other.cookies(workstation.server.url)).toEqual([]);
    await other.close();
    await context.close();
  });
});
