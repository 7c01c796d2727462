// The page's side of the effects worker: sends a job with a copy of the labelmap taken
// at the document's current revision, passes progress on, and resolves with the changed
// slices for SegmentationModel.applySlices. Cancel terminates the worker (an effect is
// one tight loop: a message would only be read after it ended) and the next job starts
// a fresh one.
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

type Pending = {
  resolve(message: FromEffectsWorker): void;
  reject(error: Error): void;
  onProgress?: (fraction: number) => void;
};

export class EffectsWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The series whose image values the running worker holds. */
  private valuesKey: string | null = null;
  private readonly createWorker: () => Worker;

  constructor(createWorker: () => Worker = () => new Worker(new URL('./effects.worker.ts', import.meta.url), { type: 'module', name: 'segment-effects' })) {
    this.createWorker = createWorker;
  }

  get running(): boolean {
    return this.pending.size > 0;
  }

  async runEffect(job: EffectJob, source: { labelmap: Uint8Array; revision: number; grid: Grid }, target: JobTarget, values: SeriesValues | null, onProgress?: (fraction: number) => void): Promise<EffectOutcome> {
    const copyStart = performance.now();
    const labelmap = source.labelmap.slice();
    const copyMs = performance.now() - copyStart;
    const intensitiesKey = this.ensureValues(values);
    const { id, done } = this.expect(onProgress);
    this.post({ type: 'effect', id, job, grid: plainGrid(source.grid), target, labelmap, intensitiesKey }, [labelmap.buffer as ArrayBuffer]);
    const message = await done;
    if (message.type !== 'effect-done') throw new Error(`the effects worker answered ${message.type} to an effect`);
    return { change: message.change, revision: source.revision, workerMs: message.workerMs, copyMs };
  }

  async statistics(labelmap: Uint8Array, grid: Grid, segments: number[], values: SeriesValues | null): Promise<SegmentStatistics[]> {
    const copy = labelmap.slice();
    const intensitiesKey = this.ensureValues(values);
    const { id, done } = this.expect();
    this.post({ type: 'statistics', id, grid: plainGrid(grid), segments, labelmap: copy, intensitiesKey }, [copy.buffer as ArrayBuffer]);
    const message = await done;
    if (message.type !== 'statistics-done') throw new Error(`the effects worker answered ${message.type} to statistics`);
    return message.statistics;
  }

  /** The segments' surfaces for the 3D pane (marching cubes), vertices in patient mm. */
  async surfaces(labelmap: Uint8Array, grid: Grid, segments: number[], geometry: SurfaceGeometry): Promise<SegmentSurface[]> {
    const copy = labelmap.slice();
    const { id, done } = this.expect();
    this.post({ type: 'surfaces', id, grid: plainGrid(grid), segments, labelmap: copy, geometry }, [copy.buffer as ArrayBuffer]);
    const message = await done;
    if (message.type !== 'surfaces-done') throw new Error(`the effects worker answered ${message.type} to surfaces`);
    return message.surfaces;
  }

  /** Stops whatever runs: every pending job rejects with EffectCancelledError. */
  cancel(): void {
    this.stop(new EffectCancelledError());
  }

  dispose(): void {
    this.cancel();
  }

  private ensureValues(values: SeriesValues | null): string | null {
    if (!values) return null;
    if (this.valuesKey !== values.key) {
      // The worker keeps its own copy: the page's stays with the threshold preview.
      const copy = values.values.slice();
      this.post({ type: 'intensities', key: values.key, values: copy }, [copy.buffer as ArrayBuffer]);
      this.valuesKey = values.key;
    }
    return values.key;
  }

  private expect(onProgress?: (fraction: number) => void): { id: number; done: Promise<FromEffectsWorker> } {
    const id = this.nextId++;
    const done = new Promise<FromEffectsWorker>((resolve, reject) => this.pending.set(id, { resolve, reject, onProgress }));
    return { id, done };
  }

  private post(message: ToEffectsWorker, transfer: Transferable[]): void {
    this.ensureWorker().postMessage(message, transfer);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = this.createWorker();
    worker.onmessage = (event: MessageEvent<FromEffectsWorker>) => this.receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.stop(new Error(`the effects worker failed: ${event.message || 'it could not start'}`));
    };
    this.worker = worker;
    this.valuesKey = null;
    return worker;
  }

  private receive(message: FromEffectsWorker): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.type === 'progress') {
      entry.onProgress?.(message.fraction);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'failed') entry.reject(new Error(message.message));
    else entry.resolve(message);
  }

  private stop(reason: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.valuesKey = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reject(reason);
  }
}

/** The model is a Grid too, but a class instance with a labelmap: send only what the worker reads. */
function plainGrid(grid: Grid): Grid {
  return { dims: { ...grid.dims }, spacing: { ...grid.spacing } };
}
