import { it } from 'vitest';
import { launchChromium, openApp, startWorkstation, waitForRenderedSlice } from '/work/main/test/e2e/harness.ts';
it('debug', async () => {
  const browser = await launchChromium(); const ws = await startWorkstation(); const app = await openApp(browser, ws.server);
  await waitForRenderedSlice(app.page, (s) => s.seriesKey !== null, 'open', 120000);
  await app.page.keyboard.press('Alt+4'); await app.page.waitForTimeout(8000);
  const box = (await app.page.getByTestId('pane-volume3d').boundingBox())!;
  for (const p of ['MIP', 'CT-Bone', 'CT-Lung', 'CT-Soft-Tissue']) {
    await app.page.getByTestId('vr-preset-' + p).click(); await app.page.waitForTimeout(2500);
    await app.page.screenshot({ path: `/tmp/vdbg/3d-${p}.png`, clip: box });
  }
  console.log(app.problems.join('\n'));
  await app.close(); await browser.close(); await ws.close();
}, 200000);
