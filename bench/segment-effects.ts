// Segment effects on a 512×512×200 labelmap: what they cost the thread that shows the
// page, before (the effect ran inside SegmentationModel.edit on the page's thread) and
// now (the page copies the labelmap out, the effects worker runs the job, the page
// applies the changed slices with SegmentationModel.applySlices). The worker is a Node
// worker_thread here running the same job code as the renderer's module worker; the
// main thread's worst stall while it runs is measured with a 5 ms timer, Node's stand-in
// for the browser's long tasks (the browser's own figure on the sample comes from the
// e2e test, test/e2e/segment-effects-worker.test.ts, which prints it).
//   node bench/segment-effects.ts [--size 512x512x200] [--runs 2]
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Grid } from '../renderer/src/segmentation/effect-grid.ts';
import { runEffectJob, type EffectJob, type SliceChange } from '../renderer/src/segmentation/effect-job.ts';
import { islands } from '../renderer/src/segmentation/segment-effects.ts';
import { margin, smooth } from '../renderer/src/segmentation/segment-morphology.ts';
import { segmentStatistics } from '../renderer/src/segmentation/segment-statistics.ts';
import { SegmentationModel } from '../renderer/src/segmentation/segmentation-model.ts';

type WorkerRequest = { job: EffectJob | 'statistics'; labelmap: Uint8Array; grid: Grid };
type WorkerReply = { change: SliceChange | null; workerMs: number };

if (!isMainThread) {
  const { job, labelmap, grid } = workerData as WorkerRequest;
  const start = performance.now();
  if (job === 'statistics') {
    segmentStatistics(labelmap, grid, [1]);
    parentPort!.postMessage({ change: null, workerMs: performance.now() - start } satisfies WorkerReply);
  } else {
    const change = runEffectJob(job, labelmap, grid, { segment: 1, locked: [] }, null);
    const reply: WorkerReply = { change, workerMs: performance.now() - start };
    parentPort!.postMessage(reply, change ? [change.after.buffer as ArrayBuffer] : []);
  }
} else {
  await main();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1]! : fallback;
  };
  const [columns, rows, slices] = option('size', '512x512x200').split('x').map(Number) as [number, number, number];
  const runs = Number(option('runs', '2'));
  const dims = { columns, rows, slices };
  const spacing = { column: 0.703125, row: 0.703125, slice: 1.25 };
  const grid: Grid = { dims, spacing };
  const source = phantomBones(dims);
  const filled = source.reduce((n, v) => n + v, 0);
  console.log(`labelmap ${columns}×${rows}×${slices} (${((columns * rows * slices) / 1e6).toFixed(1)} M voxels), segment 1 holds ${(filled / 1e6).toFixed(2)} M voxels; best of ${runs} runs\n`);

  const cases: Array<{ name: string; job: EffectJob | 'statistics'; direct: (model: SegmentationModel) => void }> = [
    { name: 'margin +3 mm (3D)', job: { kind: 'margin', marginMm: 3, dimensionality: '3d' }, direct: (m) => void m.edit('x', (lm) => margin(lm, grid, 3, '3d', { segment: 1, locked: new Set() })) },
    { name: 'closing 3 mm (3D)', job: { kind: 'smoothing', method: 'closing', kernelMm: 3, dimensionality: '3d' }, direct: (m) => void m.edit('x', (lm) => smooth(lm, grid, 'closing', 3, '3d', { segment: 1, locked: new Set() })) },
    { name: 'median 3 mm (3D)', job: { kind: 'smoothing', method: 'median', kernelMm: 3, dimensionality: '3d' }, direct: (m) => void m.edit('x', (lm) => smooth(lm, grid, 'median', 3, '3d', { segment: 1, locked: new Set() })) },
    { name: 'keep largest island', job: { kind: 'islands', options: { mode: 'keep-largest' } }, direct: (m) => void m.edit('x', (lm) => void islands(lm, grid, { mode: 'keep-largest' }, { segment: 1, locked: new Set() })) },
    { name: 'statistics (counts)', job: 'statistics', direct: (m) => void segmentStatistics(m.labelmap, m, [1]) },
  ];

  const rowsOut: string[][] = [['effect', 'page before (ms)', 'worker (ms)', 'page copy (ms)', 'page apply (ms)', 'worst stall while it runs (ms)', 'page after (ms)', 'before / after']];
  for (const entry of cases) {
    let before = Infinity;
    let best = { workerMs: Infinity, copyMs: Infinity, applyMs: Infinity, stallMs: Infinity };
    for (let run = 0; run < runs; run++) {
      const model = new SegmentationModel('bench', dims, spacing, source.slice());
      const start = performance.now();
      entry.direct(model);
      before = Math.min(before, performance.now() - start);

      const fresh = new SegmentationModel('bench', dims, spacing, source.slice());
      const copyStart = performance.now();
      const copy = fresh.labelmap.slice();
      const copyMs = performance.now() - copyStart;
      const { reply, stallMs } = await inWorker({ job: entry.job, labelmap: copy, grid: { dims, spacing } });
      const applyStart = performance.now();
      if (reply.change) fresh.applySlices('x', reply.change, fresh.changeRevision);
      const applyMs = performance.now() - applyStart;
      if (copyMs + applyMs < best.copyMs + best.applyMs) best = { workerMs: reply.workerMs, copyMs, applyMs, stallMs };
    }
    const after = best.copyMs + best.applyMs + best.stallMs;
    rowsOut.push([entry.name, before.toFixed(0), best.workerMs.toFixed(0), best.copyMs.toFixed(1), best.applyMs.toFixed(1), best.stallMs.toFixed(1), after.toFixed(1), `${(before / after).toFixed(0)}×`]);
  }
  console.log(markdown(rowsOut));
  console.log('\npage after = copy + apply + the worst stall of the main thread while the worker ran (transfer and message handling).');
}

/** Runs one job in a worker thread while a 5 ms timer on this thread records its worst lateness. */
function inWorker(request: WorkerRequest): Promise<{ reply: WorkerReply; stallMs: number }> {
  return new Promise((resolve, reject) => {
    let last = performance.now();
    let stallMs = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - last - 5);
      last = now;
    }, 5);
    const worker = new Worker(new URL(import.meta.url), { workerData: request, transferList: [request.labelmap.buffer as ArrayBuffer] });
    worker.once('message', (reply: WorkerReply) => {
      clearInterval(probe);
      void worker.terminate();
      resolve({ reply, stallMs: Math.max(0, stallMs) });
    });
    worker.once('error', (error) => {
      clearInterval(probe);
      reject(error);
    });
  });
}

/** A ribcage-like shell, a spine and loose fragments: big, thin and many-island, as bone thresholds are. */
function phantomBones(dims: { columns: number; rows: number; slices: number }): Uint8Array {
  const { columns, rows, slices } = dims;
  const out = new Uint8Array(columns * rows * slices);
  const cx = columns / 2;
  const cy = rows / 2;
  for (let s = 0; s < slices; s++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const x = (c - cx) / (columns * 0.42);
        const y = (r - cy) / (rows * 0.32);
        const radius = Math.hypot(x, y);
        const rib = radius > 0.9 && radius < 0.96 && Math.sin(s / 6) > -0.2;
        const spine = Math.hypot(c - cx, r - rows * 0.75) < columns * 0.04;
        const fragment = (c * 7 + r * 13 + s * 29) % 997 === 0;
        if (rib || spine || fragment) out[(s * rows + r) * columns + c] = 1;
      }
    }
  }
  return out;
}

function markdown(table: string[][]): string {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(table[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)].join('\n');
}
