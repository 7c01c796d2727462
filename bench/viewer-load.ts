// Viewer load: time to the first image and to the full volume, with renderer and host
// memory, for a generated 512×512×500 CT series (LARGE_SAMPLE_SPEC) in headless
// Chromium (SwiftShader WebGL). Timings depend on the machine; this is never a test.
//   npx node bench/viewer-load.ts
// Needs `npm run build:renderer` first. The series is generated once into the temp folder.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LARGE_SAMPLE_SPEC } from '../electron/host/sample/phantom.ts';
import { writeSample } from '../electron/host/sample/sample-store.ts';
import type { ImportResult } from '../electron/common/dicom-model.ts';
import type { MrTestGlobal, VolumeViewState, ViewerState } from '../renderer/src/test-hook-types.ts';
import { launchChromium, openApp, startWorkstation } from '../test/e2e/harness.ts';

const folder = path.join(tmpdir(), 'medreasoner-bench-viewer-512x512x500');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main(): Promise<void> {
  const started = Date.now();
  const seriesDir = path.join(folder, 'dicom');
  if (!existsSync(path.join(folder, 'sample.json'))) {
    console.log(`generating ${LARGE_SAMPLE_SPEC.columns}×${LARGE_SAMPLE_SPEC.rows}×${LARGE_SAMPLE_SPEC.slices} into ${folder}…`);
    await writeSample(folder, LARGE_SAMPLE_SPEC);
  }
  const workstation = await startWorkstation();
  const browser = await launchChromium();
  try {
    const imported = (await workstation.call('dicom.import', { jobId: 'bench-viewer', paths: [seriesDir] })) as ImportResult;
    const seriesKey = imported.seriesKeys[0];
    if (!seriesKey) throw new Error('the generated series was not imported');
    const app = await openApp(browser, workstation.server);
    const page = app.page;
    const cdp = await app.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
      return metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
    };
    const heapBefore = await heap();
    // Opened in the 1×1 stack view: its first image is the first thing a user sees, while
    // the volume streams in behind it for the MPR layouts.
    const clicked = Date.now();
    await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
    let firstImage = Number.NaN;
    let firstVolumeSlices = Number.NaN;
    let full = Number.NaN;
    let hostPeak = process.memoryUsage().rss;
    while (Date.now() - clicked < 600_000) {
      const [stack, volume] = await page.evaluate(() => {
        const hook = (globalThis as MrTestGlobal).__mrTest;
        return [hook?.viewportState(), hook?.volume?.state()] as [ViewerState | undefined, VolumeViewState | undefined];
      });
      hostPeak = Math.max(hostPeak, process.memoryUsage().rss);
      const now = Date.now() - clicked;
      if (Number.isNaN(firstImage) && stack?.seriesKey === seriesKey && stack.renderedImageId !== null) firstImage = now;
      if (Number.isNaN(firstVolumeSlices) && volume?.seriesKey === seriesKey && volume.framesLoaded > 0) firstVolumeSlices = now;
      if (volume?.error) throw new Error(`the volume failed: ${volume.error}`);
      if (volume?.seriesKey === seriesKey && volume.loaded) {
        full = now;
        break;
      }
      await page.waitForTimeout(50);
    }
    const heapAfter = await heap();
    console.log('| measure | value |\n|---|---|');
    console.log(`| series | ${LARGE_SAMPLE_SPEC.columns}×${LARGE_SAMPLE_SPEC.rows}×${LARGE_SAMPLE_SPEC.slices} CT, ${imported.seriesKeys.length} series |`);
    console.log(`| time to first image (stack) | ${firstImage} ms |`);
    console.log(`| time to first slices in the volume | ${firstVolumeSlices} ms |`);
    console.log(`| time to full volume | ${Number.isNaN(full) ? 'not reached in 10 min' : `${full} ms`} |`);
    console.log(`| renderer JS heap before / after (the volume's voxel buffer is outside the JS heap) | ${mb(heapBefore)} / ${mb(heapAfter)} |`);
    console.log(`| host RSS peak (host and browser server in this process) | ${mb(hostPeak)} |`);
    console.log(`| total run | ${((Date.now() - started) / 1000).toFixed(0)} s |`);
    await app.close();
  } finally {
    await browser.close();
    await workstation.close();
  }
}

await main();
