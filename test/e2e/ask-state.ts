// The ask panel's state through window.__mrTest.ask, and the image → page mapping the
// ask tests click and look with, and where they find a structure (shared by ask-panel and ask-teaching).
import type { Page } from 'playwright-core';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import type { GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import type { AskTestState, MrTestGlobal } from '../../renderer/src/test-hook-types.ts';

export function askState(page: Page): Promise<AskTestState> {
  return page.evaluate(() => {
    const ask = (globalThis as MrTestGlobal).__mrTest?.ask;
    if (!ask) throw new Error('window.__mrTest.ask is not installed: the ask panel is missing');
    return ask.state();
  });
}

export async function waitForAsk(page: Page, predicate: (state: AskTestState) => boolean, what: string, timeout = 120_000): Promise<AskTestState> {
  const deadline = Date.now() + timeout;
  let last: AskTestState | null = null;
  while (Date.now() < deadline) {
    last = await askState(page);
    if (predicate(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`Timed out waiting for ${what}; last ask state: ${JSON.stringify(last, null, 1).slice(0, 2000)}`);
}

/** Page coordinates of the centre of image pixel (column, row) of the slice in view. */
export async function toPage(page: Page, column: number, row: number): Promise<{ x: number; y: number }> {
  const point = await page.evaluate(([c, r]) => (globalThis as MrTestGlobal).__mrTest!.imagePointToPage(c!, r!), [column, row]);
  if (!point) throw new Error(`image point (${column}, ${row}) has no page position`);
  return point;
}

/** The viewer slice (dicom.series order) at ground-truth slice k's position; -1 when none lies there. */
export function viewerSliceOf(truth: GroundTruth, detail: SeriesDetail, k: number): number {
  const normal = truth.info.geometry.directions[2];
  const along = (p: readonly number[]) => p.reduce((sum, value, axis) => sum + (value - truth.origin[axis]!) * normal[axis]!, 0);
  return detail.slices.findIndex((s) => s.position !== null && Math.abs(along(s.position) / truth.spacing[2] - k) < 0.01);
}

/** The ground-truth slice where `label` covers most pixels: its viewer slice, the structure's mask and area there. */
export function largestSliceOf(truth: GroundTruth, detail: SeriesDetail, label: number): { viewerSlice: number; mask: Uint8Array; area: number } {
  const [columns, rows, slices] = truth.sizes;
  const plane = columns * rows;
  let bestK = 0;
  let bestArea = 0;
  for (let k = 0; k < slices; k++) {
    let area = 0;
    for (let i = k * plane; i < (k + 1) * plane; i++) if (truth.labels[i] === label) area++;
    if (area > bestArea) [bestK, bestArea] = [k, area];
  }
  const viewerSlice = viewerSliceOf(truth, detail, bestK);
  const mask = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) mask[i] = truth.labels[bestK * plane + i] === label ? 1 : 0;
  return { viewerSlice, mask, area: bestArea };
}
