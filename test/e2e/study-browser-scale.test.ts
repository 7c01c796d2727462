// The study browser with 2,000 studies: rows are created as the list scrolls (not 2,000
// at once), search and filters answer promptly, and "forget" asks first, then removes
// the study from the list and the index only.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, listFiles } from '../host/dicom-template.ts';
import { launchChromium, openApp, screenshotPage, startWorkstation, waitForRenderedSlice, type AppPage, type Workstation } from './harness.ts';

const STUDIES = 2000;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'mr-e2e-scale-'));
  generate(folder, STUDIES, 32, 1);
  browser = await launchChromium();
  workstation = await startWorkstation();
  app = await openApp(browser, workstation.server);
  await waitForRenderedSlice(app.page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
  await workstation.call('dicom.import', { jobId: 'scale', paths: [folder] });
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('study browser with 2,000 studies (browser mode)', () => {
  const total = STUDIES + 1; // and the sample

  it('lists every study in the count but creates rows only as the list scrolls', async () => {
    const { page } = app;
    const count = page.getByTestId('study-count');
    await expect.poll(() => count.innerText(), { timeout: 30_000 }).toBe(`${total} studies`);
    const rows = page.locator('[data-testid="study-browser"] .study');
    const first = await rows.count();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(total / 10);
    for (let i = 0; i < 5; i++) {
      await page.getByTestId('study-browser').evaluate((list) => {
        (list as unknown as { scrollTop: number; scrollHeight: number }).scrollTop = (list as unknown as { scrollHeight: number }).scrollHeight;
      });
      await page.waitForTimeout(150);
    }
    await expect.poll(() => rows.count()).toBeGreaterThan(first);
    expect(await rows.count()).toBeLessThan(total);
    await screenshotPage(page, 'study-browser-2000');
  });

  it('search by patient ID and a date range answer within a second or two', async () => {
    const { page } = app;
    const count = page.getByTestId('study-count');
    const started = Date.now();
    // Patient IDs repeat every 1,000 studies: BENCH-000777 has studies 777 and 1777.
    await page.getByTestId('study-search').fill('bench-000777');
    await expect.poll(() => count.innerText(), { timeout: 5_000 }).toBe(`2 of ${total} studies`);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await page.locator('[data-testid="study-browser"] .study').count()).toBe(2);
    await page.getByTestId('study-search').fill('');
    // The generated studies are all of 2024-03-01; the sample has its own date.
    const { patients } = (await workstation.call('dicom.studies', {})) as { patients: Array<{ studies: Array<{ studyDate: string }> }> };
    const dates = patients.flatMap((p) => p.studies.map((s) => s.studyDate));
    const within = (from: string, to: string) => dates.filter((d) => d !== '' && d >= from && d <= to).length;
    await page.getByTestId('study-from').fill('2024-03-02');
    await page.getByTestId('study-to').fill('2099-12-31');
    await expect.poll(() => count.innerText()).toBe(`${within('20240302', '20991231')} of ${total} studies`);
    await page.getByTestId('study-from').fill('2024-03-01');
    await page.getByTestId('study-to').fill('2024-03-01');
    await expect.poll(() => count.innerText()).toBe(`${within('20240301', '20240301')} of ${total} studies`);
    expect(within('20240301', '20240301')).toBeGreaterThanOrEqual(STUDIES);
    await page.getByTestId('study-from').fill('');
    await page.getByTestId('study-to').fill('');
    await expect.poll(() => count.innerText()).toBe(`${total} studies`);
  });

  it('forget asks first; declining keeps the study, accepting removes it from the index but not the disk', async () => {
    const { page } = app;
    const count = page.getByTestId('study-count');
    await page.getByTestId('study-search').fill('bench-000777');
    await expect.poll(() => count.innerText()).toBe(`2 of ${total} studies`);
    const study = page.locator('[data-testid="study-browser"] .study').first();
    const uid = await study.getAttribute('data-study-uid');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await study.locator('[data-action="forget"]').click();
    await page.waitForTimeout(300);
    expect(await count.innerText()).toBe(`2 of ${total} studies`);
    page.once('dialog', (dialog) => void dialog.accept());
    await study.locator('[data-action="forget"]').click();
    await expect.poll(() => count.innerText()).toBe(`1 of ${total - 1} studies`);
    const { patients } = (await workstation.call('dicom.studies', {})) as { patients: Array<{ studies: Array<{ studyInstanceUid: string }> }> };
    expect(patients.flatMap((p) => p.studies).some((s) => s.studyInstanceUid === uid)).toBe(false);
    expect(listFiles(folder, STUDIES).every((file) => existsSync(file))).toBe(true);
  });
});
