// The worker-based import on a big folder: progress arrives while it runs (throttled),
// the main thread stays responsive, and cancelling stops it quickly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ImportProgressUpdate } from '../../electron/host/dicom/import-types.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { siblingWorkerUrl } from '../../electron/host/worker-url.ts';
import { ctSlice, makeTempDir, writeDicom } from './fixtures-dicom.ts';

const FILE_COUNT = 2000;
const tmp = makeTempDir('import');
const folder = join(tmp.path, 'big');

beforeAll(() => {
  // 20 sub-folders of 100 slices: 20 series, so grouping has real work to do.
  for (let s = 0; s < 20; s++) {
    const dir = join(folder, `series-${s}`);
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < FILE_COUNT / 20; k++) {
      writeDicom(
        join(dir, `slice-${k}.dcm`),
        ctSlice({ seriesUid: `1.2.826.0.1.3680043.8.498.77.${s}`, sopUid: `1.2.826.0.1.3680043.8.498.77.${s}.${k}`, instanceNumber: k + 1, position: [0, 0, k * 1.25], orientation: [1, 0, 0, 0, 1, 0] }),
      );
    }
  }
});
afterAll(() => tmp.remove());

describe('import of 2,000 files', () => {
  test('progress arrives in phase order, at most ~10 a second, while the main thread keeps running', async () => {
    const events: { at: number; update: ImportProgressUpdate }[] = [];
    let ticks = 0;
    let longestGap = 0;
    let lastTick = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - lastTick);
      lastTick = now;
      ticks++;
    }, 10);
    const started = performance.now();
    const outcome = await importDicom({ paths: [folder], onProgress: (update) => events.push({ at: performance.now(), update }) });
    const duration = performance.now() - started;
    clearInterval(timer);

    expect(outcome.cancelled).toBe(false);
    expect(outcome.files).toHaveLength(FILE_COUNT);
    expect(outcome.files.every((f) => f.outcome === 'instance')).toBe(true);
    expect(outcome.series).toHaveLength(20);

    const phases = events.map((e) => e.update.phase);
    const order = ['scan', 'parse', 'group'];
    expect(phases.map((p) => order.indexOf(p))).toEqual([...phases.map((p) => order.indexOf(p))].sort((a, b) => a - b));
    // 'done' is the caller's to send, after merging the outcome into its index.
    expect(new Set(phases)).toEqual(new Set(order));
    expect(events.at(-1)?.update).toEqual({ phase: 'group', done: FILE_COUNT, total: FILE_COUNT, problems: 0 });
    const done = events.map((e) => e.update.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // Progress during parsing, not only at the end.
    expect(events.some((e) => e.update.phase === 'parse' && e.update.done > 0 && e.update.done < FILE_COUNT)).toBe(true);
    // Throttled: about 10 a second plus one per phase change.
    expect(events.length).toBeLessThanOrEqual(Math.ceil(duration / 100) + order.length + 2);
    // The main thread was never blocked for long (timers kept firing).
    expect(ticks).toBeGreaterThan(duration / 10 / 4);
    expect(longestGap).toBeLessThan(400);
  });

  test('cancelling stops the import quickly and resolves with what was read so far', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const outcome = await importDicom({
      paths: [folder],
      signal: controller.signal,
      onProgress: (update) => {
        if (!abortedAt && update.done >= 20) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const stoppedAfter = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(outcome.cancelled).toBe(true);
    expect(stoppedAfter).toBeLessThan(1000);
    expect(outcome.files.length).toBeGreaterThanOrEqual(20);
    expect(outcome.files.length).toBeLessThan(FILE_COUNT);
    // What was read is indexed and consistent.
    expect(outcome.records).toHaveLength(outcome.files.length);
    expect(outcome.series.reduce((n, s) => n + s.summary.sliceCount, 0)).toBe(outcome.files.length);
  });

  test('an already aborted signal resolves at once without starting', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await importDicom({ paths: [folder], signal: controller.signal });
    expect(outcome).toMatchObject({ cancelled: true, files: [], records: [], series: [] });
  });
});

describe('worker location', () => {
  test('the worker file takes the extension of the module that starts it (.ts from source, .js when bundled)', () => {
    expect(siblingWorkerUrl('import-worker', 'file:///app/host/dicom/importer.ts').href).toBe('file:///app/host/dicom/import-worker.ts');
    expect(siblingWorkerUrl('import-worker', 'file:///app/dist/importer.js').href).toBe('file:///app/dist/import-worker.js');
    expect(siblingWorkerUrl('import-worker', 'file:///app/dist/main.mjs').href).toBe('file:///app/dist/import-worker.mjs');
  });
});
