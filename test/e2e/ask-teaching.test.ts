// The ask panel in Chromium with the tiny models, for what ask-panel.test.ts leaves out:
// Cancel while a question is in flight (held at the host's door by the harness, so the
// cancel always lands before the model starts; it goes through the real inference.cancel),
// teaching mode with a painted answer (brush, erase with Shift) scored against the model's
// mask, the stage timings after an answer, and the history of a series surviving a visit
// to another series.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentResult } from '../../electron/common/contract-inference.ts';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { pngToMask } from '../../electron/host/inference/mask-png.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { LABEL } from '../../electron/host/sample/label-table.ts';
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
  type AskGate,
  type Screenshot,
  type Workstation,
} from './harness.ts';
import { askState, largestSliceOf, toPage, waitForAsk } from './ask-state.ts';

type Rgb = [number, number, number];

function pixelAt(shot: Screenshot, point: { x: number; y: number }): Rgb {
  const x = Math.round(point.x - 0.5 - shot.origin.x);
  const y = Math.round(point.y - 0.5 - shot.origin.y);
  const o = (y * shot.image.width + x) * 4;
  return [shot.image.rgba[o]!, shot.image.rgba[o + 1]!, shot.image.rgba[o + 2]!];
}

async function settle(page: Page): Promise<void> {
  await waitForQuietViewport(page);
  await page.evaluate(() => {
    const frame = (globalThis as unknown as { requestAnimationFrame(callback: () => void): number }).requestAnimationFrame;
    return new Promise<void>((resolve) => frame(() => frame(resolve)));
  });
}

/** A mouse stroke through image points, in small steps as a hand would move. */
async function stroke(page: Page, points: Array<[number, number]>): Promise<void> {
  const first = await toPage(page, points[0]![0], points[0]![1]);
  await page.mouse.move(first.x, first.y);
  await page.mouse.down();
  for (const [c, r] of points.slice(1)) {
    const p = await toPage(page, c, r);
    await page.mouse.move(p.x, p.y, { steps: 6 });
  }
  await page.mouse.up();
}

/** Dice and IoU, computed here from the two masks without the app's code. */
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

describe('ask panel: cancel, teaching with the brush, stage timings, history per series', () => {
  let browser: Browser;
  let workstation: Workstation;
  let gate: AskGate;
  let app: AppPage;
  let page: Page;
  let seriesKey: string;
  let truth: GroundTruth;
  let detail: SeriesDetail;
  let otherDir: string | null = null;

  beforeAll(async () => {
    browser = await launchChromium();
    workstation = await startWorkstation({ models: 'tiny', holdAsks: true });
    gate = workstation.askGate!;
    app = await openApp(browser, workstation.server, { width: 1400, height: 860 });
    page = app.page;
    await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
    seriesKey = (await viewportState(page)).seriesKey!;
    detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
    truth = await readGroundTruth(path.join(workstation.dataDir, 'sample'));
    await page.locator('[data-testid="ask-models"][data-crm="ready"][data-asm="ready"]').waitFor({ timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    gate?.open();
    await app?.close();
    await browser?.close();
    await workstation?.close();
    if (otherDir) await rm(otherDir, { recursive: true, force: true });
  });

  it('cancels a running question: the panel says so and nothing is drawn', async () => {
    await page.getByTestId('ask-question').fill('Where is the liver?');
    await page.getByTestId('ask-submit').click();
    const jobId = await gate.arrived();
    const running = await waitForAsk(page, (s) => s.phase === 'running', 'the running question');
    expect(running.jobId).toBe(jobId);
    await expect.poll(() => page.getByTestId('ask-cancel').isVisible()).toBe(true);
    await page.getByTestId('ask-cancel').click();
    // The cancel reached the real host while the question was still held.
    await expect.poll(() => gate.cancels.some((c) => c.jobId === jobId), { timeout: 30_000 }).toBe(true);
    expect(gate.cancels.find((c) => c.jobId === jobId)?.ok).toBe(true);
    gate.release(jobId);

    const cancelled = await waitForAsk(page, (s) => s.phase !== 'running', 'the cancelled question');
    expect(cancelled.phase).toBe('cancelled');
    expect(await page.getByTestId('ask-activity').textContent()).toBe('Cancelled');
    expect(await page.getByTestId('ask-panel').getAttribute('data-phase')).toBe('cancelled');
    expect(await page.getByTestId('ask-cancel').isHidden()).toBe(true);
    // The model never ran: no tokens, no reasoning stage, no answer, no preview, nothing on the layer.
    expect(cancelled.tokenEvents).toBe(0);
    expect(await page.locator('[data-testid="ask-stages"] li[data-stage="crm"]').count()).toBe(0);
    expect(cancelled.answerBox).toBeNull();
    expect(cancelled.previewArea).toBeNull();
    expect(cancelled.modelPreviewArea).toBeNull();
    expect(cancelled.segmentCalls).toBe(0);
    expect(await page.getByTestId('ask-answer').isHidden()).toBe(true);
    await settle(page);
    expect(await page.getByTestId('ask-layer').getAttribute('data-drawn')).toBe('false');
    expect(cancelled.history).toEqual([expect.objectContaining({ question: 'Where is the liver?', answer: 'Cancelled' })]);
    await expect.poll(() => page.locator('[data-testid="ask-history-item"][data-status="cancelled"]').count()).toBe(1);
    await screenshotPage(page, 'ask-cancelled');
    // From here on the questions go straight through.
    gate.open();
  });

  it('scores a painted answer over the liver against the model’s mask, and shows the stage timings', async () => {
    // The ground-truth slice with the most liver, and the viewer slice at its position.
    const [columns, rows] = truth.sizes;
    const { viewerSlice: target, mask: liver } = largestSliceOf(truth, detail, LABEL.liver);
    expect(target).toBeGreaterThanOrEqual(0);
    await page.getByTestId('viewport').focus();
    const from = (await viewportState(page)).imageIndex;
    for (let i = 0; i < Math.abs(target - from); i++) await page.keyboard.press(target > from ? 'ArrowDown' : 'ArrowUp');
    await waitForRenderedSlice(page, (s) => s.imageIndex === target, `slice ${target}`);

    // Three rows through the liver's centre, each painted between its liver pixels (kept 8 px in).
    let sx = 0, sy = 0, n = 0;
    liver.forEach((v, i) => {
      if (v) [sx, sy, n] = [sx + (i % columns), sy + Math.floor(i / columns), n + 1];
    });
    const cy = Math.round(sy / n);
    const rowsToPaint = [cy - 8, cy, cy + 8].map((y) => {
      const xs: number[] = [];
      for (let x = 0; x < columns; x++) if (liver[y * columns + x]) xs.push(x);
      return { y, x0: Math.min(...xs) + 8, x1: Math.max(...xs) - 8 };
    });
    for (const row of rowsToPaint) expect(row.x1 - row.x0, `liver width on row ${row.y}`).toBeGreaterThan(10);

    await page.getByTestId('ask-teaching-toggle').check();
    await page.getByTestId('ask-teaching-brush').click();
    await waitForAsk(page, (s) => s.teaching.enabled && s.overlayMode === 'brush', 'the brush');
    await page.getByTestId('ask-brush-radius').evaluate((input: { value: string; dispatchEvent(event: unknown): boolean }) => {
      input.value = '5';
      input.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('input'));
    });
    await waitForAsk(page, (s) => s.teaching.brushRadius === 5, 'the brush radius');
    expect(await page.getByTestId('ask-brush-radius-label').textContent()).toBe('5 px');
    for (const row of rowsToPaint) await stroke(page, [[row.x0, row.y], [(row.x0 + row.x1) / 2, row.y], [row.x1, row.y]]);
    const painted = await waitForAsk(page, (s) => (s.teaching.residentMask?.pixels.length ?? 0) > 0, 'the painted answer');
    const before = painted.teaching.residentMask!;
    expect(before.sliceIndex).toBe(target);
    expect([before.width, before.height]).toEqual([columns, rows]);
    const paintedSet = new Set(before.pixels);
    for (const row of rowsToPaint) {
      expect(paintedSet.has(row.y * columns + row.x0), `stroke start (${row.x0}, ${row.y})`).toBe(true);
      expect(paintedSet.has(row.y * columns + row.x1), `stroke end (${row.x1}, ${row.y})`).toBe(true);
      expect(paintedSet.has(row.y * columns + row.x1 + 8), `beyond the stroke end (${row.x1 + 8}, ${row.y})`).toBe(false);
    }
    // The strokes lie over the liver: nearly all painted pixels are liver in the ground truth.
    const onLiver = before.pixels.filter((i) => liver[i]).length;
    expect(onLiver / before.pixels.length).toBeGreaterThan(0.9);

    // Shift + drag erases: a short stroke across the middle row.
    const mid = rowsToPaint[1]!;
    const ex = Math.round((mid.x0 + mid.x1) / 2);
    await page.keyboard.down('Shift');
    await stroke(page, [[ex - 3, mid.y], [ex + 3, mid.y]]);
    await page.keyboard.up('Shift');
    const erased = await waitForAsk(page, (s) => (s.teaching.residentMask?.pixels.length ?? 0) < before.pixels.length, 'the erased pixels');
    const afterSet = new Set(erased.teaching.residentMask!.pixels);
    expect(afterSet.has(mid.y * columns + ex)).toBe(false);
    expect(afterSet.has(mid.y * columns + mid.x0)).toBe(true);

    // The painted answer is on screen, tinted cyan.
    await settle(page);
    const shot = await screenshotViewport(page, 'ask-teaching-brush');
    const [r, g, b] = pixelAt(shot, await toPage(page, mid.x0, mid.y));
    expect(g - r, `cyan tint at (${mid.x0}, ${mid.y}): ${r},${g},${b}`).toBeGreaterThan(25);
    expect(b - r).toBeGreaterThan(25);

    const teachingQuestion = 'Which organ is in the right upper abdomen?';
    await page.getByTestId('ask-question').fill(teachingQuestion);
    await page.getByTestId('ask-submit').click();
    const scored = await waitForAsk(page, (s) => s.teaching.scores.length === 1, 'the teaching score', 180_000);
    expect(scored.phase).toBe('answered');
    const score = scored.teaching.scores[0]!;
    expect(score.question).toBe(teachingQuestion);

    // Independently: the resident's mask as the hook reads it, against the host's own mask
    // for the model's prompts (not the model's box).
    const resident = new Uint8Array(columns * rows);
    for (const i of scored.teaching.residentMask!.pixels) resident[i] = 1;
    const segmented = (await workstation.call('inference.segment', {
      seriesKey,
      sliceIndex: target,
      box: scored.answerBox,
      points: scored.keyPoints!.map(([x, y]) => ({ x, y, label: 1 })),
    })) as SegmentResult;
    const modelMask = pngToMask(Buffer.from(segmented.mask.png, 'base64'));
    expect(modelMask.mask.length).toBe(resident.length);
    const expected = overlap(resident, modelMask.mask);
    expect(expected.dice).toBeGreaterThan(0);
    expect(score.dice).toBeCloseTo(expected.dice, 9);
    expect(score.iou).toBeCloseTo(expected.iou, 9);
    expect(await page.getByTestId('ask-teaching-dice').textContent()).toBe(`Dice ${expected.dice.toFixed(3)}`);
    expect(await page.getByTestId('ask-teaching-iou').textContent()).toBe(`IoU ${expected.iou.toFixed(3)}`);
    const summaryRow = page.locator('[data-testid="ask-teaching-table"] tbody tr');
    expect(await summaryRow.count()).toBe(1);
    expect(await summaryRow.locator('td').nth(1).textContent()).toBe(expected.dice.toFixed(3));
    expect(await summaryRow.locator('td').nth(2).textContent()).toBe(expected.iou.toFixed(3));
    expect(await page.getByTestId('ask-submit').isDisabled()).toBe(true);

    // Stage timings stay visible after the answer: every stage the host reported, with its time.
    const stages = page.locator('[data-testid="ask-stages"] li');
    const shown = await stages.evaluateAll((items) => items.map((li) => ({ stage: li.getAttribute('data-stage'), state: li.getAttribute('data-state'), text: li.textContent })));
    expect(shown.map((s) => s.stage)).toEqual(expect.arrayContaining(['load-slice', 'crm', 'parse', 'asm']));
    for (const s of shown) {
      expect(s.state, `stage ${s.stage}`).toBe('finished');
      expect(s.text, `stage ${s.stage}`).toMatch(/: \d+ ms$/);
    }
    expect(await page.getByTestId('ask-answer').textContent()).toMatch(/\d+ ms in all/);
    await settle(page);
    await screenshotPage(page, 'ask-teaching-brush-scored');

    const download = page.waitForEvent('download');
    await page.getByTestId('ask-teaching-export').click();
    const csv = await readFile(await (await download).path(), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('question,slice,dice,iou,time');
    expect(csv).toContain(`${teachingQuestion},${target + 1},${expected.dice.toFixed(4)},${expected.iou.toFixed(4)},`);

    // Clear takes the painted answer away.
    await page.getByTestId('ask-reject').click();
    await page.getByTestId('ask-teaching-clear').click();
    await waitForAsk(page, (s) => s.teaching.residentMask === null && s.teaching.residentBox === null, 'the cleared answer');
    await page.getByTestId('ask-teaching-toggle').uncheck();
  });

  it('keeps the questions of a series while another series is on screen', async () => {
    const history = (await askState(page)).history;
    expect(history.map((h) => h.question)).toEqual(['Which organ is in the right upper abdomen?', 'Where is the liver?']);
    // Five slices of the sample as a series of their own (a new series UID).
    const sampleDir = path.join(workstation.dataDir, 'sample', 'dicom');
    otherDir = await mkdtemp(path.join(tmpdir(), 'mr-ask-other-'));
    const files = (await readdir(sampleDir)).sort().slice(0, 5);
    for (const file of files) await copyFile(path.join(sampleDir, file), path.join(otherDir, file));
    execFileSync('dcmodify', ['-nb', '-gin', '-m', '(0020,000E)=2.25.9876543210987654321', ...files.map((file) => path.join(otherDir!, file))]);
    const imported = (await workstation.call('dicom.import', { jobId: 'ask-other', paths: [otherDir] })) as { seriesKeys: string[] };
    const otherKey = imported.seriesKeys[0];
    if (!otherKey) throw new Error('the second series was not imported');
    expect(otherKey).not.toBe(seriesKey);

    await page.locator(`button.series-item[data-series-key="${otherKey}"]`).click();
    await waitForRenderedSlice(page, (s) => s.seriesKey === otherKey, 'the second series');
    await waitForAsk(page, (s) => s.history.length === 0, 'the empty history of the second series');
    expect(await page.getByTestId('ask-history-item').count()).toBe(0);

    await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
    await waitForRenderedSlice(page, (s) => s.seriesKey === seriesKey, 'the sample again');
    const back = await waitForAsk(page, (s) => s.history.length === history.length, 'the sample’s history');
    expect(back.history).toEqual(history);
    await expect.poll(() => page.getByTestId('ask-history-item').count()).toBe(history.length);
    const serious = app.problems.filter((p) => p.startsWith('page error') || /Refused to|Content Security Policy/i.test(p));
    expect(serious).toEqual([]);
  });
});
