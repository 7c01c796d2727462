// Measuring in the 1×1 stack view on the sample CT: a length across the left kidney
// equals the kidney's width in the ground truth, an ellipse in the liver lists a mean in
// the liver's HU range, both in the measurements panel; the segment editor's paint still
// takes the left button while it is on, whatever measurement tool is chosen.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import type { AskTestState, MeasurementReport, MrTestGlobal, SegmentationTestState } from '../../renderer/src/test-hook-types.ts';
import { ARTIFACT_DIR, openSampleApp, viewportState, waitForQuietViewport, waitForRenderedSlice, type AppPage, type SampleApp, type Workstation } from './harness.ts';

let sample: SampleApp;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let truth: GroundTruth;
let detail: SeriesDetail;
/** Viewer slice index (dicom.series order) of each ground-truth slice k. */
let viewerIndexOfTruthSlice: number[];

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
  const normal = gt.info.geometry.directions[2];
  const along = (p: readonly number[]) => p.reduce((sum, value, axis) => sum + (value - (gt.origin[axis] ?? 0)) * (normal[axis] ?? 0), 0);
  const mapping: number[] = [];
  for (let k = 0; k < gt.sizes[2]; k++) {
    const index = series.slices.findIndex((slice) => slice.position !== null && Math.abs(along(slice.position) / gt.spacing[2] - k) < 0.01);
    if (index < 0) throw new Error(`no slice of the sample series lies at ground-truth slice ${k}`);
    const position = series.slices[index]?.position as [number, number, number];
    const inPlane = position.map((value, axis) => value - (gt.origin[axis] ?? 0) - k * gt.spacing[2] * (normal[axis] ?? 0));
    if (inPlane.some((offset) => Math.abs(offset) > 1e-3)) throw new Error(`slice ${index} is offset in-plane from the ground truth by ${inPlane.join(', ')} mm`);
    mapping.push(index);
  }
  return mapping;
}

function labelAt(k: number, column: number, row: number): number {
  const [columns, rows] = truth.sizes;
  if (column < 0 || row < 0 || column >= columns || row >= rows) return 0;
  return truth.labels[(k * rows + row) * columns + column] ?? 0;
}

function structure(name: string): { value: number; k: number; centroid: [number, number, number] } {
  const entry = truth.table.find((candidate) => candidate.name === name);
  if (!entry?.centroidVoxel) throw new Error(`ground-truth.json has no ${name} centroid`);
  return { value: entry.value, k: Math.round(entry.centroidVoxel[2]), centroid: entry.centroidVoxel };
}

/** A voxel of slice k whose disc of `radius` voxels holds only `label`, nearest to (ci, cj). */
function discInside(k: number, label: number, radius: number, ci: number, cj: number): [number, number] | null {
  const [columns, rows] = truth.sizes;
  let best: [number, number] | null = null;
  let bestDistance = Infinity;
  for (let j = radius; j < rows - radius; j++) {
    for (let i = radius; i < columns - radius; i++) {
      const distance = Math.hypot(i - ci, j - cj);
      if (distance >= bestDistance || labelAt(k, i, j) !== label) continue;
      let inside = true;
      for (let dj = -radius; dj <= radius && inside; dj++) {
        for (let di = -radius; di <= radius && inside; di++) if (di * di + dj * dj <= radius * radius) inside = labelAt(k, i + di, j + dj) === label;
      }
      if (inside) [best, bestDistance] = [[i, j], distance];
    }
  }
  return best;
}

async function goToTruthSlice(k: number): Promise<void> {
  const index = viewerIndexOfTruthSlice[k];
  if (index === undefined) throw new Error(`no viewer slice for ground-truth slice ${k}`);
  await page.getByTestId('viewport').focus();
  const current = (await viewportState(page)).imageIndex;
  const key = index > current ? 'ArrowDown' : 'ArrowUp';
  for (let i = 0; i < Math.abs(index - current); i++) await page.keyboard.press(key);
  await waitForRenderedSlice(page, (state) => state.imageIndex === index, `slice ${index + 1}`);
  await waitForQuietViewport(page);
}

function imagePointToPage(column: number, row: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([c, r]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.imagePointToPage(c as number, r as number);
    if (!point) throw new Error('the stack view shows no image');
    return point;
  }, [column, row] as const);
}

function stackMeasurements(): Promise<MeasurementReport[]> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest;
    if (!hook?.stackMeasurements) throw new Error('window.__mrTest.stackMeasurements is not installed');
    return hook.stackMeasurements();
  });
}

function segmentationState(): Promise<SegmentationTestState> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest?.segmentation;
    if (!hook) throw new Error('window.__mrTest.segmentation is not installed');
    return hook.state();
  });
}

function askState(): Promise<AskTestState> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest?.ask;
    if (!hook) throw new Error('window.__mrTest.ask is not installed');
    return hook.state();
  });
}

async function chooseTool(id: string): Promise<void> {
  await page.getByTestId(`tool-${id}`).click();
  await expect.poll(() => page.getByTestId(`tool-${id}`).evaluate((button) => button.classList.contains('is-active'))).toBe(true);
  // Choosing a measurement tool may open the panel beside the image: let the view settle at its new size.
  await waitForQuietViewport(page);
}

async function drag(from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();
  await waitForQuietViewport(page);
}

/** The number shown by a measurement cell ("57.3 HU" → 57.3). */
function shownNumber(text: string): number {
  const match = /^(-?\d+(?:\.\d+)?)/.exec(text.trim());
  if (!match) throw new Error(`"${text}" does not start with a number`);
  return Number(match[1]);
}

async function saveArtifact(fileName: string): Promise<void> {
  await mkdir(ARTIFACT_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACT_DIR, fileName), await page.screenshot());
}

describe('measuring in the stack view (1×1)', () => {
  it('offers the measurement tools in 1×1 (not the crosshairs) and shows the panel once one is chosen', async () => {
    await waitForQuietViewport(page);
    for (const id of ['window-level', 'scroll', 'length', 'angle', 'ellipse', 'rectangle', 'probe']) await expect.poll(() => page.getByTestId(`tool-${id}`).isVisible()).toBe(true);
    expect(await page.getByTestId('tool-crosshairs').isVisible()).toBe(false);
    expect(await page.getByTestId('measurements-panel').isVisible()).toBe(false);
    await chooseTool('length');
    expect(await page.getByTestId('measurements-panel').isVisible()).toBe(true);
  });

  it('a length across the left kidney measures its width in the ground truth', async () => {
    const kidney = structure('kidney_left');
    // The longest run of kidney along a row near the centroid slice.
    let best = { k: kidney.k, row: 0, start: 0, length: 0 };
    for (let k = kidney.k - 3; k <= kidney.k + 3; k++) {
      for (let row = 0; row < truth.sizes[1]; row++) {
        let run = 0;
        for (let column = 0; column < truth.sizes[0]; column++) {
          run = labelAt(k, column, row) === kidney.value ? run + 1 : 0;
          if (run > best.length) best = { k, row, start: column - run + 1, length: run };
        }
      }
    }
    expect(best.length, 'the kidney spans several voxels').toBeGreaterThan(15);
    await goToTruthSlice(best.k);
    await chooseTool('length');
    // From the kidney's first voxel's outer edge to its last voxel's outer edge.
    const from = await imagePointToPage(best.start - 0.5, best.row);
    const to = await imagePointToPage(best.start + best.length - 0.5, best.row);
    const screenPxPerVoxel = Math.hypot(to.x - from.x, to.y - from.y) / best.length;
    await drag(from, to);

    const row = page.locator('[data-testid="measurement-row"][data-tool="Length"]');
    await expect.poll(() => row.count()).toBe(1);
    await expect.poll(async () => (await row.getByTestId('measurement-length').count()) > 0).toBe(true);
    const length = (await stackMeasurements()).find((entry) => entry.toolName === 'Length')?.stats['length'];
    expect(length, 'the Length annotation has a length').toBeTypeOf('number');
    const expectedMm = best.length * truth.spacing[0];
    // The mouse lands on whole screen pixels: allow two screen pixels at each end, in mm.
    const tolerance = (2 * 2 * truth.spacing[0]) / screenPxPerVoxel;
    expect(Math.abs((length as number) - expectedMm), `length ${length} mm, kidney ${best.length} voxels = ${expectedMm} mm wide (± ${tolerance.toFixed(2)} mm)`).toBeLessThanOrEqual(Math.max(tolerance, 0.5));
    const shown = await row.getByTestId('measurement-length').innerText();
    expect(shown).toMatch(/ mm$/);
    expect(Math.abs(shownNumber(shown) - (length as number))).toBeLessThanOrEqual(0.051);
    await saveArtifact('viewer-stack-length-kidney.png');
  });

  it('an ellipse in the liver lists a mean in the liver’s HU range', async () => {
    const liver = structure('liver');
    const radius = 8;
    const centreVoxel = discInside(liver.k, liver.value, radius, liver.centroid[0], liver.centroid[1]);
    if (!centreVoxel) throw new Error(`no disc of ${radius} voxels lies inside the liver on slice ${liver.k}`);
    await goToTruthSlice(liver.k);
    await chooseTool('ellipse');
    const [ci, cj] = centreVoxel;
    const centre = await imagePointToPage(ci, cj);
    const corner = await imagePointToPage(ci + 6, cj + 4);
    await drag(centre, corner);

    const row = page.locator('[data-testid="measurement-row"][data-tool="EllipticalROI"]');
    await expect.poll(() => row.count()).toBe(1);
    await expect.poll(async () => (await row.getByTestId('measurement-mean').count()) > 0).toBe(true);
    const ellipse = (await stackMeasurements()).find((entry) => entry.toolName === 'EllipticalROI');
    if (!ellipse) throw new Error('no EllipticalROI annotation in the stack view');
    const mean = ellipse.stats['mean'];
    // The sample's liver is 60 HU with 12 HU noise (vessels a little darker).
    expect(mean, 'mean HU of the liver ROI').toBeGreaterThan(35);
    expect(mean).toBeLessThan(85);
    const shownMean = await row.getByTestId('measurement-mean').innerText();
    expect(shownMean).toMatch(/ HU$/);
    expect(Math.abs(shownNumber(shownMean) - (mean as number))).toBeLessThanOrEqual(0.051);
    for (const key of ['stdDev', 'area']) expect(await row.getByTestId(`measurement-${key}`).count(), `${key} shown`).toBe(1);
    // The kidney length drawn on another slice is still listed: two rows.
    expect(await page.getByTestId('measurement-row').count()).toBe(2);
    await saveArtifact('viewer-stack-ellipse-liver.png');

    // Deleting from the panel removes the annotation.
    await row.getByTestId('measurement-remove').click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await stackMeasurements()).filter((entry) => entry.toolName === 'EllipticalROI')).toHaveLength(0);
  });

  it('the segment editor’s paint takes the left button while on, even with Length chosen; Length returns after', async () => {
    await chooseTool('length');
    const lengthsBefore = (await stackMeasurements()).filter((entry) => entry.toolName === 'Length').length;
    await page.getByTestId('segment-term-search').fill('liver');
    await page.getByTestId('segment-term-liver').click();
    await expect.poll(async () => (await segmentationState()).segments.length).toBe(1);
    await page.getByTestId('segment-tool-paint').click();

    const liver = structure('liver');
    const centreVoxel = discInside(liver.k, liver.value, 8, liver.centroid[0], liver.centroid[1]);
    if (!centreVoxel) throw new Error('no disc inside the liver');
    const [ci, cj] = centreVoxel;
    await drag(await imagePointToPage(ci - 5, cj), await imagePointToPage(ci + 5, cj));
    await expect.poll(async () => (await segmentationState()).segments[0]?.voxels ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    expect((await stackMeasurements()).filter((entry) => entry.toolName === 'Length'), 'painting drew no length').toHaveLength(lengthsBefore);

    await page.getByTestId('segment-tool-paint').click(); // paint off
    const painted = (await segmentationState()).segments[0]?.voxels ?? 0;
    await drag(await imagePointToPage(ci - 5, cj - 3), await imagePointToPage(ci + 5, cj - 3));
    await expect.poll(async () => (await stackMeasurements()).filter((entry) => entry.toolName === 'Length').length).toBe(lengthsBefore + 1);
    expect((await segmentationState()).segments[0]?.voxels, 'the length painted nothing').toBe(painted);
    await saveArtifact('viewer-stack-length-after-paint.png');
  });

  it('the ask panel’s teaching drawing takes the left button while on, even with Ellipse chosen; Ellipse returns after', async () => {
    await chooseTool('ellipse');
    const ellipses = async () => (await stackMeasurements()).filter((entry) => entry.toolName === 'EllipticalROI').length;
    const before = await ellipses();
    await page.getByTestId('ask-teaching-toggle').check();
    await expect.poll(async () => (await askState()).overlayMode).toBe('draw');
    await drag(await imagePointToPage(60, 80), await imagePointToPage(100, 120));
    await expect.poll(async () => (await askState()).teaching.residentBox).toEqual([60, 80, 100, 120]);
    expect(await ellipses(), 'the resident’s box drew no ellipse').toBe(before);

    await page.getByTestId('ask-teaching-toggle').uncheck();
    await expect.poll(async () => (await askState()).overlayMode).toBe('off');
    await drag(await imagePointToPage(60, 80), await imagePointToPage(70, 88));
    await expect.poll(ellipses).toBe(before + 1);
  });
});
