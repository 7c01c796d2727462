// The ask panel in Chromium on the sample CT. With the tiny models: a question streams
// its reasoning in, the parsed box and key points are drawn where the answer says (judged
// from screenshots at imagePointToPage positions), the mask is previewed, accepting makes
// a segment with its provenance, a negative click re-segments, and teaching mode scores
// the resident's box against the model's mask (checked against the host's own mask here).
// Without models: the panel says what is missing and box prompting with the default
// segmenter still gives a mask of the liver (checked against the sample's ground truth).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceStatus, SegmentResult } from '../../electron/common/contract-inference.ts';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { pngToMask } from '../../electron/host/inference/mask-png.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { LABEL } from '../../electron/host/sample/label-table.ts';
import { TINY_ASM_ID, TINY_CRM_ID } from '../../native-models/tiny/make-tiny-models.ts';
import { TINY_DEFAULT_ANSWER } from '../../native-models/tiny/tiny-crm.ts';
import type { MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
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
  type Screenshot,
  type Workstation,
} from './harness.ts';
import { askState, largestSliceOf, toPage, viewerSliceOf, waitForAsk } from './ask-state.ts';

type Rgb = [number, number, number];
type Box = [number, number, number, number];

/** The screenshot pixels within `radius` of a page point. */
function pixelsNear(shot: Screenshot, point: { x: number; y: number }, radius = 1): Rgb[] {
  const out: Rgb[] = [];
  const cx = Math.round(point.x - 0.5 - shot.origin.x);
  const cy = Math.round(point.y - 0.5 - shot.origin.y);
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      const x = cx + dx;
      const y = cy + dy;
      if (x < 0 || y < 0 || x >= shot.image.width || y >= shot.image.height) continue;
      const o = (y * shot.image.width + x) * 4;
      out.push([shot.image.rgba[o]!, shot.image.rgba[o + 1]!, shot.image.rgba[o + 2]!]);
    }
  }
  return out;
}

const isBoxYellow = ([r, g, b]: Rgb) => r > 200 && g > 170 && b < 90;
const isKeyPointMagenta = ([r, g, b]: Rgb) => r > 200 && g < 90 && b > 200;
const isNegativeRed = ([r, g, b]: Rgb) => r > 200 && g < 110 && b < 110;
/** CT on screen is grey (R = G = B): a tinted pixel is the mask overlay. */
const spread = ([r, g, b]: Rgb) => Math.max(r, g, b) - Math.min(r, g, b);

/** What the layer needs to redraw after a change: two animation frames. */
async function settle(page: Page): Promise<void> {
  await waitForQuietViewport(page);
  await page.evaluate(() => {
    const frame = (globalThis as unknown as { requestAnimationFrame(callback: () => void): number }).requestAnimationFrame;
    return new Promise<void>((resolve) => frame(() => frame(resolve)));
  });
}

async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();
}

function overlap(a: Uint8Array, b: Uint8Array): { dice: number; iou: number } {
  let both = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]) na++;
    if (b[i]) nb++;
    if (a[i] && b[i]) both++;
  }
  return { dice: (2 * both) / (na + nb), iou: both / (na + nb - both) };
}

function rectangleMask(width: number, height: number, [x0, y0, x1, y1]: Box): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) mask[y * width + x] = 1;
  return mask;
}

describe('ask panel with the tiny models', () => {
  let browser: Browser;
  let workstation: Workstation;
  let app: AppPage;
  let page: Page;
  let seriesKey: string;
  const question = 'Where is the liver?';
  // The tiny CRM answers in the 252×252 image Qwen2.5-VL's processor makes of a 256² slice.
  const scale = 256 / (Math.round(256 / 28) * 28);
  const expectedBox: Box = [40, 60, 120, 150].map((v) => Math.round(v * scale)) as Box;
  const expectedPoints = [
    [70 * scale, 100 * scale],
    [95 * scale, 120 * scale],
  ];

  beforeAll(async () => {
    browser = await launchChromium();
    workstation = await startWorkstation({ models: 'tiny' });
    app = await openApp(browser, workstation.server, { width: 1400, height: 860 });
    page = app.page;
    await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
    seriesKey = (await viewportState(page)).seriesKey!;
    await page.locator('[data-testid="ask-models"][data-crm="ready"][data-asm="ready"]').waitFor({ timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await browser?.close();
    await workstation?.close();
  });

  it('streams the reasoning, draws the parsed box and key points, previews the mask', async () => {
    const { imageIndex } = await viewportState(page);
    await page.getByTestId('ask-question').fill(question);
    await page.getByTestId('ask-submit').click();
    // Sample while it runs: the streamed text only grows.
    const lengths: number[] = [];
    const answered = await (async () => {
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        const state = await askState(page);
        lengths.push(state.streamedLength);
        if (state.phase !== 'running' && state.phase !== 'idle') return state;
        await page.waitForTimeout(20);
      }
      throw new Error('the question did not finish');
    })();
    expect(answered.phase, answered.error ?? '').toBe('answered');
    expect(lengths.every((n, i) => i === 0 || n >= lengths[i - 1]!)).toBe(true);
    // The tokens came as many events, and they add up to the whole reply.
    expect(answered.tokenEvents).toBeGreaterThan(10);
    expect(answered.streamedLength).toBe(TINY_DEFAULT_ANSWER.length);
    const reasoning = /<think>([\s\S]*)<\/think>/.exec(TINY_DEFAULT_ANSWER)![1]!.trim();
    await expect.poll(() => page.getByTestId('ask-reasoning').textContent()).toBe(reasoning);
    expect(await page.locator('[data-testid="ask-stages"] li[data-stage="crm"]').textContent()).toMatch(/Reasoning: \d+ ms/);

    expect(answered.sliceIndex).toBe(imageIndex);
    expect(answered.answerBox).toEqual(expectedBox);
    expect(answered.keyPoints![0]![0]).toBeCloseTo(expectedPoints[0]![0]!, 6);
    expect(answered.keyPoints![1]![1]).toBeCloseTo(expectedPoints[1]![1]!, 6);
    expect(answered.previewArea).toBeGreaterThan(0);
    expect(answered.modelPreviewArea).toBe(answered.previewArea);
    expect(answered.history).toHaveLength(1);
    expect(answered.history[0]).toMatchObject({ question });

    await settle(page);
    const shot = await screenshotViewport(page, 'ask-answer');
    await screenshotPage(page, 'ask-answer-page');
    const [x0, y0, x1, y1] = expectedBox;
    // The box's outline lies on the pixel edges: check the middle of each side.
    for (const [c, r] of [[(x0 + x1) / 2, y0 - 0.5], [(x0 + x1) / 2, y1 + 0.5], [x0 - 0.5, (y0 + y1) / 2], [x1 + 0.5, (y0 + y1) / 2]] as const) {
      expect(pixelsNear(shot, await toPage(page, c, r)).some(isBoxYellow), `box outline at (${c}, ${r})`).toBe(true);
    }
    for (const [c, r] of expectedPoints) {
      expect(pixelsNear(shot, await toPage(page, c!, r!), 0).every(isKeyPointMagenta), `key point at (${c}, ${r})`).toBe(true);
    }
    // Inside the box and away from the points the mask tints the grey image; outside it does not.
    const inside = pixelsNear(shot, await toPage(page, x0 + 6, y1 - 6), 0)[0]!;
    const outside = pixelsNear(shot, await toPage(page, x1 + 12, y1 + 12), 0)[0]!;
    expect(spread(inside), `mask overlay at ${inside}`).toBeGreaterThan(25);
    expect(spread(outside), `no overlay at ${outside}`).toBeLessThan(6);
  });

  it('keeps the drawing on the anatomy when the view is zoomed', async () => {
    const box = await page.getByTestId('viewport').boundingBox();
    // Right drag zooms (the stack tool group's binding).
    const start = { x: box!.x + box!.width / 2, y: box!.y + box!.height / 2 };
    await page.mouse.move(start.x, start.y);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(start.x, start.y - 60, { steps: 6 });
    await page.mouse.up({ button: 'right' });
    await settle(page);
    const [x0, y0, x1] = expectedBox;
    const edge = await toPage(page, (x0 + x1) / 2, y0 - 0.5);
    const shot = await screenshotViewport(page, 'ask-answer-zoomed');
    expect(pixelsNear(shot, edge).some(isBoxYellow), 'box outline follows the zoom').toBe(true);
  });

  it('accepts the answer as a segment with its provenance', async () => {
    let state = await askState(page);
    expect(state.previewArea).not.toBeNull();
    const previewArea = state.previewArea!;
    expect(await page.getByTestId('ask-name').inputValue()).toBe('Liver');
    await page.getByTestId('ask-accept').click();
    state = await waitForAsk(page, (s) => s.segments.length === 1, 'the accepted segment');
    const segment = state.segments[0]!;
    expect(segment.label).toBe('Liver');
    expect(segment.type).toBe('Liver');
    expect(segment.provenance.source).toBe('ai');
    expect(segment.provenance.question).toBe(question);
    expect(segment.provenance.answer).toBe(TINY_DEFAULT_ANSWER);
    expect(segment.provenance.models!.map((m) => m.name)).toEqual([TINY_CRM_ID, TINY_ASM_ID]);
    expect(segment.provenance.prompts).toBe(3);
    expect(state.previewArea).toBeNull();
    expect(state.modelPreviewArea).toBeNull();
    await expect.poll(() => page.getByTestId('ask-provenance-question').textContent()).toBe(question);
    const models = await page.getByTestId('ask-provenance-models').textContent();
    expect(models).toContain(TINY_CRM_ID);
    expect(models).toContain(TINY_ASM_ID);
    await screenshotPage(page, 'ask-accepted');
    // The preview became a segment of the editor's document, voxel for voxel, listed in the segments panel;
    // the answer's box is gone from the layer.
    const editor = await page.evaluate(() => (globalThis as MrTestGlobal).__mrTest!.segmentation!.state());
    expect(editor.segments.map((s) => [s.label, s.source, s.voxels])).toEqual([['Liver', 'ai', previewArea]]);
    await expect.poll(() => page.getByTestId('segment-editor').textContent()).toContain('Liver');
    await settle(page);
    const shot = await screenshotViewport(page, 'ask-accepted-viewport');
    const [x0, y0, x1] = expectedBox;
    expect(pixelsNear(shot, await toPage(page, (x0 + x1) / 2, y0 - 0.5)).some(isBoxYellow)).toBe(false);
  });

  it('re-segments when a negative point is added', async () => {
    // Ask again from the history: "Edit & ask again" puts the question back in the box.
    await page.getByTestId('ask-question').fill('');
    await page.getByTestId('ask-history-reask').first().click();
    expect(await page.getByTestId('ask-question').inputValue()).toBe(question);
    await page.getByTestId('ask-submit').click();
    const before = await waitForAsk(page, (s) => s.phase === 'answered' && s.previewArea !== null && s.history.length === 2 && s.prompts.points.length === 2, 'a fresh answer');
    const cameraBefore = await toPage(page, 0, 0);
    await page.getByTestId('ask-refine').click();
    await waitForAsk(page, (s) => s.overlayMode === 'refine', 'refine mode');
    const [, y0, x1] = expectedBox;
    // The tiny ASM's mask is the rectangle spanned by every prompt coordinate: a point right of the box widens it.
    const target = await toPage(page, x1 + 10, y0 + 10);
    await page.keyboard.down('Shift');
    await page.mouse.click(target.x, target.y);
    await page.keyboard.up('Shift');
    const after = await waitForAsk(page, (s) => s.segmentCalls > before.segmentCalls && s.previewArea !== null && s.previewArea !== before.previewArea, 'the mask to change');
    expect(after.prompts.points.at(-1)).toEqual({ x: x1 + 10, y: y0 + 10, label: 0 });
    expect(after.modelPreviewArea).toBe(after.previewArea);
    // The click went to the prompt editor, not to the viewer's Shift+drag pan.
    expect(await toPage(page, 0, 0)).toEqual(cameraBefore);
    await settle(page);
    const shot = await screenshotViewport(page, 'ask-negative-point');
    expect(pixelsNear(shot, target, 0).every(isNegativeRed), 'the negative point is drawn').toBe(true);
    // Dragging the box's bottom edge handle down by 10 pixels resizes it and re-segments.
    const [bx0, , bx1, by1] = expectedBox;
    const negativeArea = after.previewArea;
    await drag(page, await toPage(page, (bx0 + bx1) / 2, by1 + 0.5), await toPage(page, (bx0 + bx1) / 2, by1 + 10.5));
    const resized = await waitForAsk(page, (s) => s.prompts.box !== null && s.prompts.box[3] !== by1 && s.previewArea !== negativeArea, 'the resized box');
    expect(resized.prompts.box).toEqual([bx0, expectedBox[1], bx1, by1 + 10]);
    // Undo twice brings the model's prompts and mask back.
    await page.getByTestId('ask-prompt-undo').click();
    await page.getByTestId('ask-prompt-undo').click();
    const undone = await waitForAsk(page, (s) => s.prompts.points.length === 2 && s.previewArea === before.previewArea, 'the undone prompts');
    expect(undone.prompts.box).toEqual(expectedBox);
    // Esc discards the preview.
    await page.keyboard.press('Escape');
    await waitForAsk(page, (s) => s.previewArea === null && s.modelPreviewArea === null, 'the rejected preview');
  });

  it('scores the resident’s drawn answer in teaching mode', async () => {
    await page.getByTestId('ask-teaching-toggle').check();
    await waitForAsk(page, (s) => s.teaching.enabled && s.overlayMode === 'draw', 'teaching draw mode');
    const resident: Box = [50, 70, 110, 140];
    await drag(page, await toPage(page, resident[0], resident[1]), await toPage(page, resident[2], resident[3]));
    const drawn = await waitForAsk(page, (s) => s.teaching.residentBox !== null, 'the resident box');
    expect(drawn.teaching.residentBox).toEqual(resident);
    const teachingQuestion = 'Which organ is in the right upper abdomen?';
    await page.getByTestId('ask-question').fill(teachingQuestion);
    await page.getByTestId('ask-submit').click();
    const scored = await waitForAsk(page, (s) => s.teaching.scores.length === 1, 'the teaching score');
    const score = scored.teaching.scores[0]!;
    expect(score.question).toBe(teachingQuestion);

    // Independently: the host's own mask for the model's prompts, against the resident's box.
    const { imageIndex } = await viewportState(page);
    const segmented = (await workstation.call('inference.segment', {
      seriesKey,
      sliceIndex: imageIndex,
      box: scored.answerBox,
      points: scored.keyPoints!.map(([x, y]) => ({ x, y, label: 1 })),
    })) as SegmentResult;
    const hostMask = pngToMask(Buffer.from(segmented.mask.png, 'base64'));
    const expected = overlap(rectangleMask(hostMask.width, hostMask.height, resident), hostMask.mask);
    expect(score.dice).toBeCloseTo(expected.dice, 9);
    expect(score.iou).toBeCloseTo(expected.iou, 9);
    expect(await page.getByTestId('ask-teaching-dice').textContent()).toBe(`Dice ${expected.dice.toFixed(3)}`);
    expect(await page.getByTestId('ask-teaching-iou').textContent()).toBe(`IoU ${expected.iou.toFixed(3)}`);
    // The drawn answer counts once: the next question needs a new drawing.
    expect(await page.getByTestId('ask-submit').isDisabled()).toBe(true);
    await settle(page);
    await screenshotPage(page, 'ask-teaching');

    const download = page.waitForEvent('download');
    await page.getByTestId('ask-teaching-export').click();
    const file = await (await download).path();
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('question,slice,dice,iou,time');
    expect(csv).toContain(`${teachingQuestion},${imageIndex + 1},${expected.dice.toFixed(4)},${expected.iou.toFixed(4)},`);
    const serious = app.problems.filter((p) => p.startsWith('page error') || /Refused to|Content Security Policy/i.test(p));
    expect(serious).toEqual([]);
  });
});

describe('ask panel without models', () => {
  let browser: Browser;
  let workstation: Workstation;
  let app: AppPage;
  let page: Page;
  let truth: GroundTruth;
  let detail: SeriesDetail;

  beforeAll(async () => {
    browser = await launchChromium();
    workstation = await startWorkstation({ models: 'none' });
    app = await openApp(browser, workstation.server, { width: 1400, height: 860 });
    page = app.page;
    await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
    const seriesKey = (await viewportState(page)).seriesKey!;
    detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
    truth = await readGroundTruth(path.join(workstation.dataDir, 'sample'));
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await browser?.close();
    await workstation?.close();
  });

  it('says what is missing and how to install it', async () => {
    const status = (await workstation.call('models.status', {})) as InferenceStatus;
    expect(status.crm.state).toBe('missing');
    await page.locator('[data-testid="ask-models"][data-crm="missing"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('ask-missing-crm').textContent()).toContain('not installed');
    expect(await page.getByTestId('ask-hint-crm').textContent()).toBe(status.crm.message);
    expect(await page.getByTestId('ask-hint-asm').textContent()).toBe(status.asm.message);
    await page.getByTestId('ask-question').fill('Where is the liver?');
    expect(await page.getByTestId('ask-submit').isDisabled()).toBe(true);
    expect((await askState(page)).modelsMissing).toContain('crm');
  });

  it('segments the liver from a box with the default segmenter, and a negative point changes the mask', async () => {
    // The ground-truth slice with the most liver, and the viewer slice at its position.
    const [columns, rows, slices] = truth.sizes;
    const { viewerSlice: target, mask: liver, area: bestArea } = largestSliceOf(truth, detail, LABEL.liver);
    expect(target).toBeGreaterThanOrEqual(0);
    let bx0 = columns, by0 = rows, bx1 = 0, by1 = 0;
    liver.forEach((v, i) => {
      if (!v) return;
      const x = i % columns;
      const y = Math.floor(i / columns);
      [bx0, by0, bx1, by1] = [Math.min(bx0, x), Math.min(by0, y), Math.max(bx1, x), Math.max(by1, y)];
    });

    // Page to that slice with the keyboard.
    await page.getByTestId('viewport').focus();
    const from = (await viewportState(page)).imageIndex;
    for (let i = 0; i < Math.abs(target - from); i++) await page.keyboard.press(target > from ? 'ArrowDown' : 'ArrowUp');
    await waitForRenderedSlice(page, (s) => s.imageIndex === target, `slice ${target}`);

    await page.getByTestId('ask-refine').click();
    await waitForAsk(page, (s) => s.overlayMode === 'refine' && s.sliceIndex === target, 'prompt editing on the slice');
    const box: Box = [bx0 - 3, by0 - 3, bx1 + 3, by1 + 3];
    await drag(page, await toPage(page, box[0], box[1]), await toPage(page, box[2], box[3]));
    const boxed = await waitForAsk(page, (s) => s.previewArea !== null && s.previewArea > 0, 'the default segmenter’s mask', 60_000);
    expect(boxed.prompts.box).toEqual(box);
    expect(boxed.answerBox).toBeNull();

    // The mask is the liver: compare with the ground truth through the host's mask of the same prompts.
    const segmented = (await workstation.call('inference.segment', { seriesKey: detail.series.seriesKey, sliceIndex: target, box, points: [] })) as SegmentResult;
    expect(segmented.segmenter.kind).toBe('default');
    expect(segmented.mask.area).toBe(boxed.previewArea);
    expect(overlap(pngToMask(Buffer.from(segmented.mask.png, 'base64')).mask, liver).dice).toBeGreaterThan(0.8);

    await settle(page);
    const shot = await screenshotViewport(page, 'ask-default-segmenter');
    let tinted = 0;
    for (let i = 0; i < 25; i++) {
      // Sample liver pixels on a spread of positions; most must be tinted by the overlay.
      const idx = Math.floor(((i + 0.5) / 25) * bestArea);
      let seen = -1;
      let at = 0;
      for (; at < liver.length; at++) if (liver[at] && ++seen === idx) break;
      const rgb = pixelsNear(shot, await toPage(page, at % columns, Math.floor(at / columns)), 0)[0]!;
      if (spread(rgb) > 20) tinted++;
    }
    expect(tinted).toBeGreaterThanOrEqual(20);

    // A negative click inside the mask near its edge cuts that part off (deep inside, the
    // segmenter fills the hole back): the liver pixel nearest the box's lower-left corner, 2 px in.
    let corner = { x: 0, y: 0, score: Infinity };
    liver.forEach((v, i) => {
      const x = i % columns;
      const y = Math.floor(i / columns);
      const score = x - box[0] + (box[3] - y);
      if (v && score < corner.score) corner = { x, y, score };
    });
    const inside = { x: corner.x + 2, y: corner.y - 2 };
    const point = await toPage(page, inside.x, inside.y);
    await page.keyboard.down('Alt');
    await page.mouse.click(point.x, point.y);
    await page.keyboard.up('Alt');
    const changed = await waitForAsk(page, (s) => s.segmentCalls > boxed.segmentCalls && s.previewArea !== null && s.previewArea !== boxed.previewArea, 'the mask to change after a negative point', 60_000);
    expect(changed.prompts.points).toEqual([{ x: inside.x, y: inside.y, label: 0 }]);
    expect(changed.previewArea!).toBeLessThan(boxed.previewArea!);

    // Enter accepts.
    await page.keyboard.press('Enter');
    const accepted = await waitForAsk(page, (s) => s.segments.length === 1, 'the accepted segment');
    expect(accepted.segments[0]!.provenance.source).toBe('interactive');
    expect(accepted.segments[0]!.provenance.models).toEqual([{ name: 'default-graph-cut', version: 'built-in' }]);
    await screenshotPage(page, 'ask-default-segmenter-accepted');

    // Propagation follows the liver into the neighbouring slices and stops where it ends.
    const viewerIndexOf = (k: number) => viewerSliceOf(truth, detail, k);
    const liverSlices = new Set<number>();
    for (let k = 0; k < slices; k++) {
      for (let i = k * columns * rows; i < (k + 1) * columns * rows; i++) {
        if (truth.labels[i] === LABEL.liver) {
          liverSlices.add(viewerIndexOf(k));
          break;
        }
      }
    }
    await page.getByTestId('ask-propagate').click();
    const propagated = await waitForAsk(page, (s) => s.propagation !== null && !s.propagation.running, 'propagation to finish', 300_000);
    const done = propagated.propagation!.slices;
    expect(done).toContain(target - 1);
    expect(done).toContain(target + 1);
    // One contiguous run of slices around the start, fewer than the whole series.
    expect(done.every((s, i) => i === 0 || s === done[i - 1]! + 1 || (done[i - 1] === target - 1 && s === target + 1))).toBe(true);
    expect(done.length).toBeLessThan(slices - 1);
    // It never runs past the liver's ends.
    expect(done.filter((index) => !liverSlices.has(index))).toEqual([]);
    expect(await page.getByTestId('ask-propagate-status').textContent()).toMatch(/^Propagated to \d+ slices/);
  });
});
