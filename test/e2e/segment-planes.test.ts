// The segment editor's segments in the volume planes (2×2): a threshold segment made in
// the 1×1 view shows in its colour in the sagittal and coronal panes exactly where the
// labelmap holds it, nowhere else, goes when the segment is hidden, and an undo done in
// 1×1 is what the planes show next. Voxel positions come from the series' own geometry
// (dicom.series: positions, orientation, spacing), labels from the editor's document
// (__mrTest.segmentation.labelAt), pixels from screenshots.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import type { MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
import { launchChromium, openApp, screenshotPage, startWorkstation, viewportState, waitForRenderedSlice, type AppPage, type Workstation } from './harness.ts';
import { waitForSeg } from './segment-state.ts';
import { waitForQuietPanes, waitForVolume } from './volume-panes.ts';
import { decodePng, type DecodedImage } from './png.ts';

type Vec3 = [number, number, number];
type PlanePane = 'sagittal' | 'coronal';
type Voxel = [number, number, number];
/** A voxel of the pane's plane, its label, and where it lands on the page. */
type Probe = { voxel: Voxel; label: number; x: number; y: number };

const BONE_HU = { low: 150, high: 3000 };
/** The segment number of the bone segment, the only one. */
const BONE = 1;
/** Pixels kept clear of the crosshair lines, the pane's edges and overlays. */
const CLEARANCE_PX = 14;
/** A screen pixel is "coloured" when its channels differ by more than this (CT is grey). */
const TINT = 10;

let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let detail: SeriesDetail;
let geometry: { ipp0: Vec3; rowDir: Vec3; colDir: Vec3; normal: Vec3; columnMm: number; rowMm: number; positions: number[] };
let boneColor: [number, number, number];
const probes = new Map<PlanePane, Probe[]>();

beforeAll(async () => {
  browser = await launchChromium();
  workstation = await startWorkstation();
  app = await openApp(browser, workstation.server);
  page = app.page;
  await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
  const seriesKey = (await viewportState(page)).seriesKey as string;
  detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
  const g = detail.series.geometry;
  if (!g?.orientation || !g.pixelSpacing || !g.normal) throw new Error('the sample lacks orientation or spacing');
  const rowDir = g.orientation.slice(0, 3) as Vec3;
  const colDir = g.orientation.slice(3, 6) as Vec3;
  const normal = g.normal as Vec3;
  const first = detail.slices[0]?.position as Vec3;
  geometry = {
    ipp0: first,
    rowDir,
    colDir,
    normal,
    // PixelSpacing is [row spacing, column spacing]: along a row the step is the column spacing.
    columnMm: g.pixelSpacing[1],
    rowMm: g.pixelSpacing[0],
    positions: detail.slices.map((s) => dot(sub(s.position as Vec3, first), normal)),
  };
});

afterAll(async () => {
  await app?.close();
  await browser?.close();
  await workstation?.close();
});

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/** Patient mm of a voxel's centre, from the slice's own ImagePositionPatient. */
function voxelToWorld([column, row, slice]: Voxel): Vec3 {
  const ipp = detail.slices[slice]?.position as Vec3;
  const { rowDir, colDir, columnMm, rowMm } = geometry;
  return [0, 1, 2].map((i) => ipp[i]! + rowDir[i]! * column * columnMm + colDir[i]! * row * rowMm) as Vec3;
}

/** The voxel nearest a world point. */
function worldToVoxel(world: Vec3): Voxel {
  const d = sub(world, geometry.ipp0);
  const along = dot(d, geometry.normal);
  let slice = 0;
  for (let s = 1; s < geometry.positions.length; s++) if (Math.abs(geometry.positions[s]! - along) < Math.abs(geometry.positions[slice]! - along)) slice = s;
  return [Math.round(dot(d, geometry.rowDir) / geometry.columnMm), Math.round(dot(d, geometry.colDir) / geometry.rowMm), slice];
}

async function showPlanes(): Promise<void> {
  await page.getByTestId('layout-2x2').click();
  await expect.poll(() => page.getByTestId('side-panels').isHidden()).toBe(true);
  await waitForVolume(page, (state) => state.layout === '2x2' && state.loaded, 'the 2×2 layout with the whole volume');
  await waitForQuietPanes(page, 700);
}

async function showStack(): Promise<void> {
  await page.getByTestId('layout-1x1').click();
  await expect.poll(() => page.getByTestId('side-panels').isVisible()).toBe(true);
}

/** Page position of a world point on a pane, or null when the pane is not shown. */
function worldToPage(pane: PlanePane | 'axial', world: Vec3): Promise<{ x: number; y: number } | null> {
  return page.evaluate(([p, w]) => (globalThis as MrTestGlobal).__mrTest!.volume!.worldToPage(p as PlanePane, w as Vec3), [pane, world] as const);
}

/**
 * Voxels of the plane a pane shows, on a coarse grid, whose whole 3×3×3 neighbourhood has
 * one label (so the nearest-voxel resampling cannot pick a neighbour's), with their page
 * positions clear of the crosshair lines and the pane's border.
 */
async function planeProbes(pane: PlanePane): Promise<Probe[]> {
  const focal = await page.evaluate((p) => (globalThis as MrTestGlobal).__mrTest!.volume!.paneFocalPoint(p), pane);
  if (!focal) throw new Error(`the ${pane} pane shows no plane`);
  const [fixedColumn, fixedRow] = worldToVoxel(focal as Vec3);
  const { columns, rows, slices } = detail.series.geometry ? { columns: detail.series.geometry.columns, rows: detail.series.geometry.rows, slices: detail.slices.length } : { columns: 0, rows: 0, slices: 0 };
  const candidates: Voxel[] = [];
  const inPlaneSteps = pane === 'sagittal' ? rows : columns;
  for (let a = 2; a < inPlaneSteps - 2; a += 3) {
    for (let s = 2; s < slices - 2; s += 2) candidates.push(pane === 'sagittal' ? [fixedColumn, a, s] : [a, fixedRow, s]);
  }
  const labelled = await page.evaluate((voxels) => {
    const hook = (globalThis as MrTestGlobal).__mrTest!.segmentation!;
    return voxels.map(([c, r, s]) => {
      const label = hook.labelAt!(c, r, s);
      for (let dc = -1; dc <= 1; dc++) for (let dr = -1; dr <= 1; dr++) for (let ds = -1; ds <= 1; ds++) if (hook.labelAt!(c + dc, r + dr, s + ds) !== label) return -1;
      return label;
    });
  }, candidates);
  const box = await page.getByTestId(`pane-${pane}`).boundingBox();
  if (!box) throw new Error(`pane ${pane} is not visible`);
  const crosshair = await worldToPage(pane, focal as Vec3);
  if (!crosshair) throw new Error(`no crosshair centre on the ${pane} pane`);
  const out: Probe[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const label = labelled[i]!;
    if (label < 0) continue;
    const point = await worldToPage(pane, voxelToWorld(candidates[i]!));
    if (!point) continue;
    const clear =
      point.x > box.x + 40 && point.x < box.x + box.width - 40 && point.y > box.y + 40 && point.y < box.y + box.height - 40 &&
      Math.abs(point.x - crosshair.x) > CLEARANCE_PX && Math.abs(point.y - crosshair.y) > CLEARANCE_PX;
    if (clear) out.push({ voxel: candidates[i]!, label, x: point.x, y: point.y });
  }
  return out;
}

async function pageShot(name: string): Promise<DecodedImage> {
  const file = await screenshotPage(page, name);
  const { readFile } = await import('node:fs/promises');
  return decodePng(new Uint8Array(await readFile(file)));
}

function rgbAt(image: DecodedImage, x: number, y: number): [number, number, number] {
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [image.rgba[i]!, image.rgba[i + 1]!, image.rgba[i + 2]!];
}

/** How far a pixel is from grey: CT is drawn in greys, a segment in its colour. */
function tintOf(rgb: [number, number, number]): number {
  return Math.max(...rgb) - Math.min(...rgb);
}

/** Probes whose screen pixel is tinted, split by label. */
function tintedByLabel(image: DecodedImage, pane: PlanePane): { segmentTinted: number; segmentTotal: number; backgroundTinted: number; backgroundTotal: number; misses: string[] } {
  const result = { segmentTinted: 0, segmentTotal: 0, backgroundTinted: 0, backgroundTotal: 0, misses: [] as string[] };
  for (const probe of probes.get(pane)!) {
    const rgb = rgbAt(image, probe.x, probe.y);
    const tinted = tintOf(rgb) > TINT;
    if (probe.label === BONE) {
      result.segmentTotal++;
      if (tinted) result.segmentTinted++;
      else result.misses.push(`segment voxel ${probe.voxel.join(',')} at ${probe.x.toFixed(0)},${probe.y.toFixed(0)} is ${rgb.join(',')}`);
    } else {
      result.backgroundTotal++;
      if (tinted) {
        result.backgroundTinted++;
        result.misses.push(`background voxel ${probe.voxel.join(',')} at ${probe.x.toFixed(0)},${probe.y.toFixed(0)} is ${rgb.join(',')}`);
      }
    }
  }
  return result;
}

describe('segments in the volume planes', () => {
  it('shows a threshold segment made in 1×1 in its colour in the sagittal and coronal panes, exactly where the labelmap holds it', async () => {
    await page.getByTestId('segment-term-search').fill('bone');
    await page.getByTestId('segment-term-bone').click();
    await waitForSeg(page, (s) => s.segments.length === 1 && s.activeSegment === BONE, 'the bone segment');
    await page.getByTestId('segment-effect').selectOption('threshold');
    await page.getByTestId('segment-threshold-low').fill(String(BONE_HU.low));
    await page.getByTestId('segment-threshold-high').fill(String(BONE_HU.high));
    await page.getByTestId('segment-effect-apply').click();
    const state = await waitForSeg(page, (s) => (s.segments[0]?.voxels ?? 0) > 0 && !s.busy, 'the threshold', 120_000);
    boneColor = state.segments[0]!.color;
    expect(tintOf(boneColor), 'the bone colour is far from grey').toBeGreaterThan(3 * TINT);

    await showPlanes();
    for (const pane of ['sagittal', 'coronal'] as const) probes.set(pane, await planeProbes(pane));
    const shot = await pageShot('segment-planes-visible');
    for (const pane of ['sagittal', 'coronal'] as const) {
      const seen = tintedByLabel(shot, pane);
      expect(seen.segmentTotal, `bone voxels probed in the ${pane} pane`).toBeGreaterThanOrEqual(8);
      expect(seen.backgroundTotal, `background voxels probed in the ${pane} pane`).toBeGreaterThanOrEqual(50);
      expect(seen.misses, `${pane}: every bone probe tinted, no background probe tinted`).toEqual([]);
    }
  });

  it('hides the segment in the planes when it is hidden in the editor, and shows it again', async () => {
    await showStack();
    await page.getByTestId('segment-visible-1').click();
    await waitForSeg(page, (s) => s.segments[0]?.visible === false, 'the bone segment to be hidden');
    await showPlanes();
    const hidden = await pageShot('segment-planes-hidden');
    for (const pane of ['sagittal', 'coronal'] as const) {
      const seen = tintedByLabel(hidden, pane);
      expect(seen.segmentTinted, `${pane}: tinted bone probes with the segment hidden`).toBe(0);
      expect(seen.backgroundTinted, `${pane}: tinted background probes`).toBe(0);
    }
    await showStack();
    await page.getByTestId('segment-visible-1').click();
    await waitForSeg(page, (s) => s.segments[0]?.visible === true, 'the bone segment to be shown');
    await showPlanes();
    const shown = await pageShot('segment-planes-shown-again');
    for (const pane of ['sagittal', 'coronal'] as const) expect(tintedByLabel(shown, pane).misses, `${pane} after showing the segment again`).toEqual([]);
  });

  it('shows the undone state after an undo in 1×1', async () => {
    await showStack();
    await page.getByTestId('segment-undo').click();
    await waitForSeg(page, (s) => s.segments[0]?.voxels === 0, 'the undo of the threshold');
    const labels = await page.evaluate(
      (voxels) => voxels.map(([c, r, s]) => (globalThis as MrTestGlobal).__mrTest!.segmentation!.labelAt!(c, r, s)),
      [...probes.get('sagittal')!, ...probes.get('coronal')!].map((p) => p.voxel),
    );
    expect(labels.every((label) => label === 0), 'the labelmap is empty at every probe after the undo').toBe(true);
    await showPlanes();
    const undone = await pageShot('segment-planes-undone');
    for (const pane of ['sagittal', 'coronal'] as const) {
      const seen = tintedByLabel(undone, pane);
      expect(seen.segmentTinted + seen.backgroundTinted, `${pane}: tinted probes after the undo`).toBe(0);
    }
  });
});
