// Viewer load: time to the first image and to the full volume, with renderer and host
// memory, for a generated 512×512×500 CT series (LARGE_SAMPLE_SPEC) in headless
// Chromium (SwiftShader WebGL). Timings depend on the machine; this is never a test.
//   npx node bench/viewer-load.ts [--runs N]
// Needs `npm run build:renderer` first. The series is generated once into the temp folder.
//
// Four ways of loading the same files are measured in one run, each in a fresh browser
// context (no shared cache), alternating, N times (default 2), medians printed, after one
// uncounted warm-up load (the browser's first compiles shaders and the workers' code):
//   - 'now': the 1×1 view's slice is requested first (alone, through dicom-image-loader's own
//     path), the volume fills nearest it first (renderer/src/viewer/load-plan.ts), and the other
//     files come in file batches that the slice-batch worker fetches, parses and decodes
//     (renderer/src/cornerstone/slice-batch.worker.ts): the page only builds the images;
//   - 'before the slice worker': the same batches fetched and split on the page, every file
//     handed to dicom-image-loader (its dcmjs metadata on the page, its decode workers), selected
//     through the page global `__mrSliceWorker = false`;
//   - 'before batches': the same order, one request per file (the image loader's own XHRs),
//     selected through `__mrFileBatches = false`;
//   - 'before #18': one request per file and the volume's requests first, in Cornerstone's
//     default order (`__mrLoadPlan = 'volume-first'`);
//   - two peers: the app's page with no series open, fetching the same files (six requests
//     in flight, one per file; or four /file-batch requests of 24 files in flight, the same
//     transport as 'now'), parsing each with dicom-parser and applying the rescale into one
//     Int16 volume on the page's thread (what "decoding" is for this uncompressed series), no
//     Cornerstone.
// The older columns run today's host (it now reads a batch's files into one reused buffer, which
// took ~1.5 s of garbage collection off a 500-file load), so they are faster than they were.
//
// Times are taken in the page (performance.now() at the click, when the series' image is
// first drawn, when the volume's first and last slices arrive). The figures of issue #18
// (first image 2.0 s) were this process's polls, which the page answers late while its main
// thread is busy: they are printed too, as "as this process saw it".
//
// Measured 2026-12-02 05:50 UTC, `--runs 3`, on the idle 2-core machine:
//   | 512×512×500 CT, median of 3 | before #18 | before batches | before the slice worker | now | peer, a request per file | peer, file batches |
//   |---|---|---|---|---|---|---|
//   | first image (stack view) | 259 ms | 312 ms | 92 ms | 106 ms | 62 ms (first slice decoded) | 263 ms (first slice decoded) |
//   | first image as this process saw it | 938 ms | 1316 ms | 405 ms | 584 ms | – | – |
//   | first slices in the volume | 3490 ms | 538 ms | 501 ms | 361 ms | – | – |
//   | full volume | 4454 ms | 4865 ms | 3654 ms | 2734 ms | 3788 ms | 1757 ms |
//   | full volume ÷ peer in file batches | 2.53 | 2.77 | 2.08 | 1.56 | 2.16 | 1 |
//   per run, now: 2467, 2858, 2734 ms (warm-up 2306 ms).
// Where the CPU went during a 'now' load (2 cores, ~2.7 s): renderer processes ~4 s (the
// worker ~1.8 s: naturalizing ~1.1 ms, decoding ~1.3 ms a file), host 0.5 s, GPU process
// 0.6 s: the machine is busy throughout, so the next cuts are per-file worker work.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { LARGE_SAMPLE_SPEC } from '../electron/host/sample/phantom.ts';
import { writeSample } from '../electron/host/sample/sample-store.ts';
import type { ImportResult, SeriesDetail } from '../electron/common/dicom-model.ts';
import type { LoadPlan, MrLoadPlanGlobal, MrTestGlobal, VolumeViewState, ViewerState } from '../renderer/src/test-hook-types.ts';
import { launchChromium, openApp, startWorkstation, type Workstation } from '../test/e2e/harness.ts';

const folder = path.join(tmpdir(), 'medreasoner-bench-viewer-512x512x500');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Math.max(1, Number(process.argv[runsArg + 1]) || 1) : 2;

type ViewerRun = { firstImage: number; firstImagePolled: number; firstVolumeSlices: number; full: number; heapBefore: number; heapAfter: number; hostPeak: number };
type PeerRun = { firstSlice: number; full: number };

/**
 * The app in a fresh context (the harness's openApp, whichever way the server hands out its
 * session), reloaded with the given loading plan set before the page's scripts run.
 */
async function openAppWithPlan(browser: Browser, workstation: Workstation, plan: LoadPlan, fileBatches = true, sliceWorker = true): Promise<{ page: Page; close(): Promise<void> }> {
  const app = await openApp(browser, workstation.server);
  await app.context.addInitScript(
    ([chosen, batches, worker]) => Object.assign(globalThis as MrLoadPlanGlobal, { __mrLoadPlan: chosen, __mrFileBatches: batches, __mrSliceWorker: worker }),
    [plan, fileBatches, sliceWorker] as const,
  );
  await app.page.reload();
  await app.page.waitForFunction(() => (globalThis as MrTestGlobal).__mrTest?.appPhase() === 'ready', undefined, { timeout: 60_000 });
  const applied = await app.page.evaluate(() => (globalThis as MrLoadPlanGlobal).__mrLoadPlan);
  if (applied !== plan) throw new Error(`the page did not start with the loading plan ${plan} (it has ${String(applied)})`);
  return { page: app.page, close: app.close };
}

async function measureViewer(browser: Browser, workstation: Workstation, seriesKey: string, plan: LoadPlan, fileBatches: boolean, sliceWorker: boolean): Promise<ViewerRun> {
  const app = await openAppWithPlan(browser, workstation, plan, fileBatches, sliceWorker);
  const page = app.page;
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
      return metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
    };
    const heapBefore = await heap();
    // Times are taken in the page (performance.now() at the click, at the first drawing of the
    // series' image, at the volume's first and last slices): a poll from here would read them
    // late whenever the page's main thread is busy.
    await page.evaluate(() => {
      const global = globalThis as unknown as { __benchClickAt?: number; addEventListener(type: string, listener: () => void, options: unknown): void };
      global.addEventListener('pointerdown', () => (global.__benchClickAt = performance.now()), { capture: true, once: true });
    });
    // Opened in the 1×1 stack view: its first image is the first thing a user sees, while
    // the volume streams in behind it for the MPR layouts.
    const clicked = Date.now();
    await page.locator(`button.series-item[data-series-key="${seriesKey}"]`).click();
    let hostPeak = process.memoryUsage().rss;
    let done: { clickAt: number; stack: ViewerState; volume: VolumeViewState } | null = null;
    let firstImagePolled = Number.NaN;
    while (Date.now() - clicked < 600_000) {
      const [stack, volume, clickAt] = await page.evaluate(() => {
        const hook = (globalThis as MrTestGlobal).__mrTest;
        return [hook?.viewportState(), hook?.volume?.state(), (globalThis as unknown as { __benchClickAt?: number }).__benchClickAt ?? Number.NaN] as [ViewerState | undefined, VolumeViewState | undefined, number];
      });
      hostPeak = Math.max(hostPeak, process.memoryUsage().rss);
      if (volume?.error) throw new Error(`the volume failed (${plan}): ${volume.error}`);
      if (Number.isNaN(firstImagePolled) && stack?.seriesKey === seriesKey && stack.firstRenderedAt) firstImagePolled = Date.now() - clicked;
      if (stack && volume?.seriesKey === seriesKey && volume.loaded && stack.seriesKey === seriesKey && stack.firstRenderedAt) {
        done = { clickAt, stack, volume };
        break;
      }
      await page.waitForTimeout(50);
    }
    if (!done) throw new Error(`the series did not load within 10 minutes (${plan})`);
    const since = (at: number | null | undefined) => (typeof at === 'number' ? at - done.clickAt : Number.NaN);
    const firstImage = since(done.stack.firstRenderedAt);
    const firstVolumeSlices = since(done.volume.firstFramesAt);
    const full = since(done.volume.loadedAt);
    return { firstImage, firstImagePolled, firstVolumeSlices, full, heapBefore, heapAfter: await heap(), hostPeak };
  } finally {
    await app.close();
  }
}

/**
 * Fetch + dicom-parser + rescale into one volume, in the app's page with nothing open: the floor
 * for the viewer. `batchUrls` null: one request per file, six in flight (what a browser does
 * with plain URLs); otherwise the same files through /file-batch (the URLs given, four in
 * flight, the framing of electron/common/file-batch-format.ts read here by hand), so the
 * viewer's batched loading is compared with the same transport.
 */
async function measurePeer(browser: Browser, workstation: Workstation, urls: string[], batchUrls: string[] | null): Promise<PeerRun> {
  const app = await openAppWithPlan(browser, workstation, 'stack-first');
  try {
    const parserSource = readFileSync(createRequire(import.meta.url).resolve('dicom-parser/dist/dicomParser.min.js'), 'utf8');
    // Evaluated over the DevTools protocol, which the page's CSP (script-src 'self') does not govern.
    await app.page.evaluate(parserSource);
    return await app.page.evaluate(async ([fileUrls, batches]) => {
      type DataSet = { uint16(tag: string): number | undefined; floatString(tag: string): number | undefined; elements: Record<string, { dataOffset: number; length: number } | undefined> };
      const parser = (globalThis as unknown as { dicomParser: { parseDicom(bytes: Uint8Array): DataSet } }).dicomParser;
      const started = performance.now();
      let firstSlice = Number.NaN;
      let volume: Int16Array | null = null;
      let next = 0;
      const decode = async (index: number, fetched?: Uint8Array) => {
        let bytes = fetched;
        if (!bytes) {
          const response = await fetch(fileUrls[index] as string);
          if (!response.ok) throw new Error(`${fileUrls[index]}: HTTP ${response.status}`);
          bytes = new Uint8Array(await response.arrayBuffer());
        }
        const dataSet = parser.parseDicom(bytes);
        const rows = dataSet.uint16('x00280010') ?? 0;
        const columns = dataSet.uint16('x00280011') ?? 0;
        const slope = dataSet.floatString('x00281053') ?? 1;
        const intercept = dataSet.floatString('x00281052') ?? 0;
        const signed = dataSet.uint16('x00280103') === 1;
        const pixels = dataSet.elements['x7fe00010'];
        if (!pixels) throw new Error(`${fileUrls[index]}: no pixel data`);
        const count = rows * columns;
        // A typed array needs an aligned offset: copy the pixel bytes when they are not.
        const at = bytes.byteOffset + pixels.dataOffset;
        const buffer = at % 2 === 0 ? bytes.buffer : bytes.slice(pixels.dataOffset, pixels.dataOffset + count * 2).buffer;
        const offset = at % 2 === 0 ? at : 0;
        const stored = signed ? new Int16Array(buffer, offset, count) : new Uint16Array(buffer, offset, count);
        volume ??= new Int16Array(count * fileUrls.length);
        const slice = volume.subarray(index * count, (index + 1) * count);
        for (let i = 0; i < count; i++) slice[i] = (stored[i] as number) * slope + intercept;
        if (Number.isNaN(firstSlice)) firstSlice = performance.now() - started;
      };
      if (!batches) {
        const lane = async () => {
          while (next < fileUrls.length) await decode(next++);
        };
        await Promise.all(Array.from({ length: 6 }, lane));
        return { firstSlice, full: performance.now() - started };
      }
      let nextBatch = 0;
      let fileIndex = 0;
      const starts: number[] = [];
      for (const url of batches) {
        starts.push(fileIndex);
        fileIndex += url.split(',').length;
      }
      const batchLane = async () => {
        while (nextBatch < batches.length) {
          const which = nextBatch++;
          const response = await fetch(batches[which] as string);
          if (!response.ok) throw new Error(`${batches[which]}: HTTP ${response.status}`);
          const body = await response.arrayBuffer();
          const view = new DataView(body);
          let at = 0;
          let index = starts[which] as number;
          while (at < body.byteLength) {
            const keyLength = view.getUint16(at + 1, true);
            const length = view.getUint32(at + 3 + keyLength, true);
            const start = at + 7 + keyLength;
            if (view.getUint8(at) !== 0) throw new Error(`file ${index} missing from its batch`);
            await decode(index++, new Uint8Array(body, start, length));
            at = start + length;
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, batchLane));
      return { firstSlice, full: performance.now() - started };
    }, [urls, batchUrls] as const);
  } finally {
    await app.close();
  }
}

const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const ms = (value: number) => (Number.isNaN(value) ? 'not reached' : `${Math.round(value)} ms`);

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
    const detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
    const urls = detail.slices.map((slice) => `/files/${slice.fileKey}`);
    const batchUrls: string[] = [];
    for (let at = 0; at < detail.slices.length; at += 24) {
      batchUrls.push(`/file-batch?keys=${detail.slices.slice(at, at + 24).map((slice) => slice.fileKey).join(',')}`);
    }
    const variants = {
      'before #18': { plan: 'volume-first', fileBatches: false, sliceWorker: false },
      'before batches': { plan: 'stack-first', fileBatches: false, sliceWorker: false },
      'before the slice worker': { plan: 'stack-first', fileBatches: true, sliceWorker: false },
      now: { plan: 'stack-first', fileBatches: true, sliceWorker: true },
    } as const satisfies Record<string, { plan: LoadPlan; fileBatches: boolean; sliceWorker: boolean }>;
    type Variant = keyof typeof variants;
    const runs: Record<Variant, ViewerRun[]> = { 'before #18': [], 'before batches': [], 'before the slice worker': [], now: [] };
    const peers: PeerRun[] = [];
    const batchPeers: PeerRun[] = [];
    // The browser's first load of the series compiles shaders and the workers' code and reads the
    // files from disk into the page cache (4–7 s whichever way): a warm-up, not counted.
    const warmUp = await measureViewer(browser, workstation, seriesKey, 'stack-first', true, true);
    console.log(`warm-up (first load after the browser starts, not counted): first image ${ms(warmUp.firstImage)}, full volume ${ms(warmUp.full)}`);
    for (let run = 0; run < RUNS; run++) {
      // Alternating, so a burst of load on the machine does not land on one way only.
      const names = Object.keys(variants) as Variant[];
      const order = run % 2 === 0 ? names : [...names].reverse();
      for (const name of order) runs[name].push(await measureViewer(browser, workstation, seriesKey, variants[name].plan, variants[name].fileBatches, variants[name].sliceWorker));
      peers.push(await measurePeer(browser, workstation, urls, null));
      batchPeers.push(await measurePeer(browser, workstation, urls, batchUrls));
    }
    const columns = Object.keys(variants) as Variant[];
    const cells = (key: keyof ViewerRun) => columns.map((name) => ms(median(runs[name].map((value) => value[key])))).join(' | ');
    const peerFull = median(peers.map((peer) => peer.full));
    const batchPeerFull = median(batchPeers.map((peer) => peer.full));
    const fullOf = (name: Variant) => median(runs[name].map((r) => r.full));
    console.log(`| ${LARGE_SAMPLE_SPEC.columns}×${LARGE_SAMPLE_SPEC.rows}×${LARGE_SAMPLE_SPEC.slices} CT, median of ${RUNS} | before #18 (volume-first, a request per file) | before batches (stack-first, nearest-first volume, a request per file) | before the slice worker (file batches, parsed and handed to dicom-image-loader on the page) | now (file batches fetched, parsed and decoded in the slice-batch worker) | peer: fetch a request per file + dicom-parser + rescale | peer: fetch in file batches + dicom-parser + rescale |`);
    console.log('|---|---|---|---|---|---|---|');
    console.log(`| first image (stack view) | ${cells('firstImage')} | ${ms(median(peers.map((peer) => peer.firstSlice)))} (first slice decoded) | ${ms(median(batchPeers.map((peer) => peer.firstSlice)))} (first slice decoded) |`);
    console.log(`| first image as this process saw it (a poll of the page, answered late while its main thread is busy) | ${cells('firstImagePolled')} | – | – |`);
    console.log(`| first slices in the volume | ${cells('firstVolumeSlices')} | – | – |`);
    console.log(`| full volume | ${cells('full')} | ${ms(peerFull)} (all slices decoded) | ${ms(batchPeerFull)} (all slices decoded) |`);
    console.log(`| full volume ÷ peer in file batches | ${columns.map((name) => (fullOf(name) / batchPeerFull).toFixed(2)).join(' | ')} | ${(peerFull / batchPeerFull).toFixed(2)} | 1 |`);
    console.log(`| renderer JS heap before / after (the voxel buffer is outside the JS heap) | ${columns.map((name) => `${mb(median(runs[name].map((r) => r.heapBefore)))} / ${mb(median(runs[name].map((r) => r.heapAfter)))}`).join(' | ')} | – | – |`);
    console.log(`| host RSS peak (host and browser server in this process) | ${columns.map((name) => mb(Math.max(...runs[name].map((r) => r.hostPeak)))).join(' | ')} | – | – |`);
    const perRun = (values: Array<{ firstImage?: number; firstSlice?: number; full: number }>) => values.map((r) => `${Math.round(r.firstImage ?? r.firstSlice ?? Number.NaN)}/${Math.round(r.full)}`).join(', ');
    console.log(`\nper run (first image / full, ms): ${columns.map((name) => `${name} ${perRun(runs[name])}`).join('; ')}; peer ${perRun(peers)}; peer in batches ${perRun(batchPeers)}`);
    console.log(`total run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await browser.close();
    await workstation.close();
  }
}

await main();
