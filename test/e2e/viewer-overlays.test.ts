// What the viewer draws and offers beside the image, on the sample CT and on an MR from
// pydicom's test files: orientation markers and a scale bar in the stack view and the
// planes, the text overlays of the planes, the measurements panel (held against the
// annotations' own statistics and the sample's ground truth), cine, drag-to-scroll and
// the automatic window (held against a percentile computed here from pydicom's pixels).
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import type { MeasurementReport, MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import { ARTIFACT_DIR, openSampleApp, viewportState, waitForQuietViewport, waitForRenderedSlice, type AppPage, type SampleApp, type Workstation } from './harness.ts';
import { volumeState, waitForQuietPanes, waitForVolume } from './volume-panes.ts';

type Plane = 'axial' | 'sagittal' | 'coronal';
type Vec3 = [number, number, number];

let sample: SampleApp;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let truth: GroundTruth;

beforeAll(async () => {
  sample = await openSampleApp();
  ({ browser, workstation, app, page } = sample);
  truth = await readGroundTruth(path.join(workstation.dataDir, 'sample'));
});

afterAll(async () => {
  await sample?.close();
});

async function saveArtifact(fileName: string): Promise<void> {
  await mkdir(ARTIFACT_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACT_DIR, fileName), await page.screenshot());
}

function worldToPage(pane: Plane, world: Vec3): Promise<{ x: number; y: number }> {
  return page.evaluate(([p, w]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.volume?.worldToPage(p as Plane, w as Vec3);
    if (!point) throw new Error(`pane ${String(p)} has no page position for ${JSON.stringify(w)}`);
    return point;
  }, [pane, world] as const);
}

function focalPoint(pane: Plane): Promise<Vec3> {
  return page.evaluate((p) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.volume?.paneFocalPoint(p);
    if (!point) throw new Error(`pane ${p} is not shown`);
    return point;
  }, pane);
}

function paneSliceIndex(pane: Plane): Promise<number> {
  return page.evaluate((p) => {
    const index = (globalThis as MrTestGlobal).__mrTest?.volume?.paneSliceIndex(p);
    if (index === null || index === undefined) throw new Error(`pane ${p} shows no slice`);
    return index;
  }, pane);
}

function measurements(): Promise<MeasurementReport[]> {
  return page.evaluate(() => (globalThis as MrTestGlobal).__mrTest?.volume?.measurements() ?? []);
}

function imagePointToPage(column: number, row: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([c, r]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.imagePointToPage(c as number, r as number);
    if (!point) throw new Error('the stack view shows no image');
    return point;
  }, [column, row] as const);
}

function voxelToWorld(i: number, j: number, k: number): Vec3 {
  return [truth.origin[0] + i * truth.spacing[0], truth.origin[1] + j * truth.spacing[1], truth.origin[2] + k * truth.spacing[2]];
}

function labelAt(i: number, j: number, k: number): number {
  const [columns, rows] = truth.sizes;
  return truth.labels[(k * rows + j) * columns + i] ?? 0;
}

/** Reads a scale bar: its labelled length and its line's length on screen. */
async function readScaleBar(testIdPrefix: string): Promise<{ mm: number; px: number }> {
  const label = await page.getByTestId(`${testIdPrefix}-scalebar-label`).innerText();
  const match = /^(\d+(?:\.\d+)?) mm$/.exec(label.trim());
  if (!match) throw new Error(`scale bar label "${label}" is not "<number> mm"`);
  const box = await page.getByTestId(`${testIdPrefix}-scalebar-line`).boundingBox();
  if (!box) throw new Error(`${testIdPrefix}: the scale bar line is not visible`);
  return { mm: Number(match[1]), px: box.width };
}

function expectScaleBarAgrees(bar: { mm: number; px: number }, mmPerPixel: number, where: string): void {
  // Within a screen pixel (the line is laid out in whole device pixels) or 2 %.
  const drawnMm = bar.px * mmPerPixel;
  expect(Math.abs(drawnMm - bar.mm), `${where}: ${bar.px.toFixed(1)} px × ${mmPerPixel.toFixed(4)} mm/px = ${drawnMm.toFixed(2)} mm, labelled ${bar.mm} mm`).toBeLessThanOrEqual(
    Math.max(mmPerPixel, 0.02 * bar.mm),
  );
}

/** A right-button drag (the zoom tool) over an element, from its centre. */
async function rightDrag(testId: string, dy: number): Promise<void> {
  const box = await page.getByTestId(testId).boundingBox();
  if (!box) throw new Error(`${testId} is not visible`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down({ button: 'right' });
  await page.mouse.move(x, y + dy / 2, { steps: 5 });
  await page.mouse.move(x, y + dy, { steps: 5 });
  await page.mouse.up({ button: 'right' });
}

/** A left-button drag down an element, left of its centre (where the crosshair lines of the planes run). */
async function leftDrag(testId: string, dy: number): Promise<void> {
  const box = await page.getByTestId(testId).boundingBox();
  if (!box) throw new Error(`${testId} is not visible`);
  const x = box.x + box.width * 0.3;
  const y = box.y + box.height / 2 - dy / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let step = 1; step <= 10; step++) await page.mouse.move(x, y + (dy * step) / 10);
  await page.mouse.up();
}

/** Brings the axial plane to volume slice k (ground-truth slice k: the same order) with the arrow keys. */
async function goToAxialSlice(k: number): Promise<void> {
  await page.getByTestId('pane-axial').hover();
  const start = await paneSliceIndex('axial');
  if (start === k) return;
  await page.keyboard.press('ArrowDown');
  await expect.poll(() => paneSliceIndex('axial')).not.toBe(start);
  const forward = (await paneSliceIndex('axial')) > start ? 'ArrowDown' : 'ArrowUp';
  const backward = forward === 'ArrowDown' ? 'ArrowUp' : 'ArrowDown';
  for (let attempt = 0; attempt < 400; attempt++) {
    const current = await paneSliceIndex('axial');
    if (current === k) return;
    await page.keyboard.press(current < k ? forward : backward);
  }
  throw new Error(`could not bring the axial plane to slice ${k} (it shows ${await paneSliceIndex('axial')})`);
}

/** A voxel of slice k whose disc of `radius` voxels holds only `label`, nearest to (ci, cj). */
function discInside(k: number, label: number, radius: number, ci: number, cj: number): [number, number] | null {
  const [columns, rows] = truth.sizes;
  let best: [number, number] | null = null;
  let bestDistance = Infinity;
  for (let j = radius; j < rows - radius; j++) {
    for (let i = radius; i < columns - radius; i++) {
      const distance = (i - ci) ** 2 + (j - cj) ** 2;
      if (distance >= bestDistance || labelAt(i, j, k) !== label) continue;
      let inside = true;
      for (let dj = -radius; dj <= radius && inside; dj++) {
        for (let di = -radius; di <= radius && inside; di++) if (di * di + dj * dj <= radius * radius) inside = labelAt(i + di, j + dj, k) === label;
      }
      if (inside) [best, bestDistance] = [[i, j], distance];
    }
  }
  return best;
}

/** The number shown by a measurement cell ("57.3 HU" → 57.3). */
function shownNumber(text: string): number {
  const match = /^(-?\d+(?:\.\d+)?)/.exec(text.trim());
  if (!match) throw new Error(`"${text}" does not start with a number`);
  return Number(match[1]);
}

/** The overlays' way of writing a window value: whole numbers whole, else two decimals (none from 100 up). */
function shownWindow(value: number | null): string {
  if (value === null) throw new Error('no window to show');
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 0 : 2);
}

describe('the stack view (1×1)', () => {
  it('shows orientation markers and a scale bar that follows the zoom', async () => {
    await waitForQuietViewport(page);
    const marker = (side: string) => page.getByTestId(`viewport-marker-${side}`).innerText();
    // Axial CT in the radiological convention: the patient's right on the screen's left, anterior up.
    expect([await marker('left'), await marker('right'), await marker('top'), await marker('bottom')]).toEqual(['R', 'L', 'A', 'P']);

    const mmPerPixel = async (): Promise<number> => {
      const a = await imagePointToPage(20, 128);
      const b = await imagePointToPage(220, 128);
      return (200 * truth.spacing[0]) / Math.hypot(b.x - a.x, b.y - a.y);
    };
    const before = await mmPerPixel();
    expectScaleBarAgrees(await readScaleBar('viewport'), before, 'stack view');

    await rightDrag('viewport', -120);
    await waitForQuietViewport(page);
    const after = await mmPerPixel();
    expect(Math.abs(after / before - 1), `the zoom changed the scale (${before} → ${after} mm/px)`).toBeGreaterThan(0.15);
    expectScaleBarAgrees(await readScaleBar('viewport'), after, 'stack view after zooming');
    await saveArtifact('viewer-stack-scale-bar.png');
    await page.keyboard.press('Space');
    await waitForQuietViewport(page);
  });

  it('drag-to-scroll: with the Scroll tool a left drag pages through the slices', async () => {
    await page.getByTestId('tool-scroll').click();
    await expect.poll(() => page.getByTestId('tool-scroll').getAttribute('class')).toContain('is-active');
    const before = (await viewportState(page)).imageIndex;
    const windowBefore = (await viewportState(page)).windowWidth;
    await leftDrag('viewport', 150);
    await waitForQuietViewport(page);
    const after = await viewportState(page);
    expect(Math.abs(after.imageIndex - before), 'slices scrolled by the drag').toBeGreaterThan(2);
    // The drag scrolled instead of changing the window.
    expect(after.windowWidth).toBe(windowBefore);
    await page.getByTestId('tool-window-level').click();
  });

  it('cine plays the slices and stops on pause; the rate is adjustable', async () => {
    await page.getByTestId('cine-fps').fill('20');
    await page.getByTestId('cine-fps').press('Enter');
    await page.getByTestId('cine-play').click();
    await expect.poll(() => page.getByTestId('cine-play').getAttribute('aria-pressed')).toBe('true');
    const seen = new Set<number>();
    const deadline = Date.now() + 30_000;
    while (seen.size < 5 && Date.now() < deadline) {
      seen.add((await viewportState(page)).imageIndex);
      await page.waitForTimeout(50);
    }
    expect(seen.size, 'distinct slices shown while playing').toBeGreaterThanOrEqual(5);
    await page.getByTestId('cine-play').click();
    expect(await page.getByTestId('cine-play').getAttribute('aria-pressed')).toBe('false');
    const stopped = await waitForQuietViewport(page);
    await page.waitForTimeout(600);
    expect((await viewportState(page)).imageIndex, 'the slice after pausing').toBe(stopped.imageIndex);
    // ] and [ change the rate by one frame per second.
    await page.keyboard.press(']');
    expect(await page.getByTestId('cine-fps').inputValue()).toBe('21');
    await page.keyboard.press('[');
    expect(await page.getByTestId('cine-fps').inputValue()).toBe('20');
  });
});

describe('the planes (2×2)', () => {
  it('carry the overlays of the stack view, orientation markers and a scale bar', async () => {
    const patient = await page.getByTestId('overlay-patient').innerText();
    const series = await page.getByTestId('overlay-series').innerText();
    await page.getByTestId('layout-2x2').click();
    await waitForVolume(page, (state) => state.layout === '2x2' && state.loaded, 'the sample volume in 2×2');
    const state = await waitForQuietPanes(page);
    for (const pane of ['axial', 'sagittal', 'coronal'] as const) {
      expect(await page.getByTestId(`pane-${pane}-patient`).innerText()).toBe(patient);
      expect(await page.getByTestId(`pane-${pane}-series`).innerText()).toContain(series);
      expect(await page.getByTestId(`pane-${pane}-series`).innerText()).toContain('CT');
      expect(await page.getByTestId(`pane-${pane}-wl`).innerText()).toBe(`W ${shownWindow(state.windowWidth)} L ${shownWindow(state.windowCenter)}`);
    }
    const axialIndex = await paneSliceIndex('axial');
    const z = (await focalPoint('axial'))[2];
    expect(await page.getByTestId('pane-info-axial').innerText()).toBe(`${axialIndex + 1} / ${truth.sizes[2]} · z ${z.toFixed(1)} mm`);
    expect(await page.getByTestId('pane-info-sagittal').innerText()).toMatch(new RegExp(`^\\d+ / ${truth.sizes[0]} · x -?\\d+\\.\\d mm$`));
    expect(await page.getByTestId('pane-info-coronal').innerText()).toMatch(new RegExp(`^\\d+ / ${truth.sizes[1]} · y -?\\d+\\.\\d mm$`));
    const marker = (side: string) => page.getByTestId(`pane-axial-marker-${side}`).innerText();
    expect([await marker('left'), await marker('top')]).toEqual(['R', 'A']);

    const mmPerPixel = async (): Promise<number> => {
      const centre = await focalPoint('axial');
      const a = await worldToPage('axial', [centre[0] - 50, centre[1], centre[2]]);
      const b = await worldToPage('axial', [centre[0] + 50, centre[1], centre[2]]);
      return 100 / Math.hypot(b.x - a.x, b.y - a.y);
    };
    const before = await mmPerPixel();
    expectScaleBarAgrees(await readScaleBar('pane-axial'), before, 'axial pane');
    await rightDrag('pane-axial', -120);
    await waitForQuietPanes(page);
    const after = await mmPerPixel();
    expect(Math.abs(after / before - 1), `the zoom changed the scale (${before} → ${after} mm/px)`).toBeGreaterThan(0.15);
    expectScaleBarAgrees(await readScaleBar('pane-axial'), after, 'axial pane after zooming');
    await saveArtifact('viewer-planes-overlays.png');
    await page.getByTestId('reset-view').click();
    await waitForQuietPanes(page);
  });

  it('lists an ellipse in the liver with its mean, SD and area, and follows its changes', async () => {
    const liver = truth.table.find((entry) => entry.name === 'liver');
    if (!liver?.centroidVoxel) throw new Error('ground-truth.json has no liver centroid');
    const k = Math.round(liver.centroidVoxel[2]);
    const radius = 8;
    const centreVoxel = discInside(k, liver.value, radius, liver.centroidVoxel[0], liver.centroidVoxel[1]);
    if (!centreVoxel) throw new Error(`no disc of ${radius} voxels lies inside the liver on slice ${k}`);
    await goToAxialSlice(k);
    await waitForQuietPanes(page);
    const [ci, cj] = centreVoxel;
    // Whole page pixels, so the drawn semi-axes are known exactly: about 7 and 5 voxels, inside the 8-voxel disc of liver.
    const rounded = (point: { x: number; y: number }) => ({ x: Math.round(point.x), y: Math.round(point.y) });
    const centre = rounded(await worldToPage('axial', voxelToWorld(ci, cj, k)));
    const corner = rounded(await worldToPage('axial', voxelToWorld(ci + 7, cj + 5, k)));
    const probe = await worldToPage('axial', voxelToWorld(ci + 100, cj, k));
    const mmPerPixel = (100 * truth.spacing[0]) / Math.abs(probe.x - (await worldToPage('axial', voxelToWorld(ci, cj, k))).x);

    await page.getByTestId('tool-ellipse').click();
    await waitForVolume(page, (state) => state.primaryTool === 'ellipse', 'the ellipse tool');
    await page.mouse.move(centre.x, centre.y);
    await page.mouse.down();
    await page.mouse.move((centre.x + corner.x) / 2, (centre.y + corner.y) / 2, { steps: 4 });
    await page.mouse.move(corner.x, corner.y, { steps: 4 });
    await page.mouse.up();
    await waitForQuietPanes(page);

    const row = page.locator('[data-testid="measurement-row"][data-tool="EllipticalROI"]');
    await expect.poll(() => row.count()).toBe(1);
    await expect.poll(async () => (await row.getByTestId('measurement-mean').count()) > 0).toBe(true);
    const ellipse = (await measurements()).find((entry) => entry.toolName === 'EllipticalROI');
    if (!ellipse) throw new Error('no EllipticalROI annotation');
    const shown = {
      mean: await row.getByTestId('measurement-mean').innerText(),
      stdDev: await row.getByTestId('measurement-stdDev').innerText(),
      area: await row.getByTestId('measurement-area').innerText(),
    };
    // The panel shows the annotation's own statistics (to one decimal), with their units.
    for (const key of ['mean', 'stdDev', 'area'] as const) {
      const value = ellipse.stats[key];
      expect(value, `cached ${key}`).toBeTypeOf('number');
      expect(Math.abs(shownNumber(shown[key]) - (value as number)), `${key}: shown "${shown[key]}", cached ${value}`).toBeLessThanOrEqual(0.051);
    }
    expect(shown.mean).toMatch(/ HU$/);
    expect(shown.area).toMatch(/ mm²$/);
    // Against the sample: liver is 60 HU with 12 HU noise (vessels a little darker), and the area is π·a·b of what was drawn.
    const a = Math.abs(corner.x - centre.x) * mmPerPixel;
    const b = Math.abs(corner.y - centre.y) * mmPerPixel;
    expect(ellipse.stats['mean'], 'mean HU of the liver ROI').toBeGreaterThan(35);
    expect(ellipse.stats['mean']).toBeLessThan(85);
    expect(ellipse.stats['stdDev'], 'SD of the liver ROI').toBeGreaterThan(1);
    expect(ellipse.stats['stdDev']).toBeLessThan(30);
    const expectedArea = Math.PI * a * b;
    expect(Math.abs((ellipse.stats['area'] as number) / expectedArea - 1), `area ${ellipse.stats['area']} mm² against π·${a.toFixed(1)}·${b.toFixed(1)} = ${expectedArea.toFixed(1)} mm²`).toBeLessThan(0.05);
    await saveArtifact('viewer-measurements-ellipse.png');

    // Dragging the right-hand handle outward widens the ellipse: the panel follows.
    const handle = { x: centre.x + (corner.x - centre.x), y: centre.y };
    await page.mouse.move(handle.x, handle.y);
    await page.mouse.down();
    await page.mouse.move(handle.x + (corner.x - centre.x) * 0.3, handle.y, { steps: 5 });
    await page.mouse.move(handle.x + (corner.x - centre.x) * 0.5, handle.y, { steps: 5 });
    await page.mouse.up();
    await waitForQuietPanes(page);
    const widened = (await measurements()).find((entry) => entry.toolName === 'EllipticalROI');
    expect(widened?.stats['area'], 'area after widening').toBeGreaterThan((ellipse.stats['area'] as number) * 1.2);
    await expect.poll(async () => shownNumber(await row.getByTestId('measurement-area').innerText())).toBeCloseTo(widened?.stats['area'] as number, 1);

    // A length drawn across the ellipse joins the list with its length in mm.
    await page.getByTestId('tool-length').click();
    await waitForVolume(page, (state) => state.primaryTool === 'length', 'the length tool');
    const from = await worldToPage('axial', voxelToWorld(ci - 6, cj - 6, k));
    const to = await worldToPage('axial', voxelToWorld(ci + 6, cj - 6, k));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await waitForQuietPanes(page);
    const lengthRow = page.locator('[data-testid="measurement-row"][data-tool="Length"]');
    await expect.poll(() => lengthRow.count()).toBe(1);
    const length = (await measurements()).find((entry) => entry.toolName === 'Length')?.stats['length'];
    expect(Math.abs((length as number) - 12 * truth.spacing[0]), `length ${length} mm across 12 voxels`).toBeLessThan(2 * truth.spacing[0]);
    const lengthText = await lengthRow.getByTestId('measurement-length').innerText();
    expect(lengthText).toMatch(/ mm$/);
    expect(Math.abs(shownNumber(lengthText) - (length as number))).toBeLessThanOrEqual(0.051);
    await saveArtifact('viewer-measurements-panel.png');

    // Deleting from the panel removes the annotation.
    await lengthRow.getByTestId('measurement-remove').click();
    await expect.poll(() => lengthRow.count()).toBe(0);
    expect((await measurements()).filter((entry) => entry.toolName === 'Length')).toHaveLength(0);
    await page.getByTestId('tool-crosshairs').click();
  });

  it('drag-to-scroll and cine move the plane under the mouse', async () => {
    await page.getByTestId('tool-scroll').click();
    await waitForVolume(page, (state) => state.primaryTool === 'scroll', 'the scroll tool');
    const before = await paneSliceIndex('coronal');
    await leftDrag('pane-coronal', 150);
    await waitForQuietPanes(page);
    expect(Math.abs((await paneSliceIndex('coronal')) - before), 'coronal slices scrolled by the drag').toBeGreaterThan(2);

    await page.getByTestId('pane-axial').hover();
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId('cine-play').getAttribute('aria-pressed')).toBe('true');
    const seen = new Set<number>();
    const deadline = Date.now() + 30_000;
    while (seen.size < 4 && Date.now() < deadline) {
      seen.add(await paneSliceIndex('axial'));
      await page.waitForTimeout(50);
    }
    expect(seen.size, 'distinct axial slices while playing').toBeGreaterThanOrEqual(4);
    await page.keyboard.press('k');
    expect(await page.getByTestId('cine-play').getAttribute('aria-pressed')).toBe('false');
    await waitForQuietPanes(page);
    const stopped = await paneSliceIndex('axial');
    await page.waitForTimeout(600);
    expect(await paneSliceIndex('axial'), 'the axial slice after pausing').toBe(stopped);
    await page.getByTestId('tool-crosshairs').click();
  });
});

describe('the automatic window in the planes', () => {
  it('windows the volume from the 1st to the 99th percentile of all its voxels', async () => {
    await page.getByTestId('layout-2x2').click();
    const before = await waitForVolume(page, (state) => state.layout === '2x2' && state.loaded, 'the sample volume');
    // The reference: every voxel of the sample's files, decoded by pydicom and rescaled to HU, nearest-rank percentiles.
    const script = [
      'import json, os, sys',
      'import numpy as np, pydicom',
      'folder = sys.argv[1]',
      'parts = []',
      'for name in sorted(os.listdir(folder)):',
      '    ds = pydicom.dcmread(os.path.join(folder, name))',
      '    slope = float(ds.get("RescaleSlope", 1) or 1)',
      '    intercept = float(ds.get("RescaleIntercept", 0) or 0)',
      '    parts.append((ds.pixel_array.astype(np.float64) * slope + intercept).ravel())',
      'values = np.sort(np.concatenate(parts))',
      'n = len(values)',
      'rank = lambda p: min(n, max(1, int(np.ceil(p * n))))',
      'print(json.dumps({"count": n, "lower": float(values[rank(0.01) - 1]), "upper": float(values[rank(0.99) - 1])}))',
    ].join('\n');
    const reference = JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', script, path.join(workstation.dataDir, 'sample', 'dicom')], { encoding: 'utf8' })) as { count: number; lower: number; upper: number };
    expect(reference.count).toBe(truth.sizes[0] * truth.sizes[1] * truth.sizes[2]);
    await page.getByTestId('window-auto').click();
    const after = await waitForVolume(page, (state) => state.windowWidth !== before.windowWidth || state.windowCenter !== before.windowCenter, 'the automatic window in the planes');
    expect(after.windowWidth).toBeCloseTo(reference.upper - reference.lower + 1, 6);
    expect(after.windowCenter).toBeCloseTo((reference.lower + reference.upper + 1) / 2, 6);
    await waitForQuietPanes(page);
    for (const pane of ['axial', 'sagittal', 'coronal'] as const) {
      expect(await page.getByTestId(`pane-${pane}-wl`).innerText()).toBe(`W ${shownWindow(after.windowWidth)} L ${shownWindow(after.windowCenter)}`);
    }
    await saveArtifact('viewer-planes-auto-window.png');
  });
});

describe('switching series', () => {
  it('cancels the unfinished volume load of the series left', async () => {
    // A second volume: the sample under a new series UID, so its files have URLs of their own.
    const sampleDir = path.join(workstation.dataDir, 'sample', 'dicom');
    const copyDir = await mkdtemp(path.join(tmpdir(), 'mr-copy-'));
    const files = (await readdir(sampleDir)).sort();
    for (const file of files) await copyFile(path.join(sampleDir, file), path.join(copyDir, file));
    execFileSync('dcmodify', ['-nb', '-gin', '-m', '(0020,000E)=2.25.9876543210987654321', ...files.map((file) => path.join(copyDir, file))]);
    // The host reads imported files where they lie: the copy stays until the test ends.
    try {
      await switchAwayWhileStreaming(copyDir, files.length);
    } finally {
      await rm(copyDir, { recursive: true, force: true });
    }
  });
});

async function switchAwayWhileStreaming(copyDir: string, fileCount: number): Promise<void> {
  const imported = (await workstation.call('dicom.import', { jobId: 'viewer-copy', paths: [copyDir] })) as { seriesKeys: string[] };
  const copyKey = imported.seriesKeys[0];
  if (!copyKey) throw new Error('the copied series was not imported');
  const sampleKey = (await volumeState(page)).seriesKey;
  if (!sampleKey) throw new Error('the sample volume is not shown');
  const copyDetail = (await workstation.call('dicom.series', { seriesKey: copyKey })) as { slices: Array<{ fileKey: string }> };
  const copyPaths = new Set(copyDetail.slices.map((slice) => `/files/${encodeURIComponent(slice.fileKey)}`));
  expect(copyPaths.size).toBe(fileCount);
  const copyRequests: string[] = [];
  const copyDownloaded = new Set<string>();
  const copyAborted: string[] = [];
  // The copy's files a request carries: one for /files/<key>, those of its keys for a file batch.
  const pathsOf = (request: { url(): string }): string[] => {
    const url = new URL(request.url());
    const paths = url.pathname === '/file-batch' ? (url.searchParams.get('keys') ?? '').split(',').map((key) => `/files/${encodeURIComponent(key)}`) : [url.pathname];
    return paths.filter((file) => copyPaths.has(file));
  };
  const onRequest = (request: { url(): string }) => void (pathsOf(request).length > 0 && copyRequests.push(request.url()));
  const onFinished = (request: { url(): string }) => void pathsOf(request).forEach((file) => copyDownloaded.add(file));
  const onFailed = (request: { url(): string }) => void pathsOf(request).forEach((file) => copyAborted.push(file));
  page.on('request', onRequest);
  page.on('requestfinished', onFinished);
  page.on('requestfailed', onFailed);
  // A slow network (about 1 MB/s, no cache), so the volume is still streaming when the user moves on.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 40, downloadThroughput: 500_000, uploadThroughput: 500_000 });
  try {
    await page.getByTestId('layout-2x2').click();
    await page.locator(`button.series-item[data-series-key="${copyKey}"]`).click();
    const copyState = await waitForVolume(page, (state) => state.seriesKey === copyKey && state.framesLoaded >= 3, 'the copy to start streaming');
    expect(copyState.loaded, 'the copy is still loading when the user switches').toBe(false);
    const copyVolumeId = copyState.volumeId as string;
    await page.locator(`button.series-item[data-series-key="${sampleKey}"]`).click();
    const requestedAtSwitch = copyRequests.length;
    const downloadedAtSwitch = copyDownloaded.size;
    const sample = await waitForVolume(page, (state) => state.seriesKey === sampleKey && state.loaded, 'the sample to load after the switch');
    expect(sample.framesLoaded).toBe(truth.sizes[2]);
    await waitForQuietPanes(page);
    // No download of the copy starts after the switch; those waiting are aborted, and at most the few on the
    // browser's connections (six per server) still finish: the copy is never downloaded in full.
    expect(copyRequests.length - requestedAtSwitch, `requests for the copy after the switch (${requestedAtSwitch} before it)`).toBeLessThanOrEqual(6);
    expect(copyAborted.length, 'downloads of the copy aborted by the switch').toBeGreaterThan(0);
    expect(copyDownloaded.size - downloadedAtSwitch, `files of the copy downloaded after the switch (${downloadedAtSwitch} before it, ${copyAborted.length} aborted)`).toBeLessThanOrEqual(8);
    expect(copyDownloaded.size, `files of the copy downloaded, of ${fileCount}`).toBeLessThan(fileCount);
    const cached = await page.evaluate(() => (globalThis as MrTestGlobal).__mrTest?.volume?.cachedVolumeIds() ?? []);
    expect(cached, 'the cancelled volume left the cache').not.toContain(copyVolumeId);
    expect(cached).toContain(sample.volumeId);
    expect(await page.getByTestId('pane-axial-series').innerText()).toContain('Synthetic torso');
    await saveArtifact('viewer-series-switch.png');
  } finally {
    page.off('request', onRequest);
    page.off('requestfinished', onFinished);
    page.off('requestfailed', onFailed);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.detach();
  }
}

describe('an MR and a secondary capture in the stack view', () => {
  it('windows an MR from the 1st to the 99th percentile of its values', async () => {
    requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
    const file = path.join(PYDICOM_TEST_FILES, 'MR_small.dcm');
    const imported = (await workstation.call('dicom.import', { jobId: 'viewer-mr', paths: [file] })) as { seriesKeys: string[] };
    const seriesKey = imported.seriesKeys[0];
    if (!seriesKey) throw new Error('MR_small.dcm was not imported');
    await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
    await waitForRenderedSlice(page, (state) => state.seriesKey === seriesKey, 'MR_small in the stack view');
    // One slice: no volume, so the stack view; no CT presets.
    await waitForVolume(page, (state) => state.layout === '1x1', 'the stack view for a single MR slice');
    expect(await page.getByTestId('preset-lung').isHidden()).toBe(true);

    // The reference: pydicom's pixels through the modality LUT, nearest-rank percentiles.
    const reference = JSON.parse(execFileSync(DEBIAN_PYTHON, [path.join(import.meta.dirname, 'pydicom-pixels.py'), file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as {
      pixels: number[][][];
      rescaleSlope: number | null;
      rescaleIntercept: number | null;
    };
    const slope = reference.rescaleSlope ?? 1;
    const intercept = reference.rescaleIntercept ?? 0;
    const values = (reference.pixels[0] ?? []).flat().map((value) => value * slope + intercept).sort((p, q) => p - q);
    const percentile = (p: number): number => values[Math.min(values.length, Math.max(1, Math.ceil(p * values.length))) - 1] as number;
    const lower = percentile(0.01);
    const upper = percentile(0.99);
    expect(upper).toBeGreaterThan(lower);

    const before = await viewportState(page);
    await page.getByTestId('window-auto').click();
    // Cornerstone's window of a VOI range [lower, upper]: width upper − lower + 1, centre (lower + upper + 1) / 2.
    const after = await waitForRenderedSlice(page, (state) => state.windowWidth !== before.windowWidth || state.windowCenter !== before.windowCenter, 'the automatic window');
    expect(after.windowWidth).toBeCloseTo(upper - lower + 1, 6);
    expect(after.windowCenter).toBeCloseTo((lower + upper + 1) / 2, 6);
    await expect.poll(() => page.getByTestId('overlay-wl').innerText()).toMatch(/^W \d/);
    await saveArtifact('viewer-mr-auto-window.png');

    // The 0 key gives the same window after another one was set by dragging.
    await page.getByTestId('viewport').hover();
    await page.mouse.down();
    await page.mouse.move(700, 300, { steps: 5 });
    await page.mouse.up();
    await waitForQuietViewport(page);
    expect((await viewportState(page)).windowWidth).not.toBeCloseTo(upper - lower + 1, 3);
    await page.keyboard.press('0');
    await expect.poll(async () => (await viewportState(page)).windowWidth).toBeCloseTo(upper - lower + 1, 6);
  });

  it('draws markers and a scale bar on the MR from its header, and none on a capture without geometry', async () => {
    // MR_small is still shown: rows along +x (patient left), columns along +y (posterior), 0.3125 mm pixels.
    const marker = (side: string) => page.getByTestId(`viewport-marker-${side}`).innerText();
    expect([await marker('left'), await marker('top')]).toEqual(['R', 'A']);
    const a = await imagePointToPage(8, 32);
    const b = await imagePointToPage(56, 32);
    expectScaleBarAgrees(await readScaleBar('viewport'), (48 * 0.3125) / Math.hypot(b.x - a.x, b.y - a.y), 'MR_small');

    const file = path.join(PYDICOM_TEST_FILES, 'SC_jpeg_no_color_transform.dcm');
    const imported = (await workstation.call('dicom.import', { jobId: 'viewer-sc', paths: [file] })) as { seriesKeys: string[] };
    const seriesKey = imported.seriesKeys[0];
    if (!seriesKey) throw new Error('SC_jpeg_no_color_transform.dcm was not imported');
    await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
    await waitForRenderedSlice(page, (state) => state.seriesKey === seriesKey, 'the secondary capture');
    await waitForQuietViewport(page);
    for (const side of ['left', 'right', 'top', 'bottom']) expect(await marker(side), `${side} marker of an image without orientation`).toBe('');
    expect(await page.getByTestId('viewport-scalebar').isHidden(), 'no scale bar without pixel spacing').toBe(true);
  });

  it('lists the new shortcuts in the help panel', async () => {
    await page.getByTestId('help-button').click();
    const help = await page.getByTestId('help-panel').innerText();
    for (const text of ['Tool: Scroll', 'Cine', 'Automatic window']) expect(help).toContain(text);
    await page.getByTestId('help-button').click();
  });
});
