// The messages between the page and the effects worker (effects.worker.ts). The
// labelmap travels as a transferred copy: the page is not cross-origin isolated
// (no COEP), so a SharedArrayBuffer is not available, and a copy taken at one
// revision is also what makes a result safe to apply atomically.
import type { Grid } from './effect-grid.ts';
import type { EffectJob, JobTarget, SliceChange } from './effect-job.ts';
import type { SegmentStatistics } from './segment-statistics.ts';
import type { SegmentSurface, SurfaceGeometry } from './segment-surface.ts';

export type ToEffectsWorker =
  /** The series' image values, kept by the worker under `key` until replaced. */
  | { type: 'intensities'; key: string; values: Float32Array }
  | { type: 'effect'; id: number; job: EffectJob; grid: Grid; target: JobTarget; labelmap: Uint8Array; intensitiesKey: string | null }
  | { type: 'statistics'; id: number; grid: Grid; segments: number[]; labelmap: Uint8Array; intensitiesKey: string | null }
  | { type: 'surfaces'; id: number; grid: Grid; segments: number[]; labelmap: Uint8Array; geometry: SurfaceGeometry };

export type FromEffectsWorker =
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'effect-done'; id: number; change: SliceChange | null; workerMs: number }
  | { type: 'statistics-done'; id: number; statistics: SegmentStatistics[]; workerMs: number }
  | { type: 'surfaces-done'; id: number; surfaces: SegmentSurface[]; workerMs: number }
  | { type: 'failed'; id: number; message: string };
