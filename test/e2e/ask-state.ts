// The ask panel's state through window.__mrTest.ask, and the image → page mapping the
// ask tests click and look with (shared by ask-panel and ask-teaching).
import type { Page } from 'playwright-core';
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
