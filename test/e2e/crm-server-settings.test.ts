// Models settings in Chromium: the reader switches the CRM to a GPU server, tests the
// connection (it names what the server answers as), saves, and the status bar says which
// CRM answers; a question then streams from that server and the answer names it. The server
// is a scripted loopback OpenAI endpoint of the test's own (it checks the API key, streams
// a well-formed MedReasoner reply by SSE); the real-server behaviour is in test/host.
// The key typed in the form never comes back to the page.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askState, waitForAsk } from './ask-state.ts';
import { launchChromium, openApp, startWorkstation, viewportState, waitForRenderedSlice, type AppPage, type Workstation } from './harness.ts';

const KEY = 'sk-e2e-secret-4711';
const REPLY = "<think>The server looked at the liver.</think><answer>{'bbox': [60, 70, 140, 150], 'points_1': [100, 110], 'points_2': [90, 100]}</answer>";

let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let stub: http.Server;
let stubUrl: string;
const seen: { path: string; authorized: boolean; hasImage: boolean }[] = [];

beforeAll(async () => {
  stub = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const authorized = req.headers.authorization === `Bearer ${KEY}`;
      seen.push({ path: req.url ?? '', authorized, hasImage: body.includes('data:image/png;base64,') });
      if (!authorized) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"Invalid API key"}}');
        return;
      }
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'medreasoner-7b', object: 'model' }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = body.includes('data:image') ? REPLY : 'p';
      for (const piece of text.match(/.{1,6}/g)!) res.write(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: { content: piece }, index: 0 }] })}\n\n`);
      res.end(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: {}, index: 0, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`;
  browser = await launchChromium();
  // The tiny models supply the package's prompt.json (the server does not hand out its prompt).
  workstation = await startWorkstation({ models: 'tiny' });
  app = await openApp(browser, workstation.server, { width: 1400, height: 860 });
  page = app.page;
  await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
}, 240_000);

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
  stub?.closeAllConnections();
  await new Promise((resolve) => stub?.close(resolve));
});

describe('Models settings: the CRM on a GPU server', () => {
  it('tests the connection, saves, and the status bar names the server that will answer', async () => {
    await page.getByTestId('inference-summary').click();
    await page.getByTestId('crm-settings').waitFor();
    expect(await page.getByTestId('crm-mode-local').isChecked()).toBe(true);
    expect(seen).toHaveLength(0); // nothing is sent before the server is configured
    await page.getByTestId('crm-mode-server').check();
    await page.getByTestId('crm-name').fill('Stub GPU');
    await page.getByTestId('crm-baseUrl').fill(stubUrl);
    await page.getByTestId('crm-model').fill('medreasoner-7b');
    await page.getByTestId('crm-apiKey').fill('wrong');
    await page.getByTestId('crm-test').click();
    await expect.poll(() => page.getByTestId('crm-settings-message').textContent(), { timeout: 20_000 }).toMatch(/refused the API key \(HTTP 401/);
    await page.getByTestId('crm-apiKey').fill(KEY);
    await page.getByTestId('crm-test').click();
    await expect.poll(() => page.getByTestId('crm-settings-message').textContent(), { timeout: 20_000 }).toMatch(/it lists medreasoner-7b; the model answers as medreasoner-7b/);
    expect(seen.some((r) => r.hasImage)).toBe(false); // the connection test carries no image
    await page.getByTestId('crm-save').click();
    const origin = new URL(stubUrl).origin;
    await expect.poll(() => page.getByTestId('inference-summary').textContent(), { timeout: 20_000 }).toBe('AI: CRM medreasoner-7b on Stub GPU · ASM CPU');
    await expect.poll(() => page.getByTestId('inference-crm-server').textContent()).toContain(`medreasoner-7b on Stub GPU (${origin})`);
    await expect.poll(() => page.getByTestId('crm-key-state').textContent()).toBe('a key is stored (leave empty to keep it)');
    expect(await page.getByTestId('crm-apiKey').inputValue()).toBe('');
    const settings = (await workstation.call('crm.settings', {})) as { server: Record<string, unknown> };
    expect(JSON.stringify(settings)).not.toContain(KEY);
    expect(await page.content()).not.toContain(KEY);
  }, 120_000);

  it('a question streams from the server; the answer names it', async () => {
    await page.getByTestId('inference-summary').click(); // close the details
    const { seriesKey } = await viewportState(page);
    expect(seriesKey).not.toBeNull();
    await page.locator('[data-testid="ask-models"][data-crm="ready"]').waitFor({ timeout: 60_000 });
    const before = seen.length;
    await page.getByTestId('ask-question').fill('Where is the liver?');
    await page.getByTestId('ask-submit').click();
    const answered = await waitForAsk(page, (s) => s.phase !== 'running' && s.phase !== 'idle', 'the answer from the server');
    expect(answered.phase, answered.error ?? '').toBe('answered');
    expect(answered.tokenEvents).toBeGreaterThan(10);
    expect(answered.streamedLength).toBe(REPLY.length);
    await expect.poll(() => page.getByTestId('ask-reasoning').textContent()).toBe('The server looked at the liver.');
    expect((await askState(page)).previewArea).toBeGreaterThan(0);
    const asked = seen.slice(before);
    expect(asked).toEqual([{ path: '/v1/chat/completions', authorized: true, hasImage: true }]);
    expect(await page.getByTestId('ask-answer').textContent()).toContain(`medreasoner-7b on Stub GPU (${new URL(stubUrl).origin})`);
    // One audit line for the ask (the connection test sends no slice), naming the study and series.
    const audit = (await readFile(path.join(workstation.dataDir, 'crm-server-audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ server: 'Stub GPU', model: 'medreasoner-7b', seriesKey, outcome: 'ok' });
    expect(String(audit[0]!.studyInstanceUid)).toMatch(/^[\d.]+$/);
    expect(String(audit[0]!.seriesInstanceUid)).toMatch(/^[\d.]+$/);
  }, 180_000);
});
