// The segment editor's state through window.__mrTest.segmentation (shared by the
// segment-editor and segment-planes tests).
import type { Page } from 'playwright-core';
import type { MrTestGlobal, SegmentationTestState } from '../../renderer/src/test-hook-types.ts';

export function segState(page: Page): Promise<SegmentationTestState> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest?.segmentation;
    if (!hook) throw new Error('the segment editor test hook is missing');
    return hook.state();
  });
}

export async function waitForSeg(page: Page, predicate: (state: SegmentationTestState) => boolean, what: string, timeout = 60_000): Promise<SegmentationTestState> {
  const deadline = Date.now() + timeout;
  let last: SegmentationTestState | null = null;
  while (Date.now() < deadline) {
    last = await segState(page);
    if (predicate(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`Timed out waiting for ${what}; last segment editor state: ${JSON.stringify(last)}`);
}
