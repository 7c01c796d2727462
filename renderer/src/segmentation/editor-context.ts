// What the segment editor's views share: the current document, the host, the viewer
// and overlay, and the editor's messages. The views read the model and call its
// methods; the editor redraws them on every change.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SeriesDetail } from '../../../electron/common/dicom-model.ts';
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import type { Target } from './effect-grid.ts';
import type { EffectsWorkerClient } from './effects-worker-client.ts';
import type { OverlayTool, SegmentOverlay } from './segment-overlay.ts';
import type { SegmentationModel } from './segmentation-model.ts';

export type EditorContext = {
  host: HostApi;
  viewer: StackViewer;
  overlay: SegmentOverlay;
  model(): SegmentationModel | null;
  detail(): SeriesDetail | null;
  /** The series' values in modality units, labelmap layout (loaded on first use). */
  intensities(): Promise<Float32Array>;
  /** Runs effects and statistics off the page's thread. */
  effects: EffectsWorkerClient;
  /** The active segment as an effect's target, or null (after saying why) when there is none or it is locked. */
  target(model: SegmentationModel): Target | null;
  setTool(tool: OverlayTool): void;
  tool(): OverlayTool;
  report(text: string, kind?: 'info' | 'error'): void;
  /** Marks the editor busy while work runs (tests wait for it). */
  track<T>(work: Promise<T>): Promise<T>;
  refresh(): void;
  afterExport(path: string): Promise<void>;
  restore(sessionId: string): Promise<void>;
};
