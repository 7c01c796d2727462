// The segment editor's segments in the volume planes (2×2): a threshold segment made in
// the 1×1 view shows in its colour in the sagittal and coronal panes exactly where the
// labelmap holds it, nowhere else, goes when the segment is hidden, and an undo done in
// 1×1 is what the planes show next; then editing in the planes (Cornerstone's brush): a
// sagittal stroke lands on the voxels its world coordinates say, shows in the axial and
// coronal panes, shares one undo history with a coronal stroke, shows in the 3D pane as a
// surface, and erases the same way; threshold paint sets only the voxels in range (HU
// from pydicom), circle scissors fill a disc on one sagittal slice, each one undo step of
// the same history. Voxel positions come from the series' own geometry (dicom.series:
// positions, orientation, spacing), labels from the editor's document
// (__mrTest.segmentation.labelAt), pixels from screenshots.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import type { MrTestGlobal, PlaneStrokeReport } from '../../renderer/src/test-hook-types.ts';
import { openSampleApp, screenshotPage, type AppPage, type SampleApp, type Workstation } from './harness.ts';
import { referenceImage } from './reference-pixels.ts';
import { segState, waitForSeg } from './segment-state.ts';
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

let sample: SampleApp;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let detail: SeriesDetail;
let geometry: { ipp0: Vec3; rowDir: Vec3; colDir: Vec3; normal: Vec3; columnMm: number; rowMm: number; positions: number[] };
let boneColor: [number, number, number];
const probes = new Map<PlanePane, Probe[]>();

beforeAll(async () => {
  sample = await openSampleApp();
  ({ browser, workstation, app, page } = sample);
  detail = sample.detail;
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
  await sample?.close();
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
function worldToPage(pane: PlanePane | 'axial' | 'volume3d', world: Vec3): Promise<{ x: number; y: number } | null> {
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

// Painting in the planes with Cornerstone's brush (the toolbar's Paint): a stroke drawn in
// the sagittal pane is a ball of the brush's radius swept along the stroke's world
// coordinates (the voxels expected are computed here from the series' geometry), the
// axial and coronal panes show it there, and a stroke in the coronal pane joins the same
// undo history: two undos take both away, newest first.
const BRUSH_MM = 15;
/** Voxel centres this close to the brush's edge (mm) may fall either way: a mouse position is whole pixels, a voxel 1.4 × 1.4 × 2.5 mm. */
const EDGE_MM = 2;

type Stroke = { from: Vec3; to: Vec3 };
let planeOf: { x: number; y: number; z: number };
let beforePaint: Uint8Array;
let afterSagittal: Uint8Array;

async function labelmapNow(): Promise<Uint8Array> {
  const text = await page.evaluate(() => (globalThis as MrTestGlobal).__mrTest!.segmentation!.labelmapBase64!());
  if (text === null) throw new Error('the editor holds no labelmap');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * After a stroke's commit: Cornerstone's labelmap images (what the panes show and the
 * tools paint) hold exactly the document's voxels, over the whole series — so the
 * commit, which compares only what the stroke touched, missed nothing — and it compared
 * far fewer voxels than the series has.
 */
async function expectStrokeCommitted(what: string): Promise<PlaneStrokeReport> {
  await expectImagesMatchDocument(what);
  const report = (await segState(page)).planeStroke;
  if (!report) throw new Error(`${what}: no stroke was committed from the planes`);
  const g = detail.series.geometry!;
  const total = g.columns * g.rows * detail.slices.length;
  expect(report.compared, `${what}: voxels the commit compared (${report.compared} of ${total})`).toBeLessThan(total / 20);
  expect(report.compared, `${what}: the commit compared at least what changed`).toBeGreaterThanOrEqual(report.changed);
  return report;
}

async function expectImagesMatchDocument(what: string): Promise<void> {
  const mismatches = await page.evaluate(() => (globalThis as MrTestGlobal).__mrTest!.segmentation!.labelmapImageMismatches!());
  expect(mismatches, `${what}: voxels where the panes' labelmap images differ from the document`).toBe(0);
}

function distanceToStroke(p: Vec3, stroke: Stroke): number {
  const d = sub(stroke.to, stroke.from);
  const t = Math.max(0, Math.min(1, dot(sub(p, stroke.from), d) / dot(d, d)));
  const q: Vec3 = [stroke.from[0] + d[0] * t, stroke.from[1] + d[1] * t, stroke.from[2] + d[2] * t];
  return Math.hypot(...sub(p, q));
}

/** Voxels the ball of BRUSH_MM along the stroke must cover, and voxels it must not reach, as [index, distance]. */
function judgeStroke(labels: Uint8Array, stroke: Stroke, segment: number): { inside: number; missed: string[]; outsidePainted: string[] } {
  const g = detail.series.geometry!;
  const [columns, rows, slices] = [g.columns, g.rows, detail.slices.length];
  const result = { inside: 0, missed: [] as string[], outsidePainted: [] as string[] };
  // Only voxels in this box can lie inside the brush: elsewhere only painted voxels need a distance.
  const ends = [worldToVoxel(stroke.from), worldToVoxel(stroke.to)];
  const reach = [BRUSH_MM / geometry.columnMm, BRUSH_MM / geometry.rowMm, BRUSH_MM / Math.min(...geometry.positions.slice(1).map((p, i) => Math.abs(p - geometry.positions[i]!)))].map((v) => Math.ceil(v) + 2);
  const low = [0, 1, 2].map((a) => Math.min(ends[0]![a]!, ends[1]![a]!) - reach[a]!);
  const high = [0, 1, 2].map((a) => Math.max(ends[0]![a]!, ends[1]![a]!) + reach[a]!);
  for (let s = 0; s < slices; s++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const label = labels[(s * rows + r) * columns + c]!;
        const near = c >= low[0]! && c <= high[0]! && r >= low[1]! && r <= high[1]! && s >= low[2]! && s <= high[2]!;
        if (!near && label !== segment) continue;
        const distance = distanceToStroke(voxelToWorld([c, r, s]), stroke);
        if (distance <= BRUSH_MM - EDGE_MM) {
          result.inside++;
          if (label !== segment && result.missed.length < 10) result.missed.push(`${c},${r},${s} at ${distance.toFixed(1)} mm holds ${label}`);
        } else if (distance > BRUSH_MM + EDGE_MM && label === segment && result.outsidePainted.length < 10) {
          result.outsidePainted.push(`${c},${r},${s} at ${distance.toFixed(1)} mm`);
        }
      }
    }
  }
  return result;
}

/** Drags the left button along a stroke in a pane, in small steps (the brush stamps at each). */
async function dragStroke(pane: 'sagittal' | 'coronal', stroke: Stroke): Promise<void> {
  const from = await worldToPage(pane, stroke.from);
  const to = await worldToPage(pane, stroke.to);
  if (!from || !to) throw new Error(`the ${pane} pane is not shown`);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  const steps = Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / 2);
  for (let i = 1; i <= steps; i++) await page.mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y + ((to.y - from.y) * i) / steps);
  await page.mouse.up();
}

/**
 * Voxels of a pane's plane near a stroke, judged on screen: those well inside the brush
 * must be tinted (untinted when the stroke is `painted` false: undone), those well
 * outside not. Probes near the crosshair lines are skipped.
 */
async function strokeOnScreen(image: DecodedImage, pane: 'axial' | 'coronal', stroke: Stroke, painted = true): Promise<{ inside: number; outside: number; misses: string[] }> {
  const g = detail.series.geometry!;
  const [columns, rows, slices] = [g.columns, g.rows, detail.slices.length];
  const focal = await page.evaluate((p) => (globalThis as MrTestGlobal).__mrTest!.volume!.paneFocalPoint(p), pane);
  const centre = await worldToPage(pane, focal as Vec3);
  if (!focal || !centre) throw new Error(`the ${pane} pane shows no plane`);
  const [, fixedRow, fixedSlice] = worldToVoxel(focal as Vec3);
  const candidates: Voxel[] = [];
  if (pane === 'axial') for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) candidates.push([c, r, fixedSlice]);
  else for (let s = 0; s < slices; s++) for (let c = 0; c < columns; c++) candidates.push([c, fixedRow, s]);
  const result = { inside: 0, outside: 0, misses: [] as string[] };
  for (const voxel of candidates) {
    const distance = distanceToStroke(voxelToWorld(voxel), stroke);
    const inside = distance <= BRUSH_MM - EDGE_MM - 1;
    const outside = distance > BRUSH_MM + EDGE_MM + 1 && distance < BRUSH_MM + 20;
    if (!inside && !outside) continue;
    const point = await worldToPage(pane, voxelToWorld(voxel));
    if (!point || Math.abs(point.x - centre.x) < 6 || Math.abs(point.y - centre.y) < 6) continue;
    const tinted = tintOf(rgbAt(image, point.x, point.y)) > TINT;
    if (inside) result.inside++;
    else result.outside++;
    if ((painted && inside) !== tinted && result.misses.length < 10) result.misses.push(`${pane} voxel ${voxel.join(',')} (${distance.toFixed(1)} mm from the stroke) is ${tinted ? '' : 'not '}tinted`);
  }
  return result;
}

describe('editing in the planes', () => {
  it('paints with the brush in the sagittal pane: a ball of the radius swept along the stroke, shown in the axial and coronal panes', async () => {
    await showStack();
    // The editor's brush settings are the planes' too: 15 mm, a sphere.
    await page.getByTestId('segment-brush-radius').evaluate((input, mm) => {
      (input as unknown as { value: string }).value = String(mm);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, BRUSH_MM);
    await page.getByTestId('segment-brush-shape').evaluate((select) => {
      (select as unknown as { value: string }).value = '3d';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    beforePaint = await labelmapNow();
    await showPlanes();
    await page.getByTestId('tool-seg-paint').click();
    await waitForVolume(page, (s) => s.primaryTool === 'seg-paint', 'the paint tool in the planes');
    const [sagittal, coronal, axial] = await Promise.all((['sagittal', 'coronal', 'axial'] as const).map((p) => page.evaluate((q) => (globalThis as MrTestGlobal).__mrTest!.volume!.paneFocalPoint(q), p)));
    planeOf = { x: sagittal![0], y: coronal![1], z: axial![2] };
    // Along the sagittal plane's y axis, 6 mm above the axial plane: it crosses the coronal plane and reaches into the axial one.
    const stroke: Stroke = { from: [planeOf.x, planeOf.y - 30, planeOf.z + 6], to: [planeOf.x, planeOf.y + 30, planeOf.z + 6] };
    await dragStroke('sagittal', stroke);
    const state = await waitForSeg(page, (s) => (s.segments[0]?.voxels ?? 0) > 0 && (s.message?.text ?? '').includes('sagittal'), 'the sagittal stroke in the document');
    afterSagittal = await labelmapNow();
    const judged = judgeStroke(afterSagittal, stroke, BONE);
    expect(judged.inside, 'voxels well inside the brush').toBeGreaterThan(1000);
    expect(judged.missed, 'voxels well inside the brush that were not painted').toEqual([]);
    expect(judged.outsidePainted, 'voxels well outside the brush that were painted').toEqual([]);
    expect(state.canUndo).toBe(true);
    const report = await expectStrokeCommitted('the sagittal stroke');
    expect(report.label).toBe('Paint (sagittal)');

    // The brush's cursor follows the mouse: take it off the panes before judging them.
    await page.mouse.move(5, 5);
    await waitForQuietPanes(page, 700);
    const shot = await pageShot('segment-planes-painted-sagittal');
    for (const pane of ['axial', 'coronal'] as const) {
      const seen = await strokeOnScreen(shot, pane, stroke);
      expect(seen.inside, `${pane}: probes inside the stroke`).toBeGreaterThanOrEqual(20);
      expect(seen.outside, `${pane}: probes around the stroke`).toBeGreaterThanOrEqual(50);
      expect(seen.misses, `${pane}: the stroke on screen`).toEqual([]);
    }
  });

  it('a stroke in the coronal pane joins the same undo history: two undos take back the coronal stroke, then the sagittal one', async () => {
    const stroke: Stroke = { from: [planeOf.x + 20, planeOf.y, planeOf.z - 45], to: [planeOf.x + 60, planeOf.y, planeOf.z - 45] };
    await dragStroke('coronal', stroke);
    await waitForSeg(page, (s) => (s.message?.text ?? '').includes('coronal'), 'the coronal stroke in the document');
    const afterCoronal = await labelmapNow();
    const judged = judgeStroke(afterCoronal, stroke, BONE);
    expect(judged.missed, 'the coronal stroke painted its ball').toEqual([]);
    expect(judged.inside).toBeGreaterThan(1000);
    await expectStrokeCommitted('the coronal stroke');
    // The sagittal stroke's voxels are all still there.
    let lost = 0;
    for (let i = 0; i < afterSagittal.length; i++) if (afterSagittal[i] === BONE && afterCoronal[i] !== BONE) lost++;
    expect(lost).toBe(0);

    await page.keyboard.press('Control+z');
    await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(afterSagittal)), { timeout: 10_000 }).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(beforePaint)), { timeout: 10_000 }).toBe(0);
    await page.keyboard.press('Control+y');
    await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(afterSagittal)), { timeout: 10_000 }).toBe(0);
    // What the panes show follows the undo: the coronal stroke is gone from the coronal pane.
    // Crosshairs again, so the brush's cursor (left where the stroke ended) is not drawn.
    await page.getByTestId('tool-crosshairs').click();
    await page.mouse.move(5, 5);
    await page.waitForTimeout(1500);
    await waitForQuietPanes(page, 700);
    const shot = await pageShot('segment-planes-undone-coronal');
    const seen = await strokeOnScreen(shot, 'coronal', stroke, false);
    expect(seen.inside, 'coronal-stroke probes').toBeGreaterThanOrEqual(20);
    expect(seen.misses, 'the coronal pane after the undo of its stroke').toEqual([]);
  });

  it('shows the segment in the 3D pane as a surface: pixels change where the stroke projects, and nowhere else', async () => {
    // Inside the body a surface is hidden by the CT's own rendering: the Segments preset shows the surfaces alone.
    await page.getByTestId('vr-preset-Segments').click();
    await waitForVolume(page, (s) => s.volumePreset === 'Segments', 'the Segments preset');
    await page.mouse.move(5, 5);
    const withState = await waitForSeg(page, (s) => s.surfaces?.segments === 1 && !s.surfaces.pending, 'the stroke’s surface in the 3D pane', 60_000);
    expect(withState.surfaces!.triangles).toBeGreaterThan(100);
    await waitForQuietPanes(page, 1000);
    const withSurface = await pageShot('segment-3d-with-surface');
    const builds = withState.surfaces!.builds;
    await page.keyboard.press('Control+z');
    await waitForSeg(page, (s) => s.surfaces?.segments === 0 && !s.surfaces.pending && s.surfaces.builds > builds, 'the surface to go with the undo', 60_000);
    await waitForQuietPanes(page, 1000);
    const without = await pageShot('segment-3d-without-surface');
    await waitForQuietPanes(page, 300);
    const withoutAgain = await pageShot('segment-3d-without-surface-again');

    // Where the stroke's capsule (the segment's bounding box) lands on the 3D pane.
    const stroke: Stroke = { from: [planeOf.x, planeOf.y - 30, planeOf.z + 6], to: [planeOf.x, planeOf.y + 30, planeOf.z + 6] };
    const corners: Vec3[] = [];
    for (const dx of [-BRUSH_MM, BRUSH_MM]) for (const y of [stroke.from[1] - BRUSH_MM, stroke.to[1] + BRUSH_MM]) for (const dz of [-BRUSH_MM, BRUSH_MM]) corners.push([planeOf.x + dx, y, planeOf.z + 6 + dz]);
    const projected = await Promise.all(corners.map((corner) => worldToPage('volume3d', corner)));
    if (projected.some((p) => p === null)) throw new Error('the 3D pane is not shown');
    const xs = projected.map((p) => p!.x);
    const ys = projected.map((p) => p!.y);
    const rect = { x0: Math.min(...xs) - 3, x1: Math.max(...xs) + 3, y0: Math.min(...ys) - 3, y1: Math.max(...ys) + 3 };
    const pane = await page.getByTestId('pane-volume3d').boundingBox();
    if (!pane) throw new Error('the 3D pane has no box');
    const changed = (a: DecodedImage, b: DecodedImage) => {
      const counts = { inside: 0, insideTotal: 0, outside: 0, outsideTotal: 0 };
      // Corners of the pane hold its text overlays: keep 40 px clear at the top and bottom.
      for (let y = Math.ceil(pane.y + 40); y < pane.y + pane.height - 40; y++) {
        for (let x = Math.ceil(pane.x + 4); x < pane.x + pane.width - 4; x++) {
          const [r1, g1, b1] = rgbAt(a, x, y);
          const [r2, g2, b2] = rgbAt(b, x, y);
          const differs = Math.max(Math.abs(r1 - r2), Math.abs(g1 - g2), Math.abs(b1 - b2)) > 40;
          const inside = x >= rect.x0 && x <= rect.x1 && y >= rect.y0 && y <= rect.y1;
          if (inside) {
            counts.insideTotal++;
            if (differs) counts.inside++;
          } else {
            counts.outsideTotal++;
            if (differs) counts.outside++;
          }
        }
      }
      return counts;
    };
    const noise = changed(without, withoutAgain);
    const surface = changed(withSurface, without);
    console.log(`3D pane: ${surface.inside} of ${surface.insideTotal} pixels changed where the stroke projects, ${surface.outside} of ${surface.outsideTotal} elsewhere; between two frames without it ${noise.inside + noise.outside}`);
    expect(noise.inside + noise.outside, 'two frames of the same 3D view differ').toBeLessThan(20);
    expect(surface.inside, 'pixels the surface changed where the stroke projects').toBeGreaterThan(0.15 * surface.insideTotal);
    expect(surface.outside, 'pixels changed outside the stroke’s projection').toBeLessThan(Math.max(20, 0.002 * surface.outsideTotal));
  });

  it('erases with the brush in the sagittal pane: the eraser’s ball goes, the rest of the stroke stays, and one undo brings it back', async () => {
    await page.keyboard.press('Control+y');
    await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(afterSagittal)), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('tool-seg-erase').click();
    await waitForVolume(page, (s) => s.primaryTool === 'seg-erase', 'the erase tool in the planes');
    // Across the middle of the painted capsule, up and down the sagittal plane.
    const eraser: Stroke = { from: [planeOf.x, planeOf.y, planeOf.z + 6 - 8], to: [planeOf.x, planeOf.y, planeOf.z + 6 + 8] };
    await dragStroke('sagittal', eraser);
    await waitForSeg(page, (s) => (s.message?.text ?? '').startsWith('Erase in the sagittal pane'), 'the erase in the document');
    const erased = await labelmapNow();
    const g = detail.series.geometry!;
    const [columns, rows] = [g.columns, g.rows];
    let kept = 0;
    const wrong: string[] = [];
    for (let i = 0; i < erased.length; i++) {
      if (afterSagittal[i] !== BONE) {
        if (erased[i] !== afterSagittal[i] && wrong.length < 10) wrong.push(`voxel ${i} changed outside the segment`);
        continue;
      }
      const voxel: Voxel = [i % columns, Math.floor(i / columns) % rows, Math.floor(i / (columns * rows))];
      const distance = distanceToStroke(voxelToWorld(voxel), eraser);
      if (distance <= BRUSH_MM - EDGE_MM && erased[i] !== 0 && wrong.length < 10) wrong.push(`${voxel.join(',')} at ${distance.toFixed(1)} mm from the eraser is still painted`);
      if (distance > BRUSH_MM + EDGE_MM) {
        if (erased[i] === BONE) kept++;
        else if (wrong.length < 10) wrong.push(`${voxel.join(',')} at ${distance.toFixed(1)} mm from the eraser was erased`);
      }
    }
    expect(wrong).toEqual([]);
    expect(kept, 'painted voxels well away from the eraser').toBeGreaterThan(1000);
    await expectStrokeCommitted('the erase');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(afterSagittal)), { timeout: 10_000 }).toBe(0);
    await page.getByTestId('tool-crosshairs').click();
  });
});

// Threshold paint and scissors in the planes (the toolbar's Threshold paint, T, and
// Scissors, U). Threshold paint sets, of the voxels under the brush, exactly those whose
// value lies in the range, judged against the HU pydicom reads from the slice files (not
// against the app's numbers); the circle scissors fill a disc on the one sagittal slice
// they are drawn on. Each is one undo step of the same history as the paint strokes above.
const THRESHOLD_HU = { low: -50, high: 300 };
const THRESHOLD_BRUSH_MM = 12;
const SCISSORS_MM = 18;
/** Where the threshold stroke runs: this far below the axial plane, in the coronal one. */
const THRESHOLD_BELOW_MM = 45;
let beforeThreshold: Uint8Array;
let afterThreshold: Uint8Array;

const huOfSlice = new Map<number, Float64Array>();
/** One slice's HU (columns × rows, x fastest), decoded by pydicom from the slice's own file. */
function sliceHu(slice: number): Float64Array {
  const cached = huOfSlice.get(slice);
  if (cached) return cached;
  const ref = detail.slices[slice];
  const file = ref ? workstation.host.resolveFile(ref.fileKey) : undefined;
  if (!file) throw new Error(`slice ${slice} has no file`);
  const image = referenceImage(file, 'pydicom');
  const slope = image.rescaleSlope ?? 1;
  const intercept = image.rescaleIntercept ?? 0;
  const rows = image.pixels[0] as number[][];
  const hu = new Float64Array(image.rows * image.columns);
  for (let r = 0; r < image.rows; r++) for (let c = 0; c < image.columns; c++) hu[r * image.columns + c] = (rows[r]?.[c] ?? 0) * slope + intercept;
  huOfSlice.set(slice, hu);
  return hu;
}

/** Sets one of the editor's fields as typing would; the panel is put away in 2×2, its settings still count. */
async function setField(testId: string, value: string, event: 'input' | 'change'): Promise<void> {
  await page.getByTestId(testId).evaluate(
    (field, [v, e]) => {
      (field as unknown as { value: string }).value = v!;
      field.dispatchEvent(new Event(e!, { bubbles: true }));
    },
    [value, event],
  );
}

async function expectLabelmap(expected: Uint8Array, what: string): Promise<void> {
  await expect.poll(async () => Buffer.compare(Buffer.from(await labelmapNow()), Buffer.from(expected)), { timeout: 10_000, message: what }).toBe(0);
}

describe('threshold paint and scissors in the planes', () => {
  it('threshold paint in the coronal pane sets exactly the voxels under the brush whose HU (read by pydicom) lies in the range, on that one coronal slice', async () => {
    // The brush's own keys: '-' three times takes the one brush radius from 15 to 12 mm.
    await page.mouse.move(5, 5);
    for (let i = 0; i < BRUSH_MM - THRESHOLD_BRUSH_MM; i++) await page.keyboard.press('-');
    await expect.poll(() => page.getByTestId('segment-brush-radius-value').textContent()).toBe(`${THRESHOLD_BRUSH_MM} mm`);
    expect((await segState(page)).message?.text).toBe(`Brush radius ${THRESHOLD_BRUSH_MM} mm.`);
    await setField('segment-brush-shape', '2d', 'change');
    await setField('segment-threshold-low', String(THRESHOLD_HU.low), 'input');
    await setField('segment-threshold-high', String(THRESHOLD_HU.high), 'input');

    // Across the body's edge on the coronal plane's row: muscle, fat and air under one brush.
    const g = detail.series.geometry!;
    const [columns, rows, slices] = [g.columns, g.rows, detail.slices.length];
    const z = planeOf.z - THRESHOLD_BELOW_MM;
    const [centreColumn, row, centreSlice] = worldToVoxel([planeOf.x, planeOf.y, z]);
    const centreHu = sliceHu(centreSlice);
    let edge = -1;
    for (let c = centreColumn; c < columns - 3 && edge < 0; c++) if ([0, 1, 2].every((d) => centreHu[row * columns + c + d]! < -500)) edge = c;
    if (edge < 0) throw new Error(`no edge of the body on row ${row} of slice ${centreSlice}`);
    const edgeX = voxelToWorld([edge, row, centreSlice])[0];
    const outwards = Math.sign(geometry.rowDir[0]) || 1;
    const stroke: Stroke = { from: [edgeX - outwards * 35, planeOf.y, z], to: [edgeX + outwards * 8, planeOf.y, z] };
    const box = await page.getByTestId('pane-coronal').boundingBox();
    const reach = await worldToPage('coronal', [stroke.to[0] + outwards * THRESHOLD_BRUSH_MM, planeOf.y, z]);
    if (!box || !reach || reach.x < box.x || reach.x > box.x + box.width) throw new Error('the brush at the stroke’s end would leave the coronal pane');

    beforeThreshold = await labelmapNow();
    expect(Buffer.compare(Buffer.from(beforeThreshold), Buffer.from(afterSagittal)), 'the labelmap holds the sagittal paint stroke alone').toBe(0);
    await page.getByTestId('tool-seg-threshold').click();
    await waitForVolume(page, (s) => s.primaryTool === 'seg-threshold', 'the threshold paint tool in the planes');
    await dragStroke('coronal', stroke);
    await waitForSeg(page, (s) => (s.message?.text ?? '').startsWith('Threshold paint in the coronal pane'), 'the threshold stroke in the document');
    afterThreshold = await labelmapNow();
    const report = await expectStrokeCommitted('the threshold stroke');
    expect(report.label).toBe('Threshold paint (coronal)');

    // Every changed voxel lies on the coronal slice the stroke was drawn on.
    const changedRows = new Set<number>();
    for (let i = 0; i < afterThreshold.length; i++) if (afterThreshold[i] !== beforeThreshold[i]) changedRows.add(Math.floor(i / columns) % rows);
    expect([...changedRows], 'rows (coronal slices) the threshold stroke changed').toEqual([row]);
    const result = { insideInRange: 0, insideOutOfRange: 0, wrong: [] as string[] };
    const sliceReach = Math.ceil((THRESHOLD_BRUSH_MM + EDGE_MM) / g.sliceSpacing!) + 1;
    for (let s = Math.max(0, centreSlice - sliceReach); s <= Math.min(slices - 1, centreSlice + sliceReach); s++) {
      const hu = sliceHu(s);
      for (let c = 0; c < columns; c++) {
        const i = (s * rows + row) * columns + c;
        const distance = distanceToStroke(voxelToWorld([c, row, s]), stroke);
        const value = hu[row * columns + c]!;
        const inRange = value >= THRESHOLD_HU.low && value <= THRESHOLD_HU.high;
        const [was, now] = [beforeThreshold[i]!, afterThreshold[i]!];
        const note = (why: string) => result.wrong.length < 10 && result.wrong.push(`${c},${row},${s} (${value} HU, ${distance.toFixed(1)} mm from the stroke) ${why}`);
        if (distance <= THRESHOLD_BRUSH_MM - EDGE_MM) {
          if (inRange) {
            result.insideInRange++;
            if (now !== BONE) note(`holds ${now}, not the segment`);
          } else {
            result.insideOutOfRange++;
            if (now !== was) note(`changed from ${was} to ${now} out of the range`);
          }
        } else if (distance > THRESHOLD_BRUSH_MM + EDGE_MM || !inRange) {
          if (now !== was) note(`changed from ${was} to ${now} ${inRange ? 'outside the brush' : 'out of the range'}`);
        }
      }
    }
    console.log(
      `threshold stroke: ${result.insideInRange} voxels in range and ${result.insideOutOfRange} out of range well inside the brush; ` +
        `the commit compared ${report.compared} voxels on slices ${report.firstSlice}–${report.lastSlice} and changed ${report.changed}`,
    );
    expect(result.wrong, 'voxels the threshold stroke set, or left, against the brush and the range').toEqual([]);
    expect(result.insideInRange, 'voxels in range well inside the brush').toBeGreaterThan(50);
    expect(result.insideOutOfRange, 'voxels out of range well inside the brush').toBeGreaterThan(50);

    // One undo step, in the history the paint strokes are in.
    await page.keyboard.press('Control+z');
    await expectLabelmap(beforeThreshold, 'the undo of the threshold stroke');
    await page.keyboard.press('Control+y');
    await expectLabelmap(afterThreshold, 'the redo of the threshold stroke');
    await expectImagesMatchDocument('after the threshold stroke’s undo and redo');
  });

  it('circle scissors in the sagittal pane fill the disc on that one sagittal slice, judged in the axial images’ columns, rows and slices; undo takes it back, then the threshold stroke, then the paint stroke', async () => {
    await setField('segment-scissors-operation', 'fill', 'change');
    await page.getByTestId('tool-seg-scissors').click();
    await waitForVolume(page, (s) => s.primaryTool === 'seg-scissors', 'the scissors in the planes');
    // Below the painted capsule, clear of the crosshair lines: the press is the disc's centre, the release its edge.
    const centre: Vec3 = [planeOf.x, planeOf.y + 15, planeOf.z - 40];
    const rim: Vec3 = [planeOf.x, planeOf.y + 15, planeOf.z - 40 + SCISSORS_MM];
    await dragStroke('sagittal', { from: centre, to: rim });
    await waitForSeg(page, (s) => (s.message?.text ?? '').startsWith('Scissors in the sagittal pane'), 'the scissors in the document');
    const afterScissors = await labelmapNow();
    const report = await expectStrokeCommitted('the scissors');
    expect(report.label).toBe('Scissors (sagittal)');

    const g = detail.series.geometry!;
    const [columns, rows] = [g.columns, g.rows];
    const [column] = worldToVoxel(centre);
    const wrong: string[] = [];
    let inside = 0;
    let filled = 0;
    for (let i = 0; i < afterScissors.length; i++) {
      const voxel: Voxel = [i % columns, Math.floor(i / columns) % rows, Math.floor(i / (columns * rows))];
      const [was, now] = [afterThreshold[i]!, afterScissors[i]!];
      if (voxel[0] !== column) {
        if (now !== was && wrong.length < 10) wrong.push(`${voxel.join(',')} changed off the sagittal slice (column ${column})`);
        continue;
      }
      const distance = Math.hypot(...sub(voxelToWorld(voxel), centre));
      if (now !== was) filled++;
      if (distance <= SCISSORS_MM - EDGE_MM) {
        inside++;
        if (now !== BONE && wrong.length < 10) wrong.push(`${voxel.join(',')} at ${distance.toFixed(1)} mm from the centre holds ${now}`);
      } else if (distance > SCISSORS_MM + EDGE_MM && now !== was && wrong.length < 10) {
        wrong.push(`${voxel.join(',')} at ${distance.toFixed(1)} mm from the centre changed`);
      }
    }
    console.log(`scissors: ${inside} voxels well inside the disc; the commit compared ${report.compared} voxels on slices ${report.firstSlice}–${report.lastSlice} and changed ${report.changed}`);
    expect(wrong, 'the disc on the sagittal slice, and nothing else').toEqual([]);
    expect(inside, 'voxels well inside the disc').toBeGreaterThan(150);
    expect(filled).toBe(report.changed);

    // Each edit one step of one history: the scissors, the threshold stroke, the sagittal paint stroke.
    await page.keyboard.press('Control+z');
    await expectLabelmap(afterThreshold, 'the undo of the scissors');
    await page.keyboard.press('Control+z');
    await expectLabelmap(beforeThreshold, 'the undo of the threshold stroke');
    await page.keyboard.press('Control+z');
    await expectLabelmap(beforePaint, 'the undo of the sagittal paint stroke');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+y');
    await expectLabelmap(afterScissors, 'the three redos');
    await expectImagesMatchDocument('after the undos and redos');
    await page.getByTestId('tool-crosshairs').click();
  });
});
