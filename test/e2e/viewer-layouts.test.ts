// The Slicer-style viewer on the sample CT: layouts, the streamed volume, crosshairs
// linking the planes, the lung preset, the 3D rendering and a length measurement. Where
// anatomy lies comes from the sample's ground truth (ground-truth.nrrd/json); pixels are
// judged from screenshots, positions and statistics from window.__mrTest.volume.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import type { MeasurementReport, MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
import { ARTIFACT_DIR, openSampleApp, waitForRenderedSlice, type AppPage, type SampleApp, type Workstation } from './harness.ts';
import { volumeState, waitForQuietPanes, waitForVolume } from './volume-panes.ts';
import { decodePng, type DecodedImage } from './png.ts';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';

type PaneId = 'axial' | 'sagittal' | 'coronal' | 'volume3d';
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

function worldToPage(pane: PaneId, world: Vec3): Promise<{ x: number; y: number }> {
  return page.evaluate(([p, w]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.volume?.worldToPage(p as PaneId, w as Vec3);
    if (!point) throw new Error(`pane ${String(p)} has no page position for ${JSON.stringify(w)}`);
    return point;
  }, [pane, world] as const);
}

function focalPoint(pane: 'axial' | 'sagittal' | 'coronal'): Promise<Vec3> {
  return page.evaluate((p) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.volume?.paneFocalPoint(p);
    if (!point) throw new Error(`pane ${p} is not shown`);
    return point;
  }, pane);
}

function measurements(): Promise<MeasurementReport[]> {
  return page.evaluate(() => (globalThis as MrTestGlobal).__mrTest?.volume?.measurements() ?? []);
}

type PaneShot = { image: DecodedImage; origin: { x: number; y: number } };

async function screenshotPane(pane: PaneId, name?: string): Promise<PaneShot> {
  const box = await page.getByTestId(`pane-${pane}`).boundingBox();
  if (!box) throw new Error(`pane ${pane} is not visible`);
  const clip = { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
  const png = await page.screenshot({ clip });
  if (name) await saveArtifact(`${name}.png`, png);
  return { image: decodePng(png), origin: { x: clip.x, y: clip.y } };
}

async function saveArtifact(fileName: string, bytes: Uint8Array): Promise<void> {
  await mkdir(ARTIFACT_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACT_DIR, fileName), bytes);
}

function rgbAt(shot: PaneShot, pageX: number, pageY: number): [number, number, number] {
  const x = Math.round(pageX - 0.5 - shot.origin.x);
  const y = Math.round(pageY - 0.5 - shot.origin.y);
  if (x < 0 || y < 0 || x >= shot.image.width || y >= shot.image.height) throw new Error(`(${pageX}, ${pageY}) lies outside the pane screenshot`);
  const offset = (y * shot.image.width + x) * 4;
  const rgba = shot.image.rgba;
  return [rgba[offset] ?? 0, rgba[offset + 1] ?? 0, rgba[offset + 2] ?? 0];
}

function luminance([r, g, b]: [number, number, number]): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * The screenshot row of the axial plane's reference line (the row holding most pixels of
 * its red), or null. A 1-pixel line that falls between two pixel rows is drawn
 * antialiased at half strength over both: then the position is the middle of the two.
 */
function axialLineRow(shot: PaneShot): number | null {
  const { width, height, rgba } = shot.image;
  const counts: number[] = [];
  for (let y = 0; y < height; y++) {
    let count = 0;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const [r, g, b] = [rgba[o] ?? 0, rgba[o + 1] ?? 0, rgba[o + 2] ?? 0];
      if (r > 90 && r - Math.max(g, b) > 60) count++;
    }
    counts.push(count);
  }
  let best = 0;
  for (let y = 1; y < height; y++) if ((counts[y] ?? 0) > (counts[best] ?? 0)) best = y;
  const bestCount = counts[best] ?? 0;
  if (bestCount <= width * 0.3) return null;
  const above = counts[best - 1] ?? 0;
  const below = counts[best + 1] ?? 0;
  const neighbour = above >= below ? -1 : 1;
  const row = Math.max(above, below) >= bestCount * 0.5 ? best + neighbour / 2 : best;
  return row + shot.origin.y;
}

function voxelToWorld(i: number, j: number, k: number): Vec3 {
  return [truth.origin[0] + i * truth.spacing[0], truth.origin[1] + j * truth.spacing[1], truth.origin[2] + k * truth.spacing[2]];
}

function labelAt(i: number, j: number, k: number): number {
  const [columns, rows] = truth.sizes;
  return truth.labels[(k * rows + j) * columns + i] ?? 0;
}

/** Voxels of `labels` on slice k whose 7×7 neighbourhood carries the same label: safely inside the structure. */
function interiorVoxels(k: number, labels: ReadonlySet<number>, limit = 40): Array<[number, number]> {
  const [columns, rows] = truth.sizes;
  const found: Array<[number, number]> = [];
  for (let j = 3; j < rows - 3 && found.length < limit; j += 2) {
    for (let i = 3; i < columns - 3 && found.length < limit; i += 2) {
      const label = labelAt(i, j, k);
      if (!labels.has(label)) continue;
      let inside = true;
      for (let dj = -3; dj <= 3 && inside; dj++) for (let di = -3; di <= 3 && inside; di++) inside = labelAt(i + di, j + dj, k) === label;
      if (inside) found.push([i, j]);
    }
  }
  return found;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function axialSliceIndex(): Promise<number> {
  const [, , z] = await focalPoint('axial');
  return Math.round((z - truth.origin[2]) / truth.spacing[2]);
}

/** Moves the axial plane to ground-truth slice k with the arrow keys over the axial pane. */
async function goToAxialSlice(k: number): Promise<void> {
  const box = await page.getByTestId('pane-axial').boundingBox();
  if (!box) throw new Error('the axial pane is not visible');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let attempt = 0; attempt < 200; attempt++) {
    const current = await axialSliceIndex();
    if (current === k) return;
    // ArrowDown steps one slice forward in the volume's order, whichever way that is on the patient axis.
    const before = current;
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(30);
    const after = await axialSliceIndex();
    if (after !== before && Math.abs(after - k) > Math.abs(before - k)) {
      for (let i = 0; i < Math.abs(before - k) + 1; i++) await page.keyboard.press('ArrowUp');
      for (let s = 0; s < 200 && (await axialSliceIndex()) !== k; s++) await page.keyboard.press((await axialSliceIndex()) > k === after > before ? 'ArrowUp' : 'ArrowDown');
      if ((await axialSliceIndex()) === k) return;
    }
  }
  throw new Error(`could not bring the axial plane to slice ${k} (it shows ${await axialSliceIndex()})`);
}

describe('layouts and the volume', () => {
  it('switches to 2×2 and fills all four panes from the streamed volume, with orientation markers', async () => {
    expect(await page.getByTestId('side-panels').isVisible(), 'ask and segment panels beside the 1×1 view').toBe(true);
    await page.getByTestId('layout-2x2').click();
    // They act on the 1×1 view: in the plane layouts the panes get their room.
    await expect.poll(() => page.getByTestId('side-panels').isHidden()).toBe(true);
    const seen = await waitForVolume(page, (state) => state.layout === '2x2' && state.volumeId !== null, 'the 2×2 layout');
    expect(seen.totalFrames).toBe(truth.sizes[2]);
    const loaded = await waitForVolume(page, (state) => state.loaded, 'the whole volume to stream in');
    expect(loaded.framesLoaded).toBe(truth.sizes[2]);
    // The page may be busy for a moment after the last slice (the 3D pane and the planes' labelmap attach): wait, do not race.
    await expect.poll(() => page.getByTestId('volume-progress').isHidden(), { timeout: 15_000 }).toBe(true);
    await waitForQuietPanes(page);
    for (const pane of ['axial', 'sagittal', 'coronal', 'volume3d'] as const) {
      const box = await page.getByTestId(`pane-${pane}`).boundingBox();
      expect(box?.width, `${pane} pane width`).toBeGreaterThan(200);
      expect(box?.height, `${pane} pane height`).toBeGreaterThan(150);
    }
    // Radiological convention: the patient's right on the screen's left, anterior up in axial, head up otherwise.
    const marker = (pane: string, side: string) => page.getByTestId(`pane-${pane}-marker-${side}`).innerText();
    expect([await marker('axial', 'left'), await marker('axial', 'right'), await marker('axial', 'top'), await marker('axial', 'bottom')]).toEqual(['R', 'L', 'A', 'P']);
    expect([await marker('coronal', 'left'), await marker('coronal', 'top')]).toEqual(['R', 'S']);
    expect([await marker('sagittal', 'left'), await marker('sagittal', 'top')]).toEqual(['A', 'S']);
    await saveArtifact('viewer-layout-2x2.png', await page.screenshot());
  });

  it('offers 1×2 and 1×3 by hotkey, and a double-click maximises a pane', async () => {
    await page.getByTestId('pane-axial').hover();
    await page.keyboard.press('Alt+2');
    await waitForVolume(page, (state) => state.layout === '1x2', 'the 1×2 layout');
    await waitForQuietPanes(page);
    expect(await page.getByTestId('pane-coronal').isHidden()).toBe(true);
    await saveArtifact('viewer-layout-1x2.png', await page.screenshot());
    await page.keyboard.press('Alt+3');
    await waitForVolume(page, (state) => state.layout === '1x3', 'the 1×3 layout');
    await waitForQuietPanes(page);
    expect(await page.getByTestId('pane-coronal').isVisible()).toBe(true);
    expect(await page.getByTestId('pane-volume3d').isHidden()).toBe(true);
    await saveArtifact('viewer-layout-1x3.png', await page.screenshot());
    await page.getByTestId('pane-sagittal').dblclick();
    await waitForVolume(page, (state) => state.maximized === 'sagittal', 'the sagittal pane to be maximised');
    expect(await page.getByTestId('pane-axial').isHidden()).toBe(true);
    await page.getByTestId('pane-sagittal').dblclick();
    await waitForVolume(page, (state) => state.maximized === null, 'the sagittal pane to be restored');
    await page.keyboard.press('Alt+1');
    await waitForVolume(page, (state) => state.layout === '1x1', 'the 1×1 layout');
    expect(await page.getByTestId('viewport').isVisible()).toBe(true);
    await saveArtifact('viewer-layout-1x1.png', await page.screenshot());
    await page.getByTestId('layout-2x2').click();
    await waitForVolume(page, (state) => state.layout === '2x2' && state.loaded, 'the 2×2 layout again');
    await waitForQuietPanes(page);
  });

  it('scrolling the axial view moves the crosshair in the sagittal and coronal views', async () => {
    const before = await waitForVolume(page, (state) => state.crosshairCenter !== null, 'the crosshair centre');
    const center0 = before.crosshairCenter as Vec3;
    const sagittal0 = await screenshotPane('sagittal');
    const coronal0 = await screenshotPane('coronal');
    const lineSag0 = axialLineRow(sagittal0);
    const lineCor0 = axialLineRow(coronal0);
    expect(lineSag0, 'the axial reference line (red) in the sagittal pane').not.toBeNull();
    expect(lineCor0, 'the axial reference line (red) in the coronal pane').not.toBeNull();

    const box = await page.getByTestId('pane-axial').boundingBox();
    if (!box) throw new Error('the axial pane is not visible');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const z0 = (await focalPoint('axial'))[2];
    for (let i = 0; i < 12; i++) {
      await page.mouse.wheel(0, -100);
      await page.waitForTimeout(40);
    }
    const after = await waitForVolume(page, (state) => state.crosshairCenter !== null && Math.abs(state.crosshairCenter[2] - center0[2]) > 10, 'the crosshair to follow the axial scroll');
    await waitForQuietPanes(page);
    const z1 = (await focalPoint('axial'))[2];
    const center1 = (await volumeState(page)).crosshairCenter as Vec3;
    // The crosshair follows the axial plane along z, and stays put in x and y.
    expect(center1[2]).toBeCloseTo(z1, 1);
    expect(Math.abs(z1 - z0)).toBeGreaterThan(10 * truth.spacing[2] - 0.01);
    expect(center1[0]).toBeCloseTo(center0[0], 1);
    expect(center1[1]).toBeCloseTo(center0[1], 1);
    expect(after.crosshairCenter).not.toBeNull();

    const sagittal1 = await screenshotPane('sagittal', 'viewer-crosshair-sagittal');
    const coronal1 = await screenshotPane('coronal', 'viewer-crosshair-coronal');
    for (const [name, shot, row0] of [['sagittal', sagittal1, lineSag0], ['coronal', coronal1, lineCor0]] as const) {
      const row1 = axialLineRow(shot);
      expect(row1, `the axial reference line in the ${name} pane after scrolling`).not.toBeNull();
      // On screen the line sits where the new axial plane projects, and it moved.
      const expected = await worldToPage(name, center1);
      expect(Math.abs((row1 as number) - expected.y), `${name}: line at ${row1}, plane projects to ${expected.y}`).toBeLessThan(3);
      expect(Math.abs((row1 as number) - (row0 as number)), `${name}: the line moved`).toBeGreaterThan(10);
      // Scrolling toward the head moves the line up in both views (head up in sagittal and coronal).
      expect(Math.sign((row1 as number) - (row0 as number))).toBe(z1 > z0 ? -1 : 1);
    }
  });
});

describe('window presets and measurements', () => {
  it('the lung preset turns the black lungs grey and the soft tissue near white', async () => {
    const lungLabels = new Set(truth.table.filter((entry) => /lung/.test(entry.name)).map((entry) => entry.value));
    const lungLeft = truth.table.find((entry) => entry.name === 'lung_left');
    if (!lungLeft?.centroidVoxel) throw new Error('ground-truth.json has no lung_left centroid');
    const k = Math.round(lungLeft.centroidVoxel[2]);
    await goToAxialSlice(k);
    const lung = interiorVoxels(k, lungLabels);
    const body = interiorVoxels(k, new Set([1]));
    expect(lung.length, `lung voxels on slice ${k}`).toBeGreaterThan(10);
    expect(body.length, `soft tissue voxels on slice ${k}`).toBeGreaterThan(10);
    // The pane numbers slices in the series' slice order (1 = most inferior here), like the stack view.
    await expect.poll(() => page.getByTestId('pane-info-axial').innerText()).toContain(`${k + 1} / ${truth.sizes[2]}`);

    async function sample(voxels: Array<[number, number]>, shot: PaneShot): Promise<number> {
      const values: number[] = [];
      for (const [i, j] of voxels) {
        const point = await worldToPage('axial', voxelToWorld(i, j, k));
        values.push(luminance(rgbAt(shot, point.x, point.y)));
      }
      return median(values);
    }

    await page.getByTestId('preset-soft-tissue').click();
    await waitForVolume(page, (state) => state.windowCenter === 40 && state.windowWidth === 400, 'W 400 L 40');
    await waitForQuietPanes(page);
    const softShot = await screenshotPane('axial', 'viewer-axial-soft-tissue');
    const lungSoft = await sample(lung, softShot);
    const bodySoft = await sample(body, softShot);

    await page.getByTestId('preset-lung').click();
    await waitForVolume(page, (state) => state.windowCenter === -600 && state.windowWidth === 1500, 'W 1500 L -600');
    await waitForQuietPanes(page);
    const lungShot = await screenshotPane('axial', 'viewer-axial-lung');
    const lungLung = await sample(lung, lungShot);
    const bodyLung = await sample(body, lungShot);

    // Air-filled lung (about -850 HU) is below a 40/400 window, and about a sixth up a -600/1500 one.
    expect(lungSoft, 'lung under W 400 L 40').toBeLessThan(25);
    expect(lungLung, 'lung under W 1500 L -600').toBeGreaterThan(20);
    expect(lungLung, 'lung under W 1500 L -600').toBeLessThan(140);
    // Soft tissue (about 0–60 HU) sits near the top of the lung window.
    expect(bodyLung, 'soft tissue under W 1500 L -600').toBeGreaterThan(180);
    expect(bodyLung).toBeGreaterThan(bodySoft);
  });

  it('a length drawn across the body on the axial view gives its width in mm', async () => {
    const k = await axialSliceIndex();
    const bodyEntry = truth.table.find((entry) => entry.name === 'body');
    if (!bodyEntry?.centroidVoxel) throw new Error('ground-truth.json has no body centroid');
    const j = Math.round(bodyEntry.centroidVoxel[1]);
    const [columns] = truth.sizes;
    let first = -1;
    let last = -1;
    for (let i = 0; i < columns; i++) {
      if (labelAt(i, j, k) === 0) continue;
      if (first < 0) first = i;
      last = i;
    }
    expect(first, `body on row ${j} of slice ${k}`).toBeGreaterThanOrEqual(0);
    const expectedWidth = (last - first + 1) * truth.spacing[0];
    // From the outer edge of the first body voxel to the outer edge of the last.
    const start = await worldToPage('axial', voxelToWorld(first - 0.5, j, k));
    const end = await worldToPage('axial', voxelToWorld(last + 0.5, j, k));
    const pixelMm = truth.spacing[0] * (Math.abs(end.x - start.x) > 0 ? (last - first + 1) / Math.abs(end.x - start.x) : 1);

    await page.getByTestId('tool-length').click();
    await waitForVolume(page, (state) => state.primaryTool === 'length', 'the length tool');
    const before = (await measurements()).filter((entry) => entry.toolName === 'Length').length;
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move((start.x + end.x) / 2, start.y, { steps: 4 });
    await page.mouse.move(end.x, end.y, { steps: 4 });
    await page.mouse.up();
    await waitForQuietPanes(page);
    const lengths = (await measurements()).filter((entry) => entry.toolName === 'Length');
    expect(lengths.length).toBe(before + 1);
    const measured = lengths.at(-1)?.stats['length'];
    expect(measured, 'the Length annotation reports a length').toBeTypeOf('number');
    // Within two screen pixels of the true width (mouse positions are whole CSS pixels).
    expect(Math.abs((measured as number) - expectedWidth), `measured ${measured} mm, body ${expectedWidth} mm wide`).toBeLessThan(2 * pixelMm + 0.5);
    await screenshotPane('axial', 'viewer-length-body-width');
    await page.getByTestId('tool-crosshairs').click();
  });
});

describe('3D', () => {
  it('renders the body as a solid silhouette of plausible proportions', async () => {
    await page.getByTestId('vr-preset-CT-Soft-Tissue').click();
    await waitForQuietPanes(page);
    const shot = await screenshotPane('volume3d', 'viewer-3d-soft-tissue');
    const { width, height, rgba } = shot.image;
    let minX = width, maxX = -1, minY = height, maxY = -1, lit = 0;
    // Skip the top rows: the pane's label is drawn there.
    for (let y = 20; y < height - 20; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        if ((rgba[o] ?? 0) + (rgba[o + 1] ?? 0) + (rgba[o + 2] ?? 0) < 60) continue;
        lit++;
        minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
      }
    }
    expect(lit / (width * height), 'share of the 3D pane that is not background').toBeGreaterThan(0.05);
    const boxWidth = maxX - minX + 1;
    const boxHeight = maxY - minY + 1;
    expect(lit / (boxWidth * boxHeight), 'the silhouette fills its bounding box like a torso').toBeGreaterThan(0.4);
    // A rendered surface is fairly smooth. SwiftShader's ray casting leaves some speckle
    // (about 17 grey levels between neighbours on this sample); a ray caster fed a
    // half-filled texture gave black-and-white noise, several times more.
    let jumps = 0;
    let pairs = 0;
    for (let y = minY; y <= maxY; y += 2) {
      for (let x = minX; x < maxX; x++) {
        const o = (y * width + x) * 4;
        jumps += Math.abs(luminance([rgba[o] ?? 0, rgba[o + 1] ?? 0, rgba[o + 2] ?? 0]) - luminance([rgba[o + 4] ?? 0, rgba[o + 5] ?? 0, rgba[o + 6] ?? 0]));
        pairs++;
      }
    }
    expect(jumps / pairs, 'mean difference between neighbouring pixels of the 3D rendering').toBeLessThan(30);
    // Seen from the front: body width (x extent) against the scanned length (z extent), from the ground truth.
    const bodyEntry = truth.table.find((entry) => entry.name === 'body');
    if (!bodyEntry?.boundingBox) throw new Error('ground-truth.json has no body bounding box');
    const widthMm = (bodyEntry.boundingBox.max[0] - bodyEntry.boundingBox.min[0] + 1) * truth.spacing[0];
    const lengthMm = (bodyEntry.boundingBox.max[2] - bodyEntry.boundingBox.min[2] + 1) * truth.spacing[2];
    const ratio = boxWidth / boxHeight;
    expect(ratio, `silhouette ${boxWidth}×${boxHeight} px against a body ${widthMm.toFixed(0)}×${lengthMm.toFixed(0)} mm`).toBeGreaterThan((widthMm / lengthMm) * 0.75);
    expect(ratio).toBeLessThan((widthMm / lengthMm) * 1.33);

    await page.getByTestId('vr-preset-CT-Bone').click();
    await waitForQuietPanes(page);
    await screenshotPane('volume3d', 'viewer-3d-bone');
  });
});

describe('series that cannot form a volume', () => {
  it('stays in the stack view and says why when slices are missing', async () => {
    // The sample without three middle slices, as a series of its own (new series and instance UIDs).
    const sampleDir = path.join(workstation.dataDir, 'sample', 'dicom');
    const gapDir = await mkdtemp(path.join(tmpdir(), 'mr-gap-'));
    const files = (await readdir(sampleDir)).sort();
    const manifest = JSON.parse(await readFile(path.join(workstation.dataDir, 'sample', 'sample.json'), 'utf8')) as { files: Array<{ fileName: string; sliceIndex: number }> };
    const dropped = new Set(manifest.files.filter((file) => file.sliceIndex >= 60 && file.sliceIndex < 63).map((file) => file.fileName));
    expect(dropped.size).toBe(3);
    const kept = files.filter((file) => !dropped.has(file));
    for (const file of kept) await copyFile(path.join(sampleDir, file), path.join(gapDir, file));
    execFileSync('dcmodify', ['-nb', '-gin', '-m', '(0020,000E)=2.25.1234567890123456789', ...kept.map((file) => path.join(gapDir, file))]);
    try {
      const imported = (await workstation.call('dicom.import', { jobId: 'viewer-gap', paths: [gapDir] })) as { seriesKeys: string[] };
      const seriesKey = imported.seriesKeys[0];
      if (!seriesKey) throw new Error('the gapped series was not imported');
      await page.getByTestId('layout-1x1').click();
      await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
      await waitForRenderedSlice(page, (state) => state.seriesKey === seriesKey, 'the gapped series in the stack view');
      await page.getByTestId('layout-2x2').click();
      await expect.poll(() => page.getByTestId('volume-message').innerText()).toMatch(/cannot be shown as a volume/);
      const state = await volumeState(page);
      expect(state.layout).toBe('1x1');
      expect(state.volumeId).toBeNull();
      expect(await page.getByTestId('viewport').isVisible()).toBe(true);
      await saveArtifact('viewer-no-volume-message.png', await page.screenshot());
    } finally {
      await rm(gapDir, { recursive: true, force: true });
    }
  });
});
