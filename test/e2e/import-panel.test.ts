// Importing through the UI in browser mode: a typed folder path, progress while it
// runs, a summary, the per-file problems of the import, and non-image objects listed
// but not openable. The files are pydicom's real corpus, copied into a temp folder.
import { copyFile, link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import {
  launchChromium,
  openApp,
  openSeriesFromBrowser,
  screenshotPage,
  screenshotViewport,
  startWorkstation,
  viewportState,
  waitForQuietViewport,
  waitForRenderedSlice,
  type AppPage,
  type Workstation,
} from './harness.ts';
import { pixelStats } from './png.ts';

type StudiesAnswer = { patients: Array<{ studies: Array<{ series: Array<{ seriesKey: string; kind: string; modality: string }> }> }> };

let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let folder: string;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
  folder = await mkdtemp(path.join(tmpdir(), 'mr-e2e-import-'));
  for (const name of ['CT_small.dcm', 'rtstruct.dcm', 'test-SR.dcm', 'MR_truncated.dcm', 'README.txt']) {
    await copyFile(path.join(PYDICOM_TEST_FILES, name), path.join(folder, name));
  }
  browser = await launchChromium();
  workstation = await startWorkstation();
  app = await openApp(browser, workstation.server);
  await waitForRenderedSlice(app.page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('import panel (browser mode)', () => {
  it('imports a typed folder, shows progress and a summary, and lists the files it skipped', async () => {
    const { page } = app;
    const sampleKey = (await viewportState(page)).seriesKey;
    // Record what the progress area shows while the import runs: it may last well under a second.
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { hidden: boolean; textContent: string | null } | null } }).document;
      const seen: string[] = [];
      (globalThis as unknown as { __progressSeen: string[] }).__progressSeen = seen;
      const progress = doc.querySelector('[data-testid="import-progress"]');
      const label = doc.querySelector('[data-testid="import-progress-label"]');
      const observer = new (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void } }).MutationObserver(() => {
        if (progress && !progress.hidden) seen.push(label?.textContent ?? '');
      });
      observer.observe(progress, { attributes: true, subtree: true, childList: true, characterData: true });
    });

    await page.getByTestId('import-path').fill(folder);
    await page.getByTestId('import-button').click();
    const summary = page.getByTestId('import-summary');
    // The summary still describes the sample's import until this one finishes.
    await expect.poll(() => summary.innerText(), { timeout: 60_000 }).toMatch(/from 5 files/);
    expect(await summary.getAttribute('data-state')).toBe('done');

    const seen = await page.evaluate(() => (globalThis as unknown as { __progressSeen: string[] }).__progressSeen);
    expect(seen.length, 'the progress area was shown while importing').toBeGreaterThan(0);
    expect(seen.some((text) => /Importing|Scanning|Reading|Building|Finishing/.test(text))).toBe(true);
    await expect.poll(() => page.getByTestId('import-progress').isHidden()).toBe(true);
    // One image (CT_small) plus an SR and an RTSTRUCT, each its own series; two files skipped.
    expect(await summary.innerText()).toMatch(/^Imported 1 new image in 3 series from 5 files/);

    const problems = page.getByTestId('import-problems');
    expect(await problems.isVisible()).toBe(true);
    expect(await problems.locator('summary').innerText()).toBe('2 files skipped');
    await problems.locator('summary').click();
    const reasons = await problems.locator('li.problem').evaluateAll((items) =>
      items.map((item) => `${(item as unknown as { dataset: Record<string, string> }).dataset['reason']}:${(item as unknown as { textContent: string }).textContent}`),
    );
    expect(reasons.some((r) => r.startsWith('truncated:') && r.includes('MR_truncated.dcm'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('not-dicom:') && r.includes('README.txt'))).toBe(true);

    // Something was on screen already: an import does not take it away.
    expect((await viewportState(page)).seriesKey).toBe(sampleKey);
    await screenshotPage(page, 'import-panel-after-import');
  });

  it('lists SR and RTSTRUCT objects without letting them open, and opens the imported CT', async () => {
    const { page } = app;
    const studies = (await workstation.call('dicom.studies', {})) as StudiesAnswer;
    const series = studies.patients.flatMap((p) => p.studies.flatMap((s) => s.series));
    for (const kind of ['SR', 'RTSTRUCT']) {
      const entry = series.find((s) => s.kind === kind);
      expect(entry, `${kind} in the index`).toBeDefined();
      const item = page.locator(`.series-item[data-series-key="${entry?.seriesKey}"]`);
      expect(await item.getAttribute('aria-disabled')).toBe('true');
      expect(await item.evaluate((element) => (element as unknown as { tagName: string }).tagName)).not.toBe('BUTTON');
      expect(await item.innerText()).toContain(kind);
    }

    const shown = (await viewportState(page)).seriesKey;
    const ct = series.find((s) => s.kind === 'image' && s.modality === 'CT' && s.seriesKey !== shown);
    expect(ct, 'CT_small in the index').toBeDefined();
    const state = await openSeriesFromBrowser(page, ct?.seriesKey as string);
    expect(state.imageCount).toBe(1);
    await waitForQuietViewport(page);
    expect(await page.getByTestId('overlay-slice').innerText()).toBe('Im 1 / 1');
    const shot = await screenshotViewport(page, 'import-ct-small');
    expect(pixelStats(shot.image).stdDev, 'CT_small renders with contrast').toBeGreaterThan(20);
  });

  it('cancels a running import from the progress area', async () => {
    const { page } = app;
    // Many files so the import outlasts the click: hard links to one real file (its
    // duplicates are each still read and checked by the importer).
    const big = path.join(folder, 'many');
    await mkdir(big);
    const original = path.join(big, 'ct-0.dcm');
    await copyFile(path.join(PYDICOM_TEST_FILES, 'CT_small.dcm'), original);
    const total = 10_000;
    for (let i = 1; i < total; i++) await link(original, path.join(big, `ct-${i}.dcm`));

    await page.getByTestId('import-path').fill(big);
    await page.getByTestId('import-button').click();
    const cancel = page.getByTestId('import-cancel');
    await cancel.waitFor({ state: 'visible', timeout: 10_000 });
    await cancel.click();

    const summary = page.getByTestId('import-summary');
    await expect.poll(() => summary.getAttribute('data-state'), { timeout: 60_000 }).toBe('cancelled');
    const text = await summary.innerText();
    expect(text).toMatch(/^Cancelled: /);
    const seen = Number(/from (\d+) files?/.exec(text)?.[1]);
    expect(seen, `files read before the cancel took effect (${text})`).toBeLessThan(total);
    await expect.poll(() => page.getByTestId('import-progress').isHidden()).toBe(true);
    expect(await page.getByTestId('import-button').isEnabled()).toBe(true);
  });
});
