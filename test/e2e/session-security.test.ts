// The browser-mode server answers only the page it launched: no session, no data.
// Each refusal is checked next to the same request made with the session, so a 401
// cannot pass because the resource did not exist.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import { startWorkstation, type Workstation } from './harness.ts';

type SeriesAnswer = { slices: Array<{ fileKey: string }> };
type ImportAnswer = { seriesKeys: string[] };

let workstation: Workstation;
let fileKey: string;

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
  await workstation?.close();
});

/** The session cookie the launch URL hands out, as a real browser would receive it. */
async function sessionCookie(): Promise<string> {
  const response = await fetch(workstation.server.launchUrl, { redirect: 'manual' });
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
    const wrongToken = await fetch(`${workstation.server.url}/?token=not-the-secret`, { redirect: 'manual' });
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
});
