// The PACS drawer end to end, against a real Orthanc on loopback: configure a DIMSE and a
// DICOMweb node through the UI, test both connections (and see a refused one named as
// such), query, expand a study into its series, retrieve a series over C-GET, view it,
// then send the built-in sample from the UI and find every one of its instances at
// Orthanc through Orthanc's own REST API; last, a WADO-RS study with an instance our store
// refuses shows "1 instance skipped" with the reason. Orthanc is seeded with dcmtk's
// storescu, so what we retrieve does not stand on our own sender.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrthancFixture, freePort } from '../host/orthanc-fixture.ts';
import { deflatedCt, withInflateBudget } from '../host/deflate-bomb.ts';
import { makeTempDir } from '../host/fixtures-dicom.ts';
import { CT_SMALL, MR_SMALL, pydicomValues, randomUid, requirePydicomFiles, writeTestSeries } from '../host/orthanc-test-data.ts';
import {
  launchChromium,
  openApp,
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

type StudiesAnswer = {
  patients: Array<{ studies: Array<{ series: Array<{ seriesKey: string; seriesInstanceUid: string; studyInstanceUid: string; kind: string; sliceCount: number; instanceCount: number }> }> }>;
};

let orthanc: OrthancFixture;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let ct: Record<string, string>;
let mr: Record<string, string>;
const work = makeTempDir('e2e-pacs');

beforeAll(async () => {
  requirePydicomFiles();
  orthanc = await OrthancFixture.start();
  orthanc.storeWithDcmtk([CT_SMALL, MR_SMALL]);
  ct = pydicomValues(CT_SMALL, ['SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'PatientID', 'PatientName']);
  mr = pydicomValues(MR_SMALL, ['StudyInstanceUID', 'SeriesInstanceUID', 'PatientName']);
  browser = await launchChromium();
  workstation = await startWorkstation();
  app = await openApp(browser, workstation.server, { width: 1440, height: 900 });
  await waitForRenderedSlice(app.page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
  await orthanc?.dispose();
  work.remove();
});

async function allSeries(): Promise<StudiesAnswer['patients'][number]['studies'][number]['series']> {
  const { patients } = (await workstation.call('dicom.studies', {})) as StudiesAnswer;
  return patients.flatMap((patient) => patient.studies.flatMap((study) => study.series));
}

async function fillDimseNode(page: Page, name: string, port: number): Promise<void> {
  await page.getByTestId('pacs-node-add').click();
  await page.getByTestId('pacs-form-type').selectOption('dimse');
  await page.getByTestId('pacs-form-name').fill(name);
  await page.getByTestId('pacs-form-called-aet').fill(orthanc.aet);
  await page.getByTestId('pacs-form-host').fill('127.0.0.1');
  await page.getByTestId('pacs-form-port').fill(String(port));
  await page.getByTestId('pacs-form-calling-aet').fill('MEDREASONER');
}

describe('PACS panel (browser mode, real Orthanc)', () => {
  it('shows the inference status plainly when no models are installed', async () => {
    const { page } = app;
    const summary = page.getByTestId('inference-summary');
    await expect.poll(() => summary.innerText(), { timeout: 20_000 }).toMatch(/^AI: (CPU|CUDA) · no models installed$/);
    await summary.click();
    const details = page.getByTestId('inference-details');
    expect((await page.getByTestId('inference-provider-reason').innerText()).length, 'the provider comes with its reason').toBeGreaterThan(10);
    // The reasoning model has no built-in fallback: it must say it is missing and how to install it.
    const crm = details.locator('[data-role="crm"]');
    expect(await crm.getAttribute('data-state')).toBe('missing');
    expect(await crm.innerText()).toMatch(/not installed/);
    expect((await page.getByTestId('inference-hint-crm').innerText()).length).toBeGreaterThan(20);
    await screenshotPage(page, 'pacs-inference-status');
    await summary.click();
  });

  it('configures nodes through the UI and reports each connection test precisely', async () => {
    const { page } = app;
    await page.getByTestId('pacs-open').click();
    await expect.poll(() => page.getByTestId('pacs-node-list').innerText()).toMatch(/No PACS configured/);

    // A port nothing listens on: the form's test (before saving) must say "refused", not a vague error.
    await fillDimseNode(page, 'Orthanc DIMSE', await freePort());
    await page.getByTestId('pacs-form-test').click();
    const formResult = page.getByTestId('pacs-form-result');
    await expect.poll(() => formResult.innerText(), { timeout: 30_000 }).toMatch(/^Failed after \d+ ms: refused: /);
    expect(await formResult.getAttribute('data-state')).toBe('error');

    await page.getByTestId('pacs-form-port').fill(String(orthanc.dicomPort));
    await page.getByTestId('pacs-form-test').click();
    await expect.poll(() => formResult.innerText(), { timeout: 30_000 }).toMatch(/^OK in \d+ ms/);
    await page.getByTestId('pacs-form-save').click();
    await expect.poll(() => page.getByTestId('pacs-node-form').isHidden()).toBe(true);

    await page.getByTestId('pacs-node-add').click();
    await page.getByTestId('pacs-form-type').selectOption('dicomweb');
    await page.getByTestId('pacs-form-name').fill('Orthanc web');
    await page.getByTestId('pacs-form-base-url').fill(orthanc.dicomwebUrl);
    await page.getByTestId('pacs-form-save').click();
    await expect.poll(() => page.getByTestId('pacs-node-form').isHidden()).toBe(true);

    // Both saved nodes are what the host stores, and each tests OK from its row.
    const stored = (await workstation.call('pacs.nodes.list', {})) as { nodes: Array<{ name: string; type: string; port?: number; baseUrl?: string }> };
    expect(stored.nodes.map((node) => [node.name, node.type]).sort()).toEqual([
      ['Orthanc DIMSE', 'dimse'],
      ['Orthanc web', 'dicomweb'],
    ]);
    expect(stored.nodes.find((node) => node.type === 'dimse')?.port).toBe(orthanc.dicomPort);
    for (const name of ['Orthanc DIMSE', 'Orthanc web']) {
      const row = page.locator(`.pacs-node[data-node-name="${name}"]`);
      await row.getByTestId('pacs-node-test').click();
      await expect.poll(() => row.getByTestId('pacs-node-test-result').innerText(), { timeout: 30_000 }).toMatch(/^OK in \d+ ms/);
    }
    await screenshotPage(page, 'pacs-nodes');
  });

  it('queries, expands a study into its series, retrieves a series over C-GET with progress, and views it', async () => {
    const { page } = app;
    await page.getByTestId('pacs-tab-query').click();
    await page.getByTestId('pacs-query-node').selectOption('Orthanc DIMSE');
    await page.getByTestId('pacs-query-patient-id').fill(ct['PatientID']!);
    await page.getByTestId('pacs-query-modality').fill('ct');
    await page.getByTestId('pacs-query-search').click();
    await expect.poll(() => page.getByTestId('pacs-query-message').innerText(), { timeout: 30_000 }).toBe('1 study found.');
    const study = page.locator(`.pacs-study[data-study-uid="${ct['StudyInstanceUID']}"]`);
    expect(await study.count()).toBe(1);

    await study.getByTestId('pacs-study-expand').click();
    const series = study.locator(`.pacs-series[data-series-uid="${ct['SeriesInstanceUID']}"]`);
    await expect.poll(() => series.count(), { timeout: 30_000 }).toBe(1);
    expect(await series.innerText()).toMatch(/CT[\s\S]*1 instance/);

    // Record the progress area while the retrieve runs: one small instance can be over in a blink.
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { hidden: boolean; textContent: string | null } | null } }).document;
      const seen: string[] = [];
      (globalThis as unknown as { __retrieveSeen: string[] }).__retrieveSeen = seen;
      const progress = doc.querySelector('[data-testid="pacs-retrieve-progress"]');
      const observer = new (globalThis as unknown as { MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void } }).MutationObserver(() => {
        if (progress && !progress.hidden) seen.push(progress.textContent ?? '');
      });
      observer.observe(progress, { attributes: true, subtree: true, childList: true, characterData: true });
    });
    await series.getByTestId('pacs-series-retrieve').click();
    const summary = page.getByTestId('pacs-retrieve-summary');
    await expect.poll(() => summary.innerText(), { timeout: 60_000 }).toMatch(/^Retrieved 1 instance of .* by C-GET in [\d.]+ s\./);
    expect(await summary.getAttribute('data-state')).toBe('ok');
    const seen = await page.evaluate(() => (globalThis as unknown as { __retrieveSeen: string[] }).__retrieveSeen);
    expect(seen.length, 'the progress area was shown during the retrieve').toBeGreaterThan(0);
    expect(await page.getByTestId('pacs-retrieve-progress').isHidden()).toBe(true);

    // The host imported it: the study browser lists the series (refreshed by dicom.studiesChanged).
    const local = (await allSeries()).find((entry) => entry.seriesInstanceUid === ct['SeriesInstanceUID']);
    expect(local, 'the retrieved series is in the local index').toBeDefined();
    const browserItem = page.locator(`[data-testid="study-browser"] [data-series-key="${local!.seriesKey}"]`);
    await expect.poll(() => browserItem.count(), { timeout: 20_000 }).toBe(1);

    await page.getByTestId('pacs-retrieve-view').click();
    await waitForRenderedSlice(page, (state) => state.seriesKey === local!.seriesKey, 'the retrieved CT to render');
    await screenshotPage(page, 'pacs-retrieved');
    await page.getByTestId('pacs-close').click();
    await waitForQuietViewport(page);
    const shot = await screenshotViewport(page, 'pacs-retrieved-viewport');
    const stats = pixelStats(shot.image);
    expect(stats.stdDev, 'the retrieved CT renders with contrast, not blank').toBeGreaterThan(20);
    expect(stats.litFraction).toBeGreaterThan(0.1);
  });

  it('queries by patient name over DICOMweb and retrieves a series by WADO-RS', async () => {
    const { page } = app;
    await page.getByTestId('pacs-open').click();
    await page.getByTestId('pacs-tab-query').click();
    await page.getByTestId('pacs-query-node').selectOption('Orthanc web');
    await page.getByTestId('pacs-query-patient-id').fill('');
    await page.getByTestId('pacs-query-modality').fill('');
    // Both seeded files share the family name: a wildcard on it finds both studies.
    const family = mr['PatientName']!.split('^')[0]!;
    expect(ct['PatientName']!.startsWith(family)).toBe(true);
    await page.getByTestId('pacs-query-patient-name').fill(`${family}*`);
    await page.getByTestId('pacs-query-search').click();
    await expect.poll(() => page.getByTestId('pacs-query-message').innerText(), { timeout: 30_000 }).toBe('2 studies found.');
    const study = page.locator(`.pacs-study[data-study-uid="${mr['StudyInstanceUID']}"]`);
    await study.getByTestId('pacs-study-expand').click();
    const series = study.locator(`.pacs-series[data-series-uid="${mr['SeriesInstanceUID']}"]`);
    await expect.poll(() => series.count(), { timeout: 30_000 }).toBe(1);
    await series.getByTestId('pacs-series-retrieve').click();
    await expect.poll(() => page.getByTestId('pacs-retrieve-summary').innerText(), { timeout: 60_000 }).toMatch(/^Retrieved 1 instance of .* by WADO-RS in [\d.]+ s\./);
    expect((await allSeries()).some((entry) => entry.seriesInstanceUid === mr['SeriesInstanceUID'])).toBe(true);
    await page.getByTestId('pacs-close').click();
  });

  it('sends the sample series from the UI; the outbox shows it delivered and Orthanc has every instance', async () => {
    const { page } = app;
    const retrieved = [ct['SeriesInstanceUID'], mr['SeriesInstanceUID']];
    const sample = (await allSeries()).find((entry) => !retrieved.includes(entry.seriesInstanceUid) && entry.kind === 'image');
    if (!sample) throw new Error('the built-in sample series is not in the local index');
    const before = await orthanc.instanceCount();

    await page.getByTestId('pacs-open').click();
    await page.getByTestId('pacs-tab-send').click();
    await page.getByTestId('pacs-send-node').selectOption('Orthanc DIMSE');
    // The viewed series (the retrieved CT) is preselected; send the sample instead.
    const checks = page.getByTestId('pacs-send-check');
    await expect.poll(() => checks.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const ctCheck = page.locator(`[data-testid="pacs-send-check"][data-series-key="${(await viewportState(page)).seriesKey}"]`);
    // The list may already be drawn from an earlier refresh; opening the tab re-draws it with the viewed series ticked.
    await expect.poll(() => ctCheck.isChecked(), { message: 'the series in the viewport is preselected', timeout: 10_000 }).toBe(true);
    await ctCheck.uncheck();
    await page.locator(`[data-testid="pacs-send-check"][data-series-key="${sample.seriesKey}"]`).check();
    await page.getByTestId('pacs-send-button').click();
    await expect.poll(() => page.getByTestId('pacs-send-message').innerText(), { timeout: 30_000 }).toBe(`Queued ${sample.instanceCount} instance${sample.instanceCount === 1 ? '' : 's'} for Orthanc DIMSE.`);

    const group = page.locator(`[data-testid="pacs-outbox-group"][data-series-uid="${sample.seriesInstanceUid}"]`);
    await expect.poll(() => group.locator('.pacs-outbox-line').first().innerText(), { timeout: 60_000 }).toMatch(new RegExp(`^${sample.instanceCount} delivered`, 'i'));
    const items = group.getByTestId('pacs-outbox-item');
    await expect.poll(() => items.count(), { timeout: 30_000 }).toBe(sample.instanceCount);
    await expect
      .poll(() => page.locator('[data-testid="pacs-outbox-item"][data-state="delivered"]').count(), { timeout: 60_000 })
      .toBe(sample.instanceCount);
    expect(await page.getByTestId('pacs-outbox-info').innerText()).toBe(`${sample.instanceCount} delivered`);
    await screenshotPage(page, 'pacs-outbox');

    // Orthanc's own view: the series is there with every instance, and nothing else was added.
    const hits = await orthanc.rest<Array<{ ID: string; Type: string }>>('/tools/lookup', { method: 'POST', body: sample.seriesInstanceUid });
    const seriesId = hits.find((hit) => hit.Type === 'Series')?.ID;
    expect(seriesId, 'Orthanc has the sent series').toBeDefined();
    const orthancSeries = await orthanc.rest<{ Instances: string[] }>(`/series/${seriesId}`);
    expect(orthancSeries.Instances.length).toBe(sample.instanceCount);
    expect(await orthanc.instanceCount()).toBe(before + sample.instanceCount);

    // "Clear delivered" drops the records from the outbox.
    await page.getByTestId('pacs-outbox-clear').click();
    await expect.poll(() => page.getByTestId('pacs-outbox').innerText(), { timeout: 20_000 }).toMatch(/Nothing sent yet/);
  });

  it('shows why an item waits when its PACS is unreachable, and removes it on request', async () => {
    const { page } = app;
    await page.getByTestId('pacs-tab-nodes').click();
    await fillDimseNode(page, 'Closed port', await freePort());
    await page.getByTestId('pacs-form-save').click();
    await expect.poll(() => page.getByTestId('pacs-node-form').isHidden()).toBe(true);

    await page.getByTestId('pacs-tab-send').click();
    await page.getByTestId('pacs-send-node').selectOption('Closed port');
    for (const box of await page.getByTestId('pacs-send-check').all()) await box.uncheck();
    const ctLocal = (await allSeries()).find((entry) => entry.seriesInstanceUid === ct['SeriesInstanceUID'])!;
    await page.locator(`[data-testid="pacs-send-check"][data-series-key="${ctLocal.seriesKey}"]`).check();
    await page.getByTestId('pacs-send-button').click();
    const group = page.locator(`[data-testid="pacs-outbox-group"][data-series-uid="${ct['SeriesInstanceUID']}"]`);
    await expect.poll(() => group.getByTestId('pacs-outbox-group-failure').innerText().catch(() => ''), { timeout: 60_000 }).toMatch(/^Last try failed: refused: /);
    expect(await group.locator('[data-testid="pacs-outbox-item"][data-state="queued"]').count(), 'the item waits in the queue').toBe(1);
    expect(await group.innerText()).toMatch(/next try/);
    await screenshotPage(page, 'pacs-outbox-waiting');
    await group.getByTestId('pacs-outbox-group-remove').click();
    await expect.poll(() => page.getByTestId('pacs-outbox').innerText(), { timeout: 20_000 }).toMatch(/Nothing sent yet/);
  });

  it('retrieves a WADO-RS study with an instance our store refuses: the others arrive, "1 instance skipped" with the reason', async () => {
    const { page } = app;
    const good = writeTestSeries(path.join(work.path, 'partly-refused'), 2, { patientId: 'PACS-UI-SKIP', patientName: 'Test^Patient', accessionNumber: 'ACC-UI-SKIP' });
    orthanc.storeWithDcmtk(good.files);
    const bombSop = randomUid();
    const bomb = await deflatedCt(path.join(work.path, 'partly-refused'), bombSop, 4 * 1024 * 1024, good.seriesInstanceUid, { studyUid: good.studyInstanceUid, patientId: good.patientId });
    await orthanc.rest('/instances', { method: 'POST', body: bomb });

    if (await page.getByTestId('pacs-panel').isHidden()) await page.getByTestId('pacs-open').click();
    await page.getByTestId('pacs-tab-query').click();
    await page.getByTestId('pacs-query-node').selectOption('Orthanc web');
    await page.getByTestId('pacs-query-patient-name').fill('');
    await page.getByTestId('pacs-query-patient-id').fill(good.patientId);
    await page.getByTestId('pacs-query-search').click();
    await expect.poll(() => page.getByTestId('pacs-query-message').innerText(), { timeout: 30_000 }).toBe('1 study found.');
    const summary = page.getByTestId('pacs-retrieve-summary');
    // The host runs in this process: the budget set here is the one its instance parser applies.
    await withInflateBudget(1, async () => {
      await page.locator(`.pacs-study[data-study-uid="${good.studyInstanceUid}"]`).getByTestId('pacs-study-retrieve').click();
      await expect.poll(() => summary.innerText(), { timeout: 60_000 }).toMatch(/^Retrieved 2 instances of .* by WADO-RS in [\d.]+ s; 1 instance skipped\./);
    });
    expect(await summary.getAttribute('data-state')).toBe('error');
    const items = page.getByTestId('pacs-retrieve-skipped-item');
    expect(await items.count()).toBe(1);
    expect(await items.first().innerText()).toMatch(new RegExp(`^${bombSop.replaceAll('.', '\\.')} \\(part [1-3]\\): the deflated data set inflates past 1 MB`));
    // The two good instances are in the local index as one series.
    const local = (await allSeries()).find((entry) => entry.seriesInstanceUid === good.seriesInstanceUid);
    expect(local).toMatchObject({ instanceCount: 2 });
    await screenshotPage(page, 'pacs-retrieve-skipped');
  });
});
