// End-to-end harness: a real host on a temporary data folder, the browser-mode server
// on 127.0.0.1, and Debian's Chromium rendering WebGL through SwiftShader. Missing
// parts fail loudly with what to do; nothing is skipped.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createHost, type Host } from '../../electron/host/host.ts';
import { writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import { startBrowserServer, type BrowserServer } from '../../electron/server/browser-server.ts';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import type { MrTestGlobal, ViewerState } from '../../renderer/src/test-hook-types.ts';
import { decodePng, type DecodedImage } from './png.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const RENDERER_DIR = path.join(REPO_ROOT, 'dist/renderer');
export const ARTIFACT_DIR = path.join(REPO_ROOT, 'test-artifacts/e2e');
export const CHROMIUM = '/usr/bin/chromium';

/** SwiftShader WebGL2 headless, and quiet on a closed network (else start-up stalls on refused connections). */
const CHROMIUM_ARGS = [
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--no-sandbox',
];

export function requireE2EParts(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Debian's Chromium is missing (${CHROMIUM}). Install it with \`sudo apt-get install chromium\` or \`npm run setup:system\`.`);
  }
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`The renderer is not built (${RENDERER_DIR}/index.html is missing). Run \`npm run build:renderer\` (or \`npm run test:e2e\`, which builds first).`);
  }
}

export interface Workstation {
  dataDir: string;
  host: Host;
  server: BrowserServer;
  /** Calls the host directly, as the tests' own client: throws on { ok: false }. */
  call(method: string, params: unknown): Promise<unknown>;
  close(): Promise<void>;
  /** With `holdAsks`: the gate the questions wait at. */
  askGate?: AskGate;
}

/**
 * Questions (inference.ask) held at the host's door until the test lets them in, so a
 * test can act while one is known to be in flight (cancel it, say). Everything else,
 * inference.cancel included, goes straight to the real host.
 */
export interface AskGate {
  /** Resolves with the job id of the first question waiting at the gate (now or later). */
  arrived(): Promise<string>;
  /** Lets one held question through to the host. */
  release(jobId: string): void;
  /** Lets every held question through and holds no more. */
  open(): void;
  /** The inference.cancel calls the host answered, in order, with its answers. */
  cancels: Array<{ jobId: string; ok: boolean; result: unknown }>;
}

function holdAsks(host: Host): AskGate {
  const held = new Map<string, () => void>();
  let waiters: Array<(jobId: string) => void> = [];
  let holding = true;
  const cancels: AskGate['cancels'] = [];
  const real = host.dispatch;
  host.dispatch = async (method, params) => {
    const jobId = String((params as { jobId?: unknown } | null)?.jobId);
    if (method === 'inference.ask' && holding) {
      await new Promise<void>((resolve) => {
        held.set(jobId, resolve);
        for (const waiter of waiters) waiter(jobId);
        waiters = [];
      });
    }
    const answer = await real(method, params);
    if (method === 'inference.cancel') cancels.push({ jobId, ok: answer.ok, result: answer.ok ? answer.result : answer.error });
    return answer;
  };
  return {
    arrived: () => {
      const first = held.keys().next();
      return first.done ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve(first.value);
    },
    release(jobId) {
      const resolve = held.get(jobId);
      if (!resolve) throw new Error(`no question with job id "${jobId}" is held (held: ${[...held.keys()].join(', ') || 'none'})`);
      held.delete(jobId);
      resolve();
    },
    open() {
      holding = false;
      for (const resolve of held.values()) resolve();
      held.clear();
    },
    cancels,
  };
}

export interface WorkstationOptions {
  /**
   * The models folder: 'tiny' installs the tiny test models (native-models/tiny) into
   * <dataDir>/models, 'none' leaves it empty; both name it explicitly, so a
   * MEDREASONER_MODELS in the environment cannot change what the test sees.
   */
  models?: 'tiny' | 'none';
  /** Hold every inference.ask until the test releases it (see AskGate). */
  holdAsks?: boolean;
  /**
   * Start on this data folder (a restart of an earlier workstation); it is then the
   * caller's and close() leaves it in place.
   */
  dataDir?: string;
}

export async function startWorkstation(options: WorkstationOptions = {}): Promise<Workstation> {
  requireE2EParts();
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'mr-e2e-')));
  let modelsDir: string | undefined;
  if (options.models) {
    modelsDir = path.join(dataDir, 'models');
    await mkdir(modelsDir, { recursive: true });
    if (options.models === 'tiny') await writeTinyModels(modelsDir);
  }
  const host = createHost({ shell: 'test', dataDir, ...(modelsDir ? { modelsDir } : {}) });
  const askGate = options.holdAsks ? holdAsks(host) : undefined;
  const server = await startBrowserServer({ host, rendererDir: RENDERER_DIR, port: 0 });
  return {
    dataDir,
    host,
    server,
    ...(askGate ? { askGate } : {}),
    async call(method, params) {
      const answer = await host.dispatch(method, params);
      if (!answer.ok) throw new Error(`${method} failed: ${answer.error.code}: ${answer.error.message}`);
      return answer.result;
    },
    async close() {
      await server.close();
      await host.dispose();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  requireE2EParts();
  // Playwright gives each launch a fresh temporary profile (user-data-dir) and removes it on close.
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page, for assertions and failure messages. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens the app at a fresh one-time launch link (its nonce becomes the session cookie) and waits until it is ready. */
export async function openApp(browser: Browser, server: BrowserServer, viewport = { width: 1280, height: 800 }): Promise<AppPage> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(server.newLaunchUrl());
  try {
    await page.waitForFunction(() => (globalThis as MrTestGlobal).__mrTest?.appPhase() === 'ready', undefined, { timeout: 60_000 });
  } catch (error) {
    throw new Error(`The app did not become ready: ${String(error)}\nPage problems:\n${problems.join('\n') || '(none)'}`);
  }
  return { context, page, problems, close: () => context.close() };
}

/** A fresh workstation and the app in Chromium, on the sample it opens by itself on first start. */
export interface SampleApp {
  browser: Browser;
  workstation: Workstation;
  app: AppPage;
  page: Page;
  /** The sample series as the host lists it. */
  detail: SeriesDetail;
  close(): Promise<void>;
}

/** Most viewer tests start here: nothing imported, the sample shown, its first slice drawn. */
export async function openSampleApp(): Promise<SampleApp> {
  const browser = await launchChromium();
  let workstation: Workstation | undefined;
  let app: AppPage | undefined;
  const close = async () => {
    await app?.close();
    await browser.close();
    await workstation?.close();
  };
  try {
    workstation = await startWorkstation();
    app = await openApp(browser, workstation.server);
    const page = app.page;
    await waitForRenderedSlice(page, (state) => state.seriesKey !== null, 'the sample to open on first start', 120_000);
    const seriesKey = (await viewportState(page)).seriesKey as string;
    const detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
    return { browser, workstation, app, page, detail, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export function viewportState(page: Page): Promise<ViewerState> {
  return page.evaluate(() => {
    const hook = (globalThis as MrTestGlobal).__mrTest;
    if (!hook) throw new Error('window.__mrTest is not installed: the app did not start');
    return hook.viewportState();
  });
}

/** Waits until the viewport drew the slice it is on (after a series change, a scroll or a W/L change). */
export async function waitForRenderedSlice(page: Page, predicate: (state: ViewerState) => boolean, what: string, timeout = 60_000): Promise<ViewerState> {
  const deadline = Date.now() + timeout;
  let last: ViewerState | null = null;
  while (Date.now() < deadline) {
    last = await viewportState(page);
    if (last.error) throw new Error(`The viewport reported an error while waiting for ${what}: ${last.error}`);
    if (last.imageId !== null && last.renderedImageId === last.imageId && predicate(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`Timed out waiting for ${what}; last viewport state: ${JSON.stringify(last)}`);
}

/** Waits until nothing new has been drawn for a moment: the frame on screen is final. */
export async function waitForQuietViewport(page: Page, quietMs = 400, timeout = 20_000): Promise<ViewerState> {
  const deadline = Date.now() + timeout;
  let previous = await viewportState(page);
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await page.waitForTimeout(100);
    const next = await viewportState(page);
    if (next.renderCount !== previous.renderCount || next.renderedImageId !== previous.renderedImageId) {
      quietSince = Date.now();
      previous = next;
    } else if (Date.now() - quietSince >= quietMs) {
      return next;
    }
  }
  throw new Error(`The viewport kept redrawing for ${timeout} ms`);
}

export interface Screenshot {
  file: string;
  image: DecodedImage;
  /** Page coordinates of the screenshot's top-left corner, to map page points into it. */
  origin: { x: number; y: number };
}

/** A screenshot of the viewport area (canvas plus overlay) saved as test-artifacts/e2e/<name>.png. */
export async function screenshotViewport(page: Page, name: string): Promise<Screenshot> {
  const box = await page.getByTestId('viewport').boundingBox();
  if (!box) throw new Error('the viewport element is not visible');
  const clip = { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
  const png = await page.screenshot({ clip });
  const file = await saveArtifact(`${name}.png`, png);
  return { file, image: decodePng(png), origin: { x: clip.x, y: clip.y } };
}

export async function screenshotPage(page: Page, name: string): Promise<string> {
  return saveArtifact(`${name}.png`, await page.screenshot());
}

async function saveArtifact(fileName: string, bytes: Uint8Array): Promise<string> {
  await mkdir(ARTIFACT_DIR, { recursive: true });
  const file = path.join(ARTIFACT_DIR, fileName);
  await writeFile(file, bytes);
  return file;
}

/** Clicks the study browser's entry of a series and waits until its first frame is drawn. */
export async function openSeriesFromBrowser(page: Page, seriesKey: string): Promise<ViewerState> {
  await page.locator(`button.series-item[data-series-key="${cssEscape(seriesKey)}"]`).click();
  return waitForRenderedSlice(page, (state) => state.seriesKey === seriesKey, `series ${seriesKey} to render`);
}

function cssEscape(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}

export interface SampledImage {
  samples: SampledPixel[];
  /** Screen pixels per image pixel (the viewport's magnification). */
  magnification: number;
}

export interface SampledPixel {
  column: number;
  row: number;
  /** RGB of the screenshot pixel nearest to the image pixel's centre. */
  rgb: [number, number, number];
}

/**
 * Reads the screenshot at the centres of image pixels of the current slice, on a grid of
 * at most about maxSamples points. With the image magnified, the rendered value at a
 * pixel centre is that pixel's own value (linear interpolation is exact there). Points
 * under the overlay's text are left out.
 */
export async function sampleImagePixels(page: Page, shot: Screenshot, columns: number, rows: number, maxSamples = 16_384): Promise<SampledImage> {
  const step = Math.max(1, Math.ceil(Math.sqrt((columns * rows) / maxSamples)));
  const grid: Array<[number, number]> = [];
  for (let row = 0; row < rows; row += step) for (let column = 0; column < columns; column += step) grid.push([column, row]);
  const { points, textBoxes, unit } = await page.evaluate((cells) => {
    const hook = (globalThis as MrTestGlobal).__mrTest;
    if (!hook) throw new Error('window.__mrTest is not installed');
    // The overlay's text is drawn over the image: those pixels are not the image's.
    const doc = (globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<{ getBoundingClientRect(): { left: number; top: number; right: number; bottom: number } }> } }).document;
    const boxes = [...doc.querySelectorAll('.viewport-overlay .overlay-line, .viewport-overlay .overlay-message')].map((element) => {
      const { left, top, right, bottom } = element.getBoundingClientRect();
      return { left: left - 3, top: top - 3, right: right + 3, bottom: bottom + 3 };
    });
    const [a, b] = [hook.imagePointToPage(0, 0), hook.imagePointToPage(1, 0)];
    const unit = a && b ? Math.hypot(b.x - a.x, b.y - a.y) : Number.NaN;
    return { points: cells.map(([column, row]) => hook.imagePointToPage(column, row)), textBoxes: boxes, unit };
  }, grid);
  const underText = (point: { x: number; y: number }) => textBoxes.some((box) => point.x >= box.left && point.x <= box.right && point.y >= box.top && point.y <= box.bottom);
  const samples = grid.flatMap(([column, row], i) => {
    const point = points[i];
    if (!point) throw new Error(`image pixel (${column}, ${row}) has no page position`);
    if (underText(point)) return [];
    const x = Math.round(point.x - 0.5 - shot.origin.x);
    const y = Math.round(point.y - 0.5 - shot.origin.y);
    if (x < 0 || y < 0 || x >= shot.image.width || y >= shot.image.height) {
      throw new Error(`image pixel (${column}, ${row}) lies outside the screenshot at (${x}, ${y})`);
    }
    const offset = (y * shot.image.width + x) * 4;
    const rgba = shot.image.rgba;
    return [{ column, row, rgb: [rgba[offset] ?? 0, rgba[offset + 1] ?? 0, rgba[offset + 2] ?? 0] as [number, number, number] }];
  });
  return { samples, magnification: unit };
}
