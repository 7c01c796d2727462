// The reasoning round trip through the app: an AI segment (question, reasoning, answer,
// prompts, models) exported as a LABELMAP RLE SEG plus its TID 1500 SR, the workstation
// restarted on the same data folder, the export folder imported, and the SEG imported
// from the study's SEG list in the segment editor: the segment's provenance panel shows
// the question and the reasoning again, read back from the SR by the host.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLabelmap, type SegExportResult } from '../../electron/common/contract-seg.ts';
import type { PatientSummary, SeriesDetail } from '../../electron/common/dicom-model.ts';
import { CATEGORY, FINDING } from '../../electron/host/seg/codes.ts';
import { launchChromium, openApp, startWorkstation, waitForRenderedSlice, type AppPage, type Workstation } from './harness.ts';
import { waitForSeg } from './segment-state.ts';

const QUESTION = 'Is there a focal lesion in the liver?';
const REASONING = 'Step 1: the liver is the large organ under the right hemidiaphragm.\nStep 2: a round hypodense focus — a cyst (≈ 5 HU).';

let browser: Browser;
let first: Workstation | undefined;
let second: Workstation | undefined;
let app: AppPage | undefined;
let page: Page;
let exported: SegExportResult;
let version2: SegExportResult;
let detail: SeriesDetail;
let dataDir: string;

beforeAll(async () => {
  browser = await launchChromium();
  dataDir = await mkdtemp(path.join(tmpdir(), 'mr-e2e-seg-sr-'));
  first = await startWorkstation({ dataDir });
  await first.call('sample.open', { jobId: 'e2e-sample' });
  const { patients } = (await first.call('dicom.studies', {})) as { patients: PatientSummary[] };
  const series = patients[0]!.studies[0]!.series.find((s) => s.kind === 'image')!;
  detail = (await first.call('dicom.series', { seriesKey: series.seriesKey })) as SeriesDetail;
  const geometry = detail.series.geometry!;
  const perSlice = geometry.rows * geometry.columns;
  const labelmap = new Uint8Array(perSlice * detail.slices.length);
  const k = Math.floor(detail.slices.length / 2);
  for (let y = 100; y < 130; y++) labelmap.fill(1, k * perSlice + y * geometry.columns + 90, k * perSlice + y * geometry.columns + 120);
  const exportParams = {
    seriesKey: series.seriesKey,
    segmentation: {
      segments: [
        {
          number: 1,
          label: 'Liver lesion',
          color: [255, 200, 0],
          category: CATEGORY.morphologicallyAbnormalStructure,
          type: FINDING.cyst,
          provenance: {
            source: 'ai',
            question: QUESTION,
            reasoning: REASONING,
            answer: '{"answer":"yes"}',
            prompts: [{ kind: 'box', sliceIndex: k, x0: 90, y0: 100, x1: 120, y1: 130 }],
            models: [
              { name: 'Qwen2.5-VL-CRM', version: '7b', server: 'crm.example.org' },
              { name: 'MedSAM2', version: '1.0' },
            ],
          },
        },
      ],
      labelmap: encodeLabelmap(labelmap),
    },
    type: 'LABELMAP',
    compression: 'rle',
    withSr: true,
  };
  exported = (await first.call('seg.export', exportParams)) as SegExportResult;
  // A second version of the same segmentation: the study browser shows the chain.
  version2 = (await first.call('seg.export', {
    ...exportParams,
    supersedes: { sopInstanceUid: exported.seg.sopInstanceUid, seriesInstanceUid: exported.seg.seriesInstanceUid },
  })) as SegExportResult;
  // Restart: a new host on the same data folder.
  await first.close();
  first = undefined;
  second = await startWorkstation({ dataDir });
  app = await openApp(browser, second.server);
  page = app.page;
  // The study database lists the sample after the restart, so nothing opens by itself: open it from the browser.
  await page.locator(`button.series-item[data-series-key="${detail.series.seriesKey}"]`).click();
  await waitForRenderedSlice(page, (state) => state.seriesKey === detail.series.seriesKey, 'the sample to open after the restart', 120_000);
  await second.call('dicom.import', { jobId: 'e2e-segs', paths: [path.dirname(exported.seg.path)] });
  // A Label Map SEG (…66.7) is listed as a SEG of the study, not as an image series.
  const { patients: after } = (await second.call('dicom.studies', {})) as { patients: PatientSummary[] };
  expect(after[0]!.studies[0]!.series.map((s) => s.kind).sort()).toEqual(['SEG', 'SEG', 'SR', 'SR', 'image']);
}, 300_000);

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await first?.close();
  await second?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('SEG + SR round trip', () => {
  it('the study browser shows the SEG version chain, the source series, and the SEG each SR documents', async () => {
    const item = (uid: string, link: string) => page.locator(`.series-item[data-series-key="${uid}"] [data-link="${link}"]`);
    await expect.poll(() => item(version2.seg.seriesInstanceUid, 'chain').textContent(), { timeout: 30_000 }).toMatch(/^v2, replaces v1 \(#\d+ /);
    const source = await item(version2.seg.seriesInstanceUid, 'source').textContent();
    expect(source).toMatch(/^on /);
    expect(source).toContain(detail.series.description || detail.series.modality);
    expect(await item(exported.seg.seriesInstanceUid, 'chain').textContent()).toBe('v1');
    expect(await item(exported.seg.seriesInstanceUid, 'replaced-by').textContent()).toMatch(/^replaced by v2 \(#\d+ /);
    expect(await item(exported.sr!.seriesInstanceUid, 'chain').textContent()).toMatch(/^documents SEG v1 \(#\d+ /);
    expect(await item(version2.sr!.seriesInstanceUid, 'chain').textContent()).toMatch(/^documents SEG v2 \(#\d+ /);
  });

  it('after a restart, importing the SEG brings back the question and the reasoning in the segment\'s provenance', async () => {
    expect(exported.sr).not.toBeNull();
    await waitForSeg(page, (s) => s.seriesKey === detail.series.seriesKey, 'the editor to open the sample');
    await page.getByTestId('segment-import-list').click();
    await expect.poll(() => page.getByTestId('segment-import-series').locator('option').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await page.getByTestId('segment-import').click();
    const state = await waitForSeg(page, (s) => (s.message?.text ?? '').startsWith('Imported'), 'the import', 60_000);
    expect(state.message?.text).toContain('with its reasoning report');
    expect(state.segments.map((s) => [s.label, s.source])).toEqual([['Liver lesion', 'ai']]);
    await page.getByTestId('segment-select-1').click();
    await expect.poll(() => page.getByTestId('segment-provenance-question').innerText(), { timeout: 10_000 }).toContain(QUESTION);
    const reasoning = page.getByTestId('segment-provenance-reasoning');
    await reasoning.locator('summary').click();
    expect(await reasoning.locator('pre').innerText()).toBe(REASONING);
    expect(await page.getByTestId('segment-provenance-models').innerText()).toContain('Qwen2.5-VL-CRM 7b (on crm.example.org), MedSAM2 1.0 (local)');
    expect(app!.problems).toEqual([]);
  });
});
