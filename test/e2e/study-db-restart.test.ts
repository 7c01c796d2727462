// The study database across restarts, in the real UI: the sample, an imported folder, an
// exported SEG and a series retrieved from a real Orthanc are all listed after the server
// (and its host) restarts on the same data folder, and they open. Then the browser's
// search and filters, and a file deleted on disk while listed.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLabelmap } from '../../electron/common/contract-seg.ts';
import { OrthancFixture } from '../host/orthanc-fixture.ts';
import { CT_SMALL, MR_SMALL, pydicomValues, requirePydicomFiles } from '../host/orthanc-test-data.ts';
import { launchChromium, openApp, openSeriesFromBrowser, startWorkstation, waitForRenderedSlice, type AppPage, type Workstation } from './harness.ts';

type Series = { seriesKey: string; seriesInstanceUid: string; studyInstanceUid: string; kind: string; sliceCount: number; modality: string; geometry: { rows: number; columns: number } | null };
type StudiesAnswer = { patients: Array<{ patientName: string; studies: Array<{ studyInstanceUid: string; description: string; series: Series[] }> }> };

let orthanc: OrthancFixture;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let dataDir: string;
let folder: string;
let mr: Record<string, string>;

async function allSeries(ws: Workstation): Promise<Series[]> {
  const { patients } = (await ws.call('dicom.studies', {})) as StudiesAnswer;
  return patients.flatMap((p) => p.studies.flatMap((s) => s.series));
}

async function restart(): Promise<void> {
  await app.close();
  await workstation.close();
  workstation = await startWorkstation({ dataDir });
  app = await openApp(browser, workstation.server);
}

beforeAll(async () => {
  requirePydicomFiles();
  orthanc = await OrthancFixture.start();
  orthanc.storeWithDcmtk([MR_SMALL]);
  mr = pydicomValues(MR_SMALL, ['StudyInstanceUID', 'SeriesInstanceUID']);
  dataDir = await mkdtemp(path.join(tmpdir(), 'mr-e2e-db-'));
  folder = await mkdtemp(path.join(tmpdir(), 'mr-e2e-db-in-'));
  await mkdir(path.join(folder, 'ct'));
  await copyFile(CT_SMALL, path.join(folder, 'ct', 'CT_small.dcm'));
  browser = await launchChromium();
  workstation = await startWorkstation({ dataDir });
  app = await openApp(browser, workstation.server);
  await waitForRenderedSlice(app.page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
  await orthanc?.dispose();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('study database across restarts (browser mode)', () => {
  let before: Series[];

  it('after a restart lists the imported study, the exported SEG and the retrieved series, and they open', async () => {
    await workstation.call('dicom.import', { jobId: 'e2e-folder', paths: [folder] });
    const sample = (await allSeries(workstation)).find((s) => s.kind === 'image' && s.sliceCount > 10)!;
    const { columns, rows } = sample.geometry!;
    const labels = new Uint8Array(columns * rows * sample.sliceCount);
    const middle = Math.floor(sample.sliceCount / 2);
    for (let y = 100; y < 140; y++) for (let x = 100; x < 140; x++) labels[middle * columns * rows + y * columns + x] = 1;
    const segment = {
      number: 1,
      label: 'Box',
      color: [255, 0, 0],
      category: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical structure' },
      type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' },
      provenance: { source: 'manual' },
    };
    const exported = (await workstation.call('seg.export', { seriesKey: sample.seriesKey, segmentation: { segments: [segment], labelmap: encodeLabelmap(labels) } })) as { seg: { path: string; seriesInstanceUid: string } };
    expect(exported.seg.path.startsWith(path.join(dataDir, 'segmentations'))).toBe(true);
    await workstation.call('pacs.nodes.save', { node: { type: 'dimse', name: 'Orthanc', calledAet: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort } });
    const retrieved = (await workstation.call('pacs.retrieve', { jobId: 'e2e-get', node: { name: 'Orthanc' }, studyInstanceUid: mr['StudyInstanceUID'], seriesInstanceUid: mr['SeriesInstanceUID'] })) as { received: number };
    expect(retrieved.received).toBe(1);
    before = await allSeries(workstation);
    expect(before.map((s) => s.seriesInstanceUid)).toEqual(expect.arrayContaining([exported.seg.seriesInstanceUid, mr['SeriesInstanceUID']]));

    await restart();
    const page = app.page;
    const after = await allSeries(workstation);
    expect(after).toEqual(before);
    // Every series, the SEG and the retrieved MR included, is in the study browser.
    for (const series of after) {
      await expect.poll(() => page.locator(`[data-testid="study-browser"] [data-series-key="${series.seriesKey}"]`).count(), { timeout: 20_000 }).toBe(1);
    }
    const seg = after.find((s) => s.seriesInstanceUid === exported.seg.seriesInstanceUid)!;
    expect(seg.kind).toBe('SEG');
    const segDetail = (await workstation.call('dicom.series', { seriesKey: seg.seriesKey })) as { instances: Array<{ fileKey: string }> };
    const reopened = (await workstation.call('seg.import', { fileKey: segDetail.instances[0]!.fileKey, seriesKey: sample.seriesKey })) as { segments: unknown[] };
    expect(reopened.segments).toHaveLength(1);
    const mrSeries = after.find((s) => s.seriesInstanceUid === mr['SeriesInstanceUID'])!;
    const state = await openSeriesFromBrowser(page, mrSeries.seriesKey);
    expect(state.imageCount).toBe(1);
    const ct = after.find((s) => s.modality === 'CT' && s.sliceCount === 1)!;
    expect((await openSeriesFromBrowser(page, ct.seriesKey)).imageCount).toBe(1);
  });

  it('searches, filters by modality and counts studies', async () => {
    const page = app.page;
    const count = page.getByTestId('study-count');
    await expect.poll(() => count.innerText()).toBe('3 studies');
    await page.getByTestId('study-modality').selectOption('MR');
    await expect.poll(() => count.innerText()).toBe('1 of 3 studies');
    expect(await page.locator(`[data-testid="study-browser"] .study[data-study-uid="${mr['StudyInstanceUID']}"]`).count()).toBe(1);
    await page.getByTestId('study-modality').selectOption('');
    await page.getByTestId('study-search').fill('no such patient anywhere');
    await expect.poll(() => count.innerText()).toBe('0 of 3 studies');
    await page.getByTestId('study-search').fill('');
    await expect.poll(() => count.innerText()).toBe('3 studies');
  });

  it('a file deleted on disk is answered 404; the Re-scan button marks it missing, its study leaves the list, and other series still open', async () => {
    const page = app.page;
    const ct = (await allSeries(workstation)).find((s) => s.modality === 'CT' && s.sliceCount === 1)!;
    await rm(path.join(folder, 'ct', 'CT_small.dcm'));
    const response = await page.evaluate(async (key) => (await fetch(`/files/${key}`)).status, ((await workstation.call('dicom.series', { seriesKey: ct.seriesKey })) as { slices: Array<{ fileKey: string }> }).slices[0]!.fileKey);
    expect(response).toBe(404);
    await page.getByTestId('study-rescan').click();
    await expect.poll(async () => ((await workstation.call('dicom.database', {})) as { missing: number }).missing, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator(`[data-testid="study-browser"] [data-series-key="${ct.seriesKey}"]`).count(), { timeout: 20_000 }).toBe(0);
    // The app still works: another series opens.
    const mrSeries = (await allSeries(workstation)).find((s) => s.seriesInstanceUid === mr['SeriesInstanceUID'])!;
    expect((await openSeriesFromBrowser(page, mrSeries.seriesKey)).imageCount).toBe(1);
  });
});
