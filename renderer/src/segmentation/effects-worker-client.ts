// The page's side of the effects worker: sends a job with a copy of the labelmap taken
// at the document's current revision, passes progress on, and resolves with the changed
// slices for SegmentationModel.applySlices. Cancel terminates the worker (an effect is
// one tight loop: a message would only be read after it ended) and the next job starts
// a fresh one.
import { WorkerRpc, type ReplyMeaning } from '../../../electron/common/worker-rpc.ts';
import { domWorkerPort } from '../dom-worker-port.ts';
import type { Grid } from './effect-grid.ts';
import type { EffectJob, JobTarget, SliceChange } from './effect-job.ts';
import type { FromEffectsWorker, ToEffectsWorker } from './effects-protocol.ts';
import type { SegmentStatistics } from './segment-statistics.ts';
import type { SegmentSurface, SurfaceGeometry } from './segment-surface.ts';

export type SeriesValues = { key: string; values: Float32Array };

export type EffectOutcome = {
  change: SliceChange | null;
  /** The document revision the labelmap was copied at (applySlices checks it). */
  revision: number;
  workerMs: number;
  /** Page time spent copying the labelmap out (the only work the effect leaves on the page before applying). */
  copyMs: number;
};

export class EffectCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'EffectCancelledError';
  }
}

type EffectsRpc = {
  request: Extract<ToEffectsWorker, { id: number }>;
  reply: FromEffectsWorker;
  result: Exclude<FromEffectsWorker, { type: 'progress' | 'failed' }>;
  progress: number;
  transfer: Transferable;
};

export class EffectsWorkerClient {
  private readonly rpc: WorkerRpc<EffectsRpc>;
  /** The series whose image values the running worker holds. */
  private valuesKey: string | null = null;

  constructor(createWorker: () => Worker = () => new Worker(new URL('./effects.worker.ts', import.meta.url), { type: 'module', name: 'segment-effects' })) {
    this.rpc = new WorkerRpc<EffectsRpc>({
      name: 'effects worker',
      start: () => domWorkerPort(createWorker()),
      read: readReply,
      afterFailure: 'restart',
      onWorkerGone: () => {
        this.valuesKey = null;
      },
    });
  }

  get running(): boolean {
    return this.rpc.busy;
  }

  async runEffect(job: EffectJob, source: { labelmap: Uint8Array; revision: number; grid: Grid }, target: JobTarget, values: SeriesValues | null, onProgress?: (fraction: number) => void): Promise<EffectOutcome> {
    const copyStart = performance.now();
    const labelmap = source.labelmap.slice();
    const copyMs = performance.now() - copyStart;
    const intensitiesKey = this.ensureValues(values);
    const message = await this.rpc.request((id) => ({ type: 'effect', id, job, grid: plainGrid(source.grid), target, labelmap, intensitiesKey }), { transfer: [labelmap.buffer as ArrayBuffer], onProgress });
    if (message.type !== 'effect-done') throw new Error(`the effects worker answered ${message.type} to an effect`);
    return { change: message.change, revision: source.revision, workerMs: message.workerMs, copyMs };
  }

  async statistics(labelmap: Uint8Array, grid: Grid, segments: number[], values: SeriesValues | null): Promise<SegmentStatistics[]> {
    const copy = labelmap.slice();
    const intensitiesKey = this.ensureValues(values);
    const message = await this.rpc.request((id) => ({ type: 'statistics', id, grid: plainGrid(grid), segments, labelmap: copy, intensitiesKey }), { transfer: [copy.buffer as ArrayBuffer] });
    if (message.type !== 'statistics-done') throw new Error(`the effects worker answered ${message.type} to statistics`);
    return message.statistics;
  }

  /** The segments' surfaces for the 3D pane (marching cubes), vertices in patient mm. */
  async surfaces(labelmap: Uint8Array, grid: Grid, segments: number[], geometry: SurfaceGeometry): Promise<SegmentSurface[]> {
    const copy = labelmap.slice();
    const message = await this.rpc.request((id) => ({ type: 'surfaces', id, grid: plainGrid(grid), segments, labelmap: copy, geometry }), { transfer: [copy.buffer as ArrayBuffer] });
    if (message.type !== 'surfaces-done') throw new Error(`the effects worker answered ${message.type} to surfaces`);
    return message.surfaces;
  }

  /** Stops whatever runs: every pending job rejects with EffectCancelledError. */
  cancel(): void {
    this.rpc.stop(new EffectCancelledError());
  }

  dispose(): void {
    this.cancel();
  }

  private ensureValues(values: SeriesValues | null): string | null {
    if (!values) return null;
    if (this.valuesKey !== values.key) {
      // The worker keeps its own copy: the page's stays with the threshold preview.
      const copy = values.values.slice();
      this.rpc.post({ type: 'intensities', key: values.key, values: copy } satisfies ToEffectsWorker, [copy.buffer as ArrayBuffer]);
      this.valuesKey = values.key;
    }
    return values.key;
  }
}

function readReply(message: FromEffectsWorker): ReplyMeaning<EffectsRpc> {
  if (message.type === 'progress') return { id: message.id, kind: 'progress', progress: message.fraction };
  if (message.type === 'failed') return { id: message.id, kind: 'error', error: new Error(message.message) };
  return { id: message.id, kind: 'result', result: message };
}

/** The model is a Grid too, but a class instance with a labelmap: send only what the worker reads. */
function plainGrid(grid: Grid): Grid {
  return { dims: { ...grid.dims }, spacing: { ...grid.spacing } };
}
