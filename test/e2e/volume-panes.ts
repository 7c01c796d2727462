// Waiting on the volume panes (layouts 1×2, 1×3, 2×2) through window.__mrTest.volume:
// the viewer, segment and overlay tests share these so each waits the same way.
import type { Page } from 'playwright-core';
import type { MrTestGlobal, VolumeViewState } from '../../renderer/src/test-hook-types.ts';

export function volumeState(page: Page): Promise<VolumeViewState> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest?.volume;
    if (!hook) throw new Error('window.__mrTest.volume is not installed');
    return hook.state();
  });
}

/** Polls until the predicate holds; a volume error ends the wait at once, with the error. */
export async function waitForVolume(page: Page, predicate: (state: VolumeViewState) => boolean, what: string, timeout = 120_000): Promise<VolumeViewState> {
  const deadline = Date.now() + timeout;
  let last: VolumeViewState | null = null;
  while (Date.now() < deadline) {
    last = await volumeState(page);
    if (last.error) throw new Error(`the volume view reported an error while waiting for ${what}: ${last.error}`);
    if (predicate(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`Timed out waiting for ${what}; last volume state: ${JSON.stringify(last)}`);
}

/** Waits until the panes stop drawing for `quietMs`: the frame on screen is final. */
export async function waitForQuietPanes(page: Page, quietMs = 500): Promise<VolumeViewState> {
  const deadline = Date.now() + 30_000;
  let previous = await volumeState(page);
  let since = Date.now();
  while (Date.now() < deadline) {
    await page.waitForTimeout(100);
    const next = await volumeState(page);
    if (next.renderCount !== previous.renderCount) {
      previous = next;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return next;
    }
  }
  throw new Error('the volume panes kept redrawing');
}
