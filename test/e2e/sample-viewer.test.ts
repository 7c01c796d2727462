// The first screen on a fresh install: the sample opens by itself, and the stack
// viewport shows it faithfully and reacts to the mouse and keyboard. Where anatomy
// lies is read from the sample's ground truth (ground-truth.nrrd/json), and expected
// grey levels from pydicom's decode of the very slice file on screen.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import type { MrTestGlobal, ViewerState } from '../../renderer/src/test-hook-types.ts';
import { openSampleApp, sampleImagePixels, screenshotPage, screenshotViewport, viewportState, waitForQuietViewport, waitForRenderedSlice, type AppPage, type SampleApp, type SampledImage, type Workstation } from './harness.ts';
import { compareImages, decodePng, pixelStats } from './png.ts';
import { distanceOutside, expectedDisplayRange, referenceImage, type ReferenceImage } from './reference-pixels.ts';

const LUNG_LABELS = new Set([2, 3]);
const BODY_LABEL = 1;

let sample: SampleApp;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let truth: GroundTruth;
let detail: SeriesDetail;
/** Viewer slice index (dicom.series order) of each ground-truth slice k. */
let viewerIndexOfTruthSlice: number[];
/** The window the sample opened with (its header's first WindowCenter/WindowWidth). */
let openingWindow: [number | null, number | null];

beforeAll(async () => {
  sample = await openSampleApp();
  ({ browser, workstation, app, page } = sample);
  detail = sample.detail;
  truth = await readGroundTruth(path.join(workstation.dataDir, 'sample'));
  viewerIndexOfTruthSlice = mapTruthSlicesToViewer(truth, detail);
});

afterAll(async () => {
  await sample?.close();
});

/** Matches ground-truth slice k to the viewer's slice by position along the normal; checks the pixel grids coincide. */
function mapTruthSlicesToViewer(gt: GroundTruth, series: SeriesDetail): number[] {
  const [, , slices] = gt.sizes;
  const normal = gt.info.geometry.directions[2];
  const along = (p: readonly number[]) => p.reduce((sum, value, axis) => sum + (value - (gt.origin[axis] ?? 0)) * (normal[axis] ?? 0), 0);
  const mapping: number[] = [];
  for (let k = 0; k < slices; k++) {
    const index = series.slices.findIndex((slice) => slice.position !== null && Math.abs(along(slice.position) / gt.spacing[2] - k) < 0.01);
    if (index < 0) throw new Error(`no slice of the sample series lies at ground-truth slice ${k}`);
    const position = series.slices[index]?.position as [number, number, number];
    // Same in-plane origin: image pixel (i, j) of this slice is ground-truth voxel (i, j, k).
    const inPlane = position.map((value, axis) => value - (gt.origin[axis] ?? 0) - k * gt.spacing[2] * (normal[axis] ?? 0));
    if (inPlane.some((offset) => Math.abs(offset) > 1e-3)) throw new Error(`slice ${index} is offset in-plane from the ground truth by ${inPlane.join(', ')} mm`);
    mapping.push(index);
  }
  return mapping;
}

function labelAt(k: number, column: number, row: number): number {
  const [columns, rows] = truth.sizes;
  return truth.labels[(k * rows + row) * columns + column] ?? 0;
}

function luminance([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function goToSlice(index: number): Promise<ViewerState> {
  const viewport = page.getByTestId('viewport');
  await viewport.focus();
  const current = (await viewportState(page)).imageIndex;
  const key = index > current ? 'ArrowDown' : 'ArrowUp';
  for (let i = 0; i < Math.abs(index - current); i++) await page.keyboard.press(key);
  await waitForRenderedSlice(page, (state) => state.imageIndex === index, `slice ${index + 1}`);
  return waitForQuietViewport(page);
}

async function sliceFile(k: number): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(workstation.dataDir, 'sample', 'sample.json'), 'utf8')) as { files: Array<{ fileName: string; sliceIndex: number }> };
  const entry = manifest.files.find((file) => file.sliceIndex === k);
  if (!entry) throw new Error(`sample.json lists no file for slice ${k}`);
  return path.join(workstation.dataDir, 'sample', 'dicom', entry.fileName);
}

/**
 * How far the screen is from pydicom's decode of the slice file through window
 * (center, width), allowing for the sub-pixel interpolation of a magnified image.
 */
function fidelity(sampled: SampledImage, reference: ReferenceImage, windowCenter: number, windowWidth: number): { meanDistance: number; outlierFraction: number; outliers: string } {
  if (!(sampled.magnification >= 1)) throw new Error(`the image must be magnified on screen for this comparison (magnification ${sampled.magnification})`);
  const reach = 0.5 / sampled.magnification;
  let sum = 0;
  const outliers: string[] = [];
  for (const { column, row, rgb } of sampled.samples) {
    const range = expectedDisplayRange(reference, 0, row, column, windowCenter, windowWidth, reach);
    const distance = distanceOutside([luminance(rgb)], { low: [range.low[0], 0, 0], high: [range.high[0], 255, 255] });
    sum += distance;
    if (distance > 8) outliers.push(`(${column},${row}) screen ${luminance(rgb).toFixed(0)} expected ${range.low[0].toFixed(0)}–${range.high[0].toFixed(0)}`);
  }
  return { meanDistance: sum / sampled.samples.length, outlierFraction: outliers.length / sampled.samples.length, outliers: outliers.slice(0, 8).join('; ') };
}

function overlayText(testId: string): Promise<string> {
  return page.getByTestId(testId).innerText();
}

function pagePoint(column: number, row: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([c, r]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.imagePointToPage(c as number, r as number);
    if (!point) throw new Error('no page position for the image point');
    return point;
  }, [column, row]);
}

describe('first start', () => {
  it('opens the sample by itself and lists it in the study browser with a thumbnail', async () => {
    const state = await waitForQuietViewport(page);
    openingWindow = [state.windowWidth, state.windowCenter];
    expect(state.seriesKey).toBe(detail.series.seriesKey);
    expect(state.imageCount).toBe(detail.slices.length);
    expect(state.modality).toBe('CT');

    const item = page.locator(`button.series-item[data-series-key="${detail.series.seriesKey}"]`);
    await expect.poll(() => item.getAttribute('aria-current'), { timeout: 15_000 }).toBe('true');
    expect(await item.innerText()).toContain(`${detail.slices.length} slices`);
    const thumbnail = item.locator('canvas.series-thumbnail');
    await expect.poll(() => thumbnail.getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
    const thumbStats = pixelStats(decodePng(await thumbnail.screenshot()));
    expect(thumbStats.stdDev, 'thumbnail contrast').toBeGreaterThan(15);

    expect(await overlayText('overlay-slice')).toBe(`Im ${state.imageIndex + 1} / ${detail.slices.length}`);
    expect(await overlayText('overlay-series')).toBe(detail.series.description);
    const shot = await screenshotViewport(page, 'sample-first-start');
    const stats = pixelStats(shot.image);
    expect(stats.stdDev, 'viewport contrast').toBeGreaterThan(20);
    expect(stats.litFraction, 'share of the viewport showing something').toBeGreaterThan(0.2);
    await screenshotPage(page, 'first-screen');
    expect(app.problems.filter((p) => /Refused to|Content Security Policy/i.test(p)), 'CSP violations').toEqual([]);
  });
});

describe('stack viewport on the sample', () => {
  let lungK = 0;
  let lungIndex = 0;
  let reference: ReferenceImage;
  let softTissueShot: Awaited<ReturnType<typeof screenshotViewport>>;

  it('shows dark lungs inside a brighter body at a slice through the lungs (W/L 40/400)', async () => {
    // The slice with the most lung in it, by the ground truth.
    const [columns, rows, slices] = truth.sizes;
    let best = -1;
    for (let k = 0; k < slices; k++) {
      let count = 0;
      for (let i = 0; i < columns * rows; i++) if (LUNG_LABELS.has(truth.labels[k * columns * rows + i] ?? 0)) count++;
      if (count > best) [best, lungK] = [count, k];
    }
    expect(best, 'the sample has lungs').toBeGreaterThan(1000);
    lungIndex = viewerIndexOfTruthSlice[lungK] as number;

    await goToSlice(lungIndex);
    await page.getByTestId('preset-soft-tissue').click();
    const state = await waitForQuietViewport(page);
    expect([state.windowWidth, state.windowCenter]).toEqual([400, 40]);
    expect(await overlayText('overlay-wl')).toBe('W 400 L 40');
    expect(await overlayText('overlay-slice')).toBe(`Im ${lungIndex + 1} / ${detail.slices.length}`);

    softTissueShot = await screenshotViewport(page, 'sample-lung-slice-w400-l40');
    const sampled = await sampleImagePixels(page, softTissueShot, columns, rows);
    const lung: number[] = [];
    const body: number[] = [];
    const airAbove: number[] = [];
    const bodyTop = truth.table.find((entry) => entry.value === BODY_LABEL)?.boundingBox?.min[1] ?? 0;
    for (const sample of sampled.samples) {
      const label = labelAt(lungK, sample.column, sample.row);
      const grey = luminance(sample.rgb);
      if (LUNG_LABELS.has(label)) lung.push(grey);
      else if (label === BODY_LABEL) body.push(grey);
      else if (label === 0 && sample.row < bodyTop - 4) airAbove.push(grey);
    }
    expect(lung.length).toBeGreaterThan(200);
    expect(median(lung), 'lungs are black at a soft-tissue window').toBeLessThan(12);
    expect(median(airAbove), 'air around the patient is black').toBeLessThan(6);
    expect(median(body), 'the body is clearly brighter than the lungs').toBeGreaterThan(median(lung) + 25);

    reference = referenceImage(await sliceFile(lungK), 'pydicom');
    const agreement = fidelity(sampled, reference, 40, 400);
    expect(agreement.meanDistance, 'grey levels match the slice file under W/L 40/400').toBeLessThan(1);
    expect(agreement.outlierFraction, `pixels far from the slice file: ${agreement.outliers}`).toBeLessThan(0.01);
  });

  it('scrolls one slice per wheel step and by a page with PageDown, changing the pixels', async () => {
    const box = await page.getByTestId('viewport').boundingBox();
    if (!box) throw new Error('viewport not visible');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 120);
    const afterWheel = await waitForRenderedSlice(page, (state) => state.imageIndex !== lungIndex, 'the wheel to change the slice');
    expect(Math.abs(afterWheel.imageIndex - lungIndex)).toBe(1);
    await waitForQuietViewport(page);
    expect(await overlayText('overlay-slice')).toBe(`Im ${afterWheel.imageIndex + 1} / ${detail.slices.length}`);
    const wheelShot = await screenshotViewport(page, 'sample-after-wheel');
    const change = compareImages(softTissueShot.image, wheelShot.image);
    expect(change.changedFraction, 'a neighbouring slice looks different').toBeGreaterThan(0.005);

    await page.getByTestId('viewport').focus();
    const before = afterWheel.imageIndex;
    await page.keyboard.press('PageUp');
    const page1 = await waitForRenderedSlice(page, (state) => state.imageIndex !== before, 'PageUp to change the slice');
    expect(page1.imageIndex).toBe(Math.max(0, before - Math.round(detail.slices.length / 10)));

    // Back to the lung slice, and the very same picture as before.
    await goToSlice(lungIndex);
    const again = await screenshotViewport(page, 'sample-lung-slice-again');
    expect(compareImages(softTissueShot.image, again.image).maxAbsDiff).toBeLessThan(3);
  });

  it('changes window/level with a left drag, and the overlay names the window on screen', async () => {
    const box = await page.getByTestId('viewport').boundingBox();
    if (!box) throw new Error('viewport not visible');
    const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await page.mouse.move(start.x, start.y);
    await page.mouse.down({ button: 'left' });
    await page.mouse.move(start.x + 120, start.y - 60, { steps: 12 });
    await page.mouse.up({ button: 'left' });
    const state = await waitForQuietViewport(page);
    expect(state.imageIndex).toBe(lungIndex);
    expect([state.windowWidth, state.windowCenter]).not.toEqual([400, 40]);
    const width = state.windowWidth as number;
    const center = state.windowCenter as number;
    expect(await overlayText('overlay-wl')).toBe(`W ${Math.round(width)} L ${Math.round(center)}`);

    const shot = await screenshotViewport(page, 'sample-after-wl-drag');
    expect(compareImages(softTissueShot.image, shot.image).changedFraction).toBeGreaterThan(0.05);
    const sampled = await sampleImagePixels(page, shot, truth.sizes[0], truth.sizes[1]);
    const agreement = fidelity(sampled, reference, center, width);
    expect(agreement.meanDistance, `screen matches the slice under the overlay's W ${width} L ${center}`).toBeLessThan(1);
    expect(agreement.outlierFraction, `pixels far from the slice file: ${agreement.outliers}`).toBeLessThan(0.01);
  });

  it('zooms with a right drag, pans with a middle drag, and Reset restores the image', async () => {
    const box = await page.getByTestId('viewport').boundingBox();
    if (!box) throw new Error('viewport not visible');
    const [columns, rows] = truth.sizes;
    const span = async () => {
      const [a, b] = [await pagePoint(0, 0), await pagePoint(columns - 1, rows - 1)];
      return Math.hypot(b.x - a.x, b.y - a.y);
    };
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };

    const spanBefore = await span();
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(centre.x, centre.y + 100, { steps: 10 });
    await page.mouse.up({ button: 'right' });
    await waitForQuietViewport(page);
    const spanZoomed = await span();
    expect(Math.abs(spanZoomed - spanBefore) / spanBefore, 'zoom changed the image size on screen').toBeGreaterThan(0.1);

    const anchorBefore = await pagePoint(columns / 2, rows / 2);
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(centre.x + 80, centre.y + 40, { steps: 8 });
    await page.mouse.up({ button: 'middle' });
    await waitForQuietViewport(page);
    const anchorAfter = await pagePoint(columns / 2, rows / 2);
    expect(anchorAfter.x - anchorBefore.x).toBeCloseTo(80, -1);
    expect(anchorAfter.y - anchorBefore.y).toBeCloseTo(40, -1);
    await screenshotViewport(page, 'sample-zoomed-panned');

    await page.getByTestId('reset-view').click();
    const reset = await waitForQuietViewport(page);
    expect([reset.windowWidth, reset.windowCenter]).toEqual(openingWindow);
    expect(Math.abs((await span()) - spanBefore)).toBeLessThan(1.5);
    const shot = await screenshotViewport(page, 'sample-after-reset');
    expect(compareImages(softTissueShot.image, shot.image).maxAbsDiff).toBeLessThan(3);
  });

  it('raised no uncaught error and no CSP violation in the page along the way', () => {
    const serious = app.problems.filter((p) => p.startsWith('page error') || /Refused to|Content Security Policy/i.test(p));
    expect(serious).toEqual([]);
  });
});
