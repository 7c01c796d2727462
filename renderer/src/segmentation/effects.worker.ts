// The effects worker: runs the Segment Editor's effects, statistics and 3D surfaces on a copy of the
// labelmap off the page's thread, so a margin on a 512×512×500 volume never freezes the
// viewer. One job at a time, in arrival order; cancel is the page terminating it.
import { runEffectJob } from './effect-job.ts';
import type { FromEffectsWorker, ToEffectsWorker } from './effects-protocol.ts';
import { segmentStatistics } from './segment-statistics.ts';
import { segmentSurfaces } from './segment-surface.ts';

type WorkerScope = {
  onmessage: ((event: MessageEvent<ToEffectsWorker>) => void) | null;
  postMessage(message: FromEffectsWorker, transfer?: Transferable[]): void;
};
const scope = self as unknown as WorkerScope;
let intensities: { key: string; values: Float32Array } | null = null;

function valuesFor(key: string | null): Float32Array | null {
  if (key === null) return null;
  if (intensities?.key !== key) throw new Error(`the worker holds no image values for ${key}`);
  return intensities.values;
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'intensities') {
    intensities = { key: message.key, values: message.values };
    return;
  }
  const started = performance.now();
  try {
    if (message.type === 'effect') {
      // Progress at most every 50 ms: each message costs the page a task.
      let lastSent = 0;
      const change = runEffectJob(message.job, message.labelmap, message.grid, message.target, valuesFor(message.intensitiesKey), (fraction) => {
        const now = performance.now();
        if (now - lastSent < 50 && fraction < 1) return;
        lastSent = now;
        scope.postMessage({ type: 'progress', id: message.id, fraction });
      });
      scope.postMessage({ type: 'effect-done', id: message.id, change, workerMs: performance.now() - started }, change ? [change.after.buffer as ArrayBuffer] : []);
    } else if (message.type === 'surfaces') {
      const surfaces = segmentSurfaces(message.labelmap, message.grid, message.segments, message.geometry);
      const buffers = surfaces.flatMap((surface) => [surface.points.buffer as ArrayBuffer, surface.polys.buffer as ArrayBuffer]);
      scope.postMessage({ type: 'surfaces-done', id: message.id, surfaces, workerMs: performance.now() - started }, buffers);
    } else {
      const statistics = segmentStatistics(message.labelmap, message.grid, message.segments, valuesFor(message.intensitiesKey));
      scope.postMessage({ type: 'statistics-done', id: message.id, statistics, workerMs: performance.now() - started });
    }
  } catch (error) {
    scope.postMessage({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) });
  }
};
