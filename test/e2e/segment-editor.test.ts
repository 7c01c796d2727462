// The segment editor on the sample CT, driven with the mouse and keyboard: a coded
// segment, a painted stroke, an erase, islands, undo/redo, a threshold compared with
// the HU computed here from the sample's own DICOM files, autosave and restore, and a
// SEG export. The labelmap is read exactly through window.__mrTest.segmentation; the
// expected voxels come from the stroke geometry and from the files, never from the app.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { LABEL } from '../../electron/host/sample/label-table.ts';
import type { MrTestGlobal, SegmentationTestState } from '../../renderer/src/test-hook-types.ts';
import { openApp, openSampleApp, openSeriesFromBrowser, screenshotPage, screenshotViewport, viewportState, waitForQuietViewport, waitForRenderedSlice, type AppPage, type SampleApp, type Screenshot, type Workstation } from './harness.ts';
import { segState, waitForSeg } from './segment-state.ts';

const BRUSH_MM = 4;
const BONE_HU = { low: 150, high: 3000 };

let sample: SampleApp;
let browser: Browser;
let workstation: Workstation;
let app: AppPage;
let page: Page;
let truth: GroundTruth;
let detail: SeriesDetail;
/** Viewer slice index → ground-truth slice k. */
let truthSliceOf: Map<number, number>;
/** Viewer slice index → modality values (HU) of that slice, decoded here with dicom-parser. */
let huOfSlice: Map<number, Float32Array>;
let slice: number;
let pixelMm: number;
let stroke: { from: [number, number]; to: [number, number] };
let afterErase: number;

beforeAll(async () => {
  sample = await openSampleApp();
  ({ browser, workstation, app, page } = sample);
  detail = sample.detail;
  truth = await readGroundTruth(path.join(workstation.dataDir, 'sample'));
  huOfSlice = await readSampleHu(detail);
  truthSliceOf = mapTruthSlices(truth, detail);
  pixelMm = detail.series.geometry?.pixelSpacing?.[1] ?? NaN;
});

afterAll(async () => {
  await sample?.close();
});

/** Every slice file of the sample, decoded independently of the app: HU = stored × slope + intercept. */
async function readSampleHu(series: SeriesDetail): Promise<Map<number, Float32Array>> {
  const dir = path.join(workstation.dataDir, 'sample', 'dicom');
  const indexOfUid = new Map(series.slices.map((s, i) => [s.sopInstanceUid, i]));
  const out = new Map<number, Float32Array>();
  for (const name of await readdir(dir)) {
    const bytes = new Uint8Array(await readFile(path.join(dir, name)));
    const data = dicomParser.parseDicom(bytes);
    const index = indexOfUid.get(data.string('x00080018') ?? '');
    if (index === undefined) continue;
    const element = data.elements['x7fe00010'];
    if (!element) throw new Error(`${name} has no pixel data`);
    const signed = data.uint16('x00280103') === 1;
    const slope = data.floatString('x00281053') ?? 1;
    const intercept = data.floatString('x00281052') ?? 0;
    const count = element.length / 2;
    const view = new DataView(bytes.buffer, bytes.byteOffset + element.dataOffset, element.length);
    const hu = new Float32Array(count);
    for (let i = 0; i < count; i++) hu[i] = (signed ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true)) * slope + intercept;
    out.set(index, hu);
  }
  if (out.size !== series.slices.length) throw new Error(`decoded ${out.size} of ${series.slices.length} sample slices`);
  return out;
}

/** Viewer slice → ground-truth slice, by position along the normal (the pixel grids coincide, see sample-viewer.test.ts). */
function mapTruthSlices(gt: GroundTruth, series: SeriesDetail): Map<number, number> {
  const normal = gt.info.geometry.directions[2];
  const map = new Map<number, number>();
  series.slices.forEach((s, index) => {
    if (!s.position) return;
    const along = s.position.reduce((sum, value, axis) => sum + (value - (gt.origin[axis] ?? 0)) * (normal[axis] ?? 0), 0);
    map.set(index, Math.round(along / gt.spacing[2]));
  });
  return map;
}

function labelAt(k: number, column: number, row: number): number {
  const [columns, rows] = truth.sizes;
  return truth.labels[(k * rows + row) * columns + column] ?? 0;
}

function sliceCounts(index: number): Promise<Record<number, number>> {
  return page.evaluate((s) => (globalThis as MrTestGlobal).__mrTest!.segmentation!.sliceCounts(s), index);
}

function voxelsOnSlice(segment: number, index: number): Promise<Array<[number, number]>> {
  return page.evaluate(([seg, s]) => (globalThis as MrTestGlobal).__mrTest!.segmentation!.segmentVoxelsOnSlice(seg as number, s as number), [segment, index]);
}

function pagePoint(column: number, row: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([c, r]) => {
    const point = (globalThis as MrTestGlobal).__mrTest?.imagePointToPage(c as number, r as number);
    if (!point) throw new Error('no page position for the image point');
    return point;
  }, [column, row]);
}

function voxels(state: SegmentationTestState, segment: number): number {
  return state.segments.find((s) => s.number === segment)?.voxels ?? -1;
}

/** Distance (pixels) from a point to the segment a–b. */
function distanceToSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

async function drag(points: Array<[number, number]>): Promise<void> {
  const first = await pagePoint(...points[0]!);
  await page.mouse.move(first.x, first.y);
  await page.mouse.down();
  for (const point of points.slice(1)) {
    const p = await pagePoint(...point);
    await page.mouse.move(p.x, p.y, { steps: 12 });
  }
  await page.mouse.up();
}

/** Green minus red at the stroke's middle in a viewport screenshot: the segment's colour tints grey. */
async function strokeTint(shot: Screenshot): Promise<number> {
  const mid = await pagePoint((stroke.from[0] + stroke.to[0]) / 2, stroke.from[1]);
  const x = Math.round(mid.x - shot.origin.x);
  const y = Math.round(mid.y - shot.origin.y);
  const i = (y * shot.image.width + x) * 4;
  return (shot.image.rgba[i + 1] ?? 0) - (shot.image.rgba[i] ?? 0);
}

async function goToSlice(index: number): Promise<void> {
  const viewport = page.getByTestId('viewport');
  await viewport.focus();
  const current = (await viewportState(page)).imageIndex;
  const key = index > current ? 'ArrowDown' : 'ArrowUp';
  for (let i = 0; i < Math.abs(index - current); i++) await page.keyboard.press(key);
  await waitForRenderedSlice(page, (state) => state.imageIndex === index, `slice ${index + 1}`);
  await waitForQuietViewport(page);
}

describe('segment editor', () => {
  it('adds a segment with a coded term from the pick list', async () => {
    await waitForSeg(page, (s) => s.seriesKey === detail.series.seriesKey, 'the editor to open the sample');
    await page.getByTestId('segment-term-search').fill('liver');
    await page.getByTestId('segment-term-liver').click();
    const state = await waitForSeg(page, (s) => s.segments.length === 1, 'the new segment');
    // Cornerstone3D's segmentation rendering draws the labelmap once its images are set up.
    await waitForSeg(page, (s) => s.labelmapRenderer === 'cornerstone', "Cornerstone's labelmap display", 60_000);
    expect(state.segments[0]).toMatchObject({ number: 1, label: 'Liver', typeCode: '10200004', source: 'manual', voxels: 0 });
    expect(state.activeSegment).toBe(1);
    expect(await page.getByTestId('segment-provenance-source').innerText()).toContain('Manual');
    expect(await page.getByTestId('segment-provenance-code').innerText()).toContain('SCT 10200004');
  });

  it('paints a stroke with the mouse: voxels on that slice only, under the stroke', async () => {
    // The slice near the middle with the widest liver, and its longest liver run along a row.
    const middle = (await viewportState(page)).imageIndex;
    let best = { index: middle, row: 0, start: 0, length: 0 };
    for (let index = Math.max(0, middle - 15); index <= Math.min(detail.slices.length - 1, middle + 15); index++) {
      const k = truthSliceOf.get(index)!;
      for (let row = 0; row < truth.sizes[1]; row++) {
        let run = 0;
        for (let column = 0; column < truth.sizes[0]; column++) {
          run = labelAt(k, column, row) === LABEL.liver ? run + 1 : 0;
          if (run > best.length) best = { index, row, start: column - run + 1, length: run };
        }
      }
    }
    expect(best.length).toBeGreaterThan(40);
    slice = best.index;
    await goToSlice(slice);
    const length = Math.min(40, best.length - 12);
    stroke = { from: [best.start + 6, best.row], to: [best.start + 6 + length, best.row] };

    await page.getByTestId('segment-tool-paint').click();
    await page.getByTestId('segment-brush-radius').evaluate((input, mm) => {
      (input as unknown as { value: string }).value = String(mm);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, BRUSH_MM);
    expect(await page.getByTestId('segment-brush-radius-value').innerText()).toBe(`${BRUSH_MM} mm`);
    const before = await screenshotViewport(page, 'segment-editor-before-paint');
    const voiBefore = await viewportState(page);
    await drag([stroke.from, stroke.to]);
    const state = await waitForSeg(page, (s) => voxels(s, 1) > 0, 'the stroke to reach the labelmap');
    // The left drag painted: window/level (the left button's usual tool) did not move.
    const voiAfter = await viewportState(page);
    expect([voiAfter.windowCenter, voiAfter.windowWidth]).toEqual([voiBefore.windowCenter, voiBefore.windowWidth]);

    const onSlice = await sliceCounts(slice);
    expect(onSlice[1]).toBe(voxels(state, 1));
    const painted = await voxelsOnSlice(1, slice);
    const radiusPx = BRUSH_MM / pixelMm;
    for (const voxel of painted) expect(distanceToSegment(voxel, stroke.from, stroke.to)).toBeLessThanOrEqual(radiusPx + 1);
    const paintedSet = new Set(painted.map(([c, r]) => `${c},${r}`));
    for (let column = stroke.from[0]; column <= stroke.to[0]; column++) {
      for (const dr of [-1, 0, 1]) expect(paintedSet.has(`${column},${stroke.from[1] + dr}`)).toBe(true);
    }
    // At least the stroke's capsule shrunk by a pixel for the mouse's rounding.
    expect(painted.length).toBeGreaterThan((length - 2) * 2 * (radiusPx - 1));

    await page.waitForTimeout(300);
    const after = await screenshotViewport(page, 'segment-editor-painted');
    // On screen: the stroke's middle turned the segment's colour (green-tinted over grey).
    expect(Math.abs(await strokeTint(before))).toBeLessThan(4);
    expect(await strokeTint(after)).toBeGreaterThan(10);
  });

  it('hiding the segment hides its voxels on screen, showing it brings them back', async () => {
    await page.getByTestId('segment-visible-1').click();
    await waitForSeg(page, (s) => s.segments[0]?.visible === false, 'the segment to be hidden');
    await page.waitForTimeout(300);
    expect(Math.abs(await strokeTint(await screenshotViewport(page, 'segment-editor-hidden')))).toBeLessThan(4);
    await page.getByTestId('segment-visible-1').click();
    await waitForSeg(page, (s) => s.segments[0]?.visible === true, 'the segment to be shown');
    await page.waitForTimeout(300);
    expect(await strokeTint(await screenshotViewport(page, 'segment-editor-shown'))).toBeGreaterThan(10);
  });

  it('erases the end of the stroke', async () => {
    const before = voxels(await segState(page), 1);
    await page.getByTestId('segment-tool-erase').click();
    expect((await segState(page)).tool).toBe('erase');
    await drag([stroke.to]);
    const state = await waitForSeg(page, (s) => voxels(s, 1) < before, 'the erase');
    afterErase = voxels(state, 1);
    const remaining = await voxelsOnSlice(1, slice);
    const radiusPx = BRUSH_MM / pixelMm;
    for (const voxel of remaining) expect(Math.hypot(voxel[0] - stroke.to[0], voxel[1] - stroke.to[1])).toBeGreaterThan(radiusPx - 1);
    // What lay well away from the eraser is still there.
    const remainingSet = new Set(remaining.map(([c, r]) => `${c},${r}`));
    for (let column = stroke.from[0]; column <= stroke.to[0] - Math.ceil(radiusPx) - 1; column++) expect(remainingSet.has(`${column},${stroke.from[1]}`)).toBe(true);
  });

  it('islands keep-largest removes a separate blob; undo and redo move between the two', async () => {
    await page.getByTestId('segment-tool-paint').click();
    const blob: [number, number] = [Math.round((stroke.from[0] + stroke.to[0]) / 2), stroke.from[1] - 18];
    await drag([blob]);
    const withBlob = voxels(await waitForSeg(page, (s) => voxels(s, 1) > afterErase, 'the blob'), 1);
    const blobVoxels = (await voxelsOnSlice(1, slice)).filter((v) => Math.hypot(v[0] - blob[0], v[1] - blob[1]) <= BRUSH_MM / pixelMm + 1);
    expect(blobVoxels.length).toBe(withBlob - afterErase);
    await page.getByTestId('segment-tool-paint').click(); // tool off
    expect((await segState(page)).tool).toBe('none');

    await page.getByTestId('segment-effect').selectOption('islands');
    await page.getByTestId('segment-islands-mode').selectOption('keep-largest');
    await page.getByTestId('segment-effect-apply').click();
    let state = await waitForSeg(page, (s) => voxels(s, 1) === afterErase, 'islands to remove the blob');
    const kept = await voxelsOnSlice(1, slice);
    for (const voxel of kept) expect(Math.hypot(voxel[0] - blob[0], voxel[1] - blob[1])).toBeGreaterThan(BRUSH_MM / pixelMm + 1);
    expect(state.canUndo).toBe(true);
    await screenshotViewport(page, 'segment-editor-islands');

    await page.getByTestId('segment-undo').click();
    state = await waitForSeg(page, (s) => voxels(s, 1) === withBlob, 'undo to bring the blob back');
    expect(state.canRedo).toBe(true);
    await page.getByTestId('viewport').focus();
    await page.keyboard.press('Control+y');
    state = await waitForSeg(page, (s) => voxels(s, 1) === afterErase, 'redo (Ctrl+Y) to remove it again');
    await page.keyboard.press('Control+z');
    await waitForSeg(page, (s) => voxels(s, 1) === withBlob, 'Ctrl+Z to undo');
    await page.keyboard.press('Control+Shift+z');
    await waitForSeg(page, (s) => voxels(s, 1) === afterErase, 'Ctrl+Shift+Z to redo');
  });

  it('scissors erase what lies inside an outline drawn on the slice; undo brings it back', async () => {
    await page.getByTestId('segment-tool-scissors').click();
    await page.getByTestId('segment-scissors-operation').selectOption('erase');
    await page.getByTestId('segment-scissors-region').selectOption('inside');
    await page.getByTestId('segment-scissors-extent').selectOption('slice');
    const cut = Math.round((stroke.from[0] + stroke.to[0]) / 2);
    const [left, top, bottom] = [stroke.from[0] - 8, stroke.from[1] - 8, stroke.from[1] + 8];
    await drag([[left, top], [cut, top], [cut, bottom], [left, bottom], [left, top]]);
    const state = await waitForSeg(page, (s) => voxels(s, 1) < afterErase, 'the scissors cut');
    const remaining = await voxelsOnSlice(1, slice);
    expect(remaining.length).toBe(voxels(state, 1));
    for (const [column] of remaining) expect(column).toBeGreaterThanOrEqual(cut - 1);
    const right = new Set(remaining.map(([c, r]) => `${c},${r}`));
    for (let column = cut + 2; column <= stroke.to[0] - Math.ceil(BRUSH_MM / pixelMm) - 1; column++) expect(right.has(`${column},${stroke.from[1]}`)).toBe(true);
    await screenshotViewport(page, 'segment-editor-scissors');
    await page.getByTestId('segment-tool-scissors').click(); // tool off
    await page.getByTestId('segment-undo').click();
    await waitForSeg(page, (s) => voxels(s, 1) === afterErase, 'undo of the cut');
  });

  it('thresholds bone into a new segment: exactly the voxels whose HU lies in range, slice by slice', async () => {
    await page.getByTestId('segment-term-search').fill('bone');
    await page.getByTestId('segment-term-bone').click();
    await waitForSeg(page, (s) => s.segments.length === 2 && s.activeSegment === 2, 'the bone segment');
    await page.getByTestId('segment-lock-1').click();
    await waitForSeg(page, (s) => s.segments[0]?.locked === true, 'the liver to be locked');

    await page.getByTestId('segment-effect').selectOption('threshold');
    await page.getByTestId('segment-threshold-low').fill(String(BONE_HU.low));
    await page.getByTestId('segment-threshold-high').fill(String(BONE_HU.high));
    await page.getByTestId('segment-threshold-preview').check();
    await waitForSeg(page, (s) => !s.busy && (s.message?.text ?? '').includes('preview'), 'the threshold preview', 120_000);
    await page.waitForTimeout(300);
    await screenshotViewport(page, 'segment-editor-threshold-preview');
    await page.getByTestId('segment-effect-apply').click();
    const state = await waitForSeg(page, (s) => voxels(s, 2) > 0 && !s.busy, 'the threshold', 120_000);
    expect(voxels(state, 1)).toBe(afterErase); // locked: untouched

    const liverVoxels = await voxelsOnSlice(1, slice);
    const counts = await page.evaluate((n) => Array.from({ length: n }, (_, s) => (globalThis as MrTestGlobal).__mrTest!.segmentation!.sliceCounts(s)[2] ?? 0), detail.slices.length);
    const [columns, rows] = truth.sizes;
    let expectedTotal = 0;
    for (let index = 0; index < detail.slices.length; index++) {
      const hu = huOfSlice.get(index)!;
      const inRange = (i: number) => hu[i]! >= BONE_HU.low && hu[i]! <= BONE_HU.high;
      let expected = 0;
      for (let i = 0; i < columns * rows; i++) if (inRange(i)) expected++;
      if (index === slice) for (const [c, r] of liverVoxels) if (inRange(r * columns + c)) expected--;
      expect(counts[index], `bone voxels on slice ${index}`).toBe(expected);
      expectedTotal += expected;
    }
    expect(voxels(state, 2)).toBe(expectedTotal);
    // Against the ground truth: the range picks most of the spine, and next to nothing of
    // the soft organs (the rest is ribs and pelvis inside the body, and the table).
    const softOrgans = new Set<number>([LABEL.lung_left, LABEL.lung_right, LABEL.liver, LABEL.spleen, LABEL.kidney_left, LABEL.kidney_right, LABEL.aorta, LABEL.liver_lesion, LABEL.lung_nodule, LABEL.kidney_cyst]);
    let spineTotal = 0;
    let spineSelected = 0;
    let inSoftOrgans = 0;
    for (let index = 0; index < detail.slices.length; index++) {
      const hu = huOfSlice.get(index)!;
      const k = truthSliceOf.get(index)!;
      for (let i = 0; i < columns * rows; i++) {
        const label = labelAt(k, i % columns, Math.floor(i / columns));
        const selected = hu[i]! >= BONE_HU.low && hu[i]! <= BONE_HU.high;
        if (label === LABEL.spine) {
          spineTotal++;
          if (selected) spineSelected++;
        }
        if (selected && softOrgans.has(label)) inSoftOrgans++;
      }
    }
    expect(spineSelected / spineTotal).toBeGreaterThan(0.5);
    expect(inSoftOrgans / expectedTotal).toBeLessThan(0.01);
    await screenshotViewport(page, 'segment-editor-threshold');
    await page.getByTestId('segment-stats-intensities').click();
    await expect.poll(() => page.getByTestId('segment-stats-2').locator('td').nth(5).innerText()).not.toBe('–');
    const minHu = Number(await page.getByTestId('segment-stats-2').locator('td').nth(5).innerText());
    expect(minHu).toBeGreaterThanOrEqual(BONE_HU.low);
    await screenshotPage(page, 'segment-editor-panel');
  });

  it('autosaves the work, and a new window offers to restore it', async () => {
    const state = await segState(page);
    const sessionId = state.autosaveSessionId!;
    await expect.poll(async () => ((await workstation.call('seg.listAutosaves', {})) as { autosaves: Array<{ sessionId: string }> }).autosaves.map((a) => a.sessionId), { timeout: 20_000 }).toContain(sessionId);

    const second = await openApp(browser, workstation.server);
    try {
      const other = second.page;
      await openSeriesFromBrowser(other, detail.series.seriesKey);
      await other.getByTestId('segment-restore-banner').waitFor({ state: 'visible', timeout: 60_000 });
      await other.getByTestId('segment-restore').click();
      await other.waitForFunction(() => ((globalThis as MrTestGlobal).__mrTest?.segmentation?.state().segments.length ?? 0) === 2, undefined, { timeout: 30_000 });
      const restored = await other.evaluate(() => (globalThis as MrTestGlobal).__mrTest!.segmentation!.state());
      expect(restored.segments.map((s) => [s.label, s.voxels])).toEqual(state.segments.map((s) => [s.label, s.voxels]));
    } finally {
      await second.close();
    }
  });

  it('exports a DICOM-SEG that holds both segments, and a second export is a new version', async () => {
    await page.getByTestId('segment-export').click();
    await waitForSeg(page, (s) => s.lastExportPath !== null, 'the export', 120_000);
    const segPath = (await page.getByTestId('segment-export-result').getAttribute('data-path'))!;
    expect((await stat(segPath)).size).toBeGreaterThan(0);
    const info = (await workstation.call('seg.info', { path: segPath })) as { segments: Array<{ label: string; frames: number }>; referencedSeries: Array<{ seriesInstanceUid: string }> };
    expect(info.segments.map((s) => s.label)).toEqual(['Liver', 'Bone']);
    expect(info.segments[0]!.frames).toBe(1);
    expect(info.referencedSeries.map((s) => s.seriesInstanceUid)).toEqual([detail.series.seriesInstanceUid]);
    expect(await page.getByTestId('segment-export').innerText()).toBe('Save a new version');
    await page.getByTestId('segment-export').click();
    await expect.poll(async () => page.getByTestId('segment-export-result').getAttribute('data-path'), { timeout: 60_000 }).not.toBe(segPath);
    // The new version names the SEG it replaces, and the study's SEG list shows the chain.
    const secondPath = (await page.getByTestId('segment-export-result').getAttribute('data-path'))!;
    const firstInfo = (await workstation.call('seg.info', { path: segPath })) as { sopInstanceUid: string; seriesInstanceUid: string };
    const secondInfo = (await workstation.call('seg.info', { path: secondPath })) as { supersedes: Array<{ sopInstanceUid: string; seriesInstanceUid: string }> };
    expect(secondInfo.supersedes).toEqual([{ sopInstanceUid: firstInfo.sopInstanceUid, seriesInstanceUid: firstInfo.seriesInstanceUid }]);

    // No segment came from a model: the reasoning SR has nothing to report, so it is not offered.
    expect(await page.getByTestId('segment-export-sr').isDisabled()).toBe(true);
  });

  it('imports a SEG of the study back onto the series: the same segments, voxel for voxel', async () => {
    const before = await segState(page);
    const beforeSlice = await sliceCounts(slice);
    await page.getByTestId('segment-import-list').click();
    await expect.poll(() => page.getByTestId('segment-import-series').locator('option').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await page.getByTestId('segment-import').click();
    const state = await waitForSeg(page, (s) => (s.message?.text ?? '').startsWith('Imported'), 'the import', 60_000);
    expect(state.segments.map((s) => [s.label, s.typeCode, s.voxels])).toEqual(before.segments.map((s) => [s.label, s.typeCode, s.voxels]));
    expect(await sliceCounts(slice)).toEqual(beforeSlice);
    expect(state.canUndo).toBe(false);
    // The study's SEG list shows the version chain: the second export replaces the first.
    await page.getByTestId('segment-import-list').click();
    await expect.poll(async () => (await page.getByTestId('segment-import-series').locator('option').allInnerTexts()).some((t) => /\(replaces #\d+\)/.test(t)), { timeout: 30_000 }).toBe(true);
    await screenshotPage(page, 'segment-editor-imported');
    expect(app.problems).toEqual([]);
  });
});
