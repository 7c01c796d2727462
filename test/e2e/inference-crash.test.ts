// A model that crashes the inference process, as the reader sees it: the status line names
// the model and how the process stopped, the Models item marks the segmenter "stopped the
// inference process", and the viewer keeps showing and scrolling images. The crash is the
// tiny ASM's test-fixture abort on load, the stand-in for ONNX Runtime dying in native code.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_ASM_ID } from '../../native-models/tiny/make-tiny-models.ts';
import { PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import { launchChromium, openApp, openSeriesFromBrowser, startWorkstation, type AppPage, type Workstation } from './harness.ts';

let workstation: Workstation;
let browser: Browser;
let app: AppPage;
let seriesKey: string;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
  workstation = await startWorkstation({ models: 'tiny' });
  const manifestFile = path.join(workstation.dataDir, 'models', TINY_ASM_ID, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  await writeFile(manifestFile, JSON.stringify({ ...manifest, testAbortOnLoad: true }, null, 2));
  const imported = (await workstation.call('dicom.import', { jobId: 'crash-setup', paths: [path.join(PYDICOM_TEST_FILES, 'MR_small.dcm')] })) as { seriesKeys: string[] };
  seriesKey = imported.seriesKeys[0] as string;
  browser = await launchChromium();
  app = await openApp(browser, workstation.server);
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
});

describe('a model that crashes the inference process', () => {
  it('is named in the status line and the Models item while viewing goes on', async () => {
    const { page } = app;
    await openSeriesFromBrowser(page, seriesKey);
    const answer = await workstation.host.dispatch('inference.segment', { seriesKey, sliceIndex: 0, box: [4, 4, 40, 40], points: [] });
    expect(answer.ok).toBe(false);

    const statusLine = page.getByTestId('status-line');
    await expect.poll(() => statusLine.textContent(), { timeout: 30_000 }).toContain(TINY_ASM_ID);
    const text = (await statusLine.textContent()) ?? '';
    expect(text).toContain('SIGABRT');
    expect(text).toContain('restarted');
    expect(await statusLine.getAttribute('data-kind')).toBe('error');

    const models = page.getByTestId('inference-status');
    await expect.poll(() => models.getAttribute('data-asm'), { timeout: 30_000 }).toBe('crashed');
    // The row inside the Models item (closed or open) says what happened.
    expect(await page.locator('.inference-row[data-role="asm"]').textContent()).toContain('stopped the inference process');

    // The viewer was never touched: the series opens again and draws its slice.
    const state = await openSeriesFromBrowser(page, seriesKey);
    expect(state.error).toBeFalsy();
    expect(app.problems.filter((p) => !p.includes(TINY_ASM_ID))).toEqual([]);
  });
});
