// Types shared by the renderer and the e2e tests (which type-check without the DOM
// library, so this file names no DOM or Cornerstone type).

export type ViewerState = {
  seriesKey: string | null;
  patientName: string;
  seriesDescription: string;
  modality: string;
  /** 0-based position in the series' slice order (dicom.series); the overlay shows it 1-based. */
  imageIndex: number;
  imageCount: number;
  windowCenter: number | null;
  windowWidth: number | null;
  /** The image id of the current slice, and of the last one Cornerstone finished drawing. */
  imageId: string | null;
  renderedImageId: string | null;
  /** Grows with every frame Cornerstone draws: lets a test wait until drawing has settled. */
  renderCount: number;
  error: string | null;
  /** performance.now() in the page when the series' first image was drawn (bench/viewer-load.ts times the first image by it). */
  firstRenderedAt?: number | null;
};

export type AppPhase = 'starting' | 'ready' | 'failed';

/**
 * window.__mrTest: a read-only window into the viewer for the end-to-end tests. It
 * reports what the DOM cannot show exactly (which image was last drawn) and maps image
 * pixels to page coordinates so tests find anatomy on screen from the sample's ground
 * truth; pixels themselves are judged from screenshots, never from here.
 */
export type MrTestHook = {
  /** 'ready' once the host is connected, Cornerstone is up and the first study list is shown. */
  appPhase(): AppPhase;
  viewportState(): ViewerState;
  /** Page (CSS pixel) coordinates of the centre of image pixel (column, row) of the current slice. */
  imagePointToPage(column: number, row: number): { x: number; y: number } | null;
  /** The measurements of the 1×1 stack view, with their statistics (the panel shows them rounded). */
  stackMeasurements?(): MeasurementReport[];
  /** The file loaded both ways (worker and dicom-image-loader's own), for the decode-path test. */
  decodePaths?(fileKey: string, asked: { targetType: 'Uint8Array' | 'Int8Array' | 'Uint16Array' | 'Int16Array' | 'Uint32Array' | 'Float32Array' | null; preScale: boolean }): Promise<DecodePathsReport>;
  /** The volume panes (added for the viewer tests); absent in builds before them. */
  volume?: VolumeTestHook;
  /** The segment editor's document (added with it). */
  segmentation?: SegmentationTestHook;
  /** The ask panel (question, answer, refinement, teaching). */
  ask?: AskTestHook;
};

/** How page scripts in tests reach the hook: `(globalThis as MrTestGlobal).__mrTest`. */
export type MrTestGlobal = { __mrTest?: MrTestHook };

/** The volume panes (layouts 1×2, 1×3, 2×2): load progress, crosshair centre, window. */
export type VolumeViewState = {
  layout: '1x1' | '1x2' | '1x3' | '2x2';
  seriesKey: string | null;
  volumeId: string | null;
  /** Slices streamed into the volume so far, of totalFrames. */
  framesLoaded: number;
  totalFrames: number;
  loaded: boolean;
  error: string | null;
  /** Where the crosshair lines cross, in patient coordinates (mm). */
  crosshairCenter: [number, number, number] | null;
  windowCenter: number | null;
  windowWidth: number | null;
  /** Grows with every frame a pane draws. */
  renderCount: number;
  maximized: 'axial' | 'sagittal' | 'coronal' | 'volume3d' | null;
  primaryTool: string;
  volumePreset: string;
  /** performance.now() in the page when the volume's first slices, and all of them, had arrived (for bench/viewer-load.ts). */
  firstFramesAt?: number | null;
  loadedAt?: number | null;
  /** The planes' thick slab (viewer/slab.ts): 'off', 'mip', 'minip' or 'average', and its thickness in mm (0 shows the plain slice). */
  slabMode: 'off' | 'mip' | 'minip' | 'average';
  slabThickness: number;
};

/** One measurement annotation: its numeric statistics (length, mean, stdDev, area…) and their units. */
export type MeasurementReport = { annotationUID: string; toolName: string; stats: Record<string, number>; units: Record<string, string> };

/** window.__mrTest.volume: the volume panes, for the viewer e2e tests. */
export type VolumeTestHook = {
  state(): VolumeViewState;
  /** Page coordinates of a patient-space point projected onto a pane; null when the pane is hidden. */
  worldToPage(pane: 'axial' | 'sagittal' | 'coronal' | 'volume3d', world: [number, number, number]): { x: number; y: number } | null;
  /** The centre of the slice a plane shows (its camera focal point), in patient mm. */
  paneFocalPoint(pane: 'axial' | 'sagittal' | 'coronal'): [number, number, number] | null;
  measurements(): MeasurementReport[];
  /** The 0-based slice index a plane shows, in the volume's index order; null when the pane is hidden. */
  paneSliceIndex(pane: 'axial' | 'sagittal' | 'coronal'): number | null;
  /** Ids of the volumes in Cornerstone's cache: a cancelled load leaves none behind. */
  cachedVolumeIds(): string[];
};

/** One segment as the segment editor's test hook reports it. */
export type SegmentTestState = {
  number: number;
  label: string;
  source: 'manual' | 'ai' | 'ai-edited' | 'interactive';
  /** The segment's type CodeValue (SNOMED CT for the pick list's terms). */
  typeCode: string;
  visible: boolean;
  locked: boolean;
  color: [number, number, number];
  /** Voxels of this segment in the whole labelmap. */
  voxels: number;
};

export type SegmentationTestState = {
  seriesKey: string | null;
  dims: { columns: number; rows: number; slices: number } | null;
  segments: SegmentTestState[];
  activeSegment: number | null;
  canUndo: boolean;
  canRedo: boolean;
  /** The mouse tool: 'paint', 'erase', 'scissors' or 'none'. */
  tool: string;
  /** What draws the labelmap on the stack viewport: Cornerstone3D's segmentation rendering or the editor's canvas. */
  labelmapRenderer: 'cornerstone' | 'canvas';
  /** True while the editor waits for the host or reads image values. */
  busy: boolean;
  message: { text: string; kind: 'info' | 'error' } | null;
  lastExportPath: string | null;
  autosaveSessionId: string | null;
  /** The effect running in the effects worker and how the last one ended. */
  effect?: EffectTestState;
  /** The segments' surfaces in the 3D pane: how many, their triangles, rebuilds so far, and whether one is due. */
  surfaces?: { segments: number; triangles: number; builds: number; pending: boolean };
  /** The last stroke committed from the planes: its undo label, the slices and voxels compared, voxels changed and refused. */
  planeStroke?: PlaneStrokeReport | null;
};

export type PlaneStrokeReport = { label: string; firstSlice: number | null; lastSlice: number | null; compared: number; changed: number; rejected: number };

/** How one effect run in the worker ended, with where its time went (ms; null when it did not finish). */
export type EffectRunReport = {
  label: string;
  outcome: 'applied' | 'unchanged' | 'cancelled' | 'stale' | 'failed';
  progressEvents: number;
  workerMs: number | null;
  copyMs: number | null;
  applyMs: number | null;
};

export type EffectTestState = {
  running: { label: string; progress: number | null; progressEvents: number } | null;
  last: EffectRunReport | null;
};

/** window.__mrTest.segmentation: the labelmap being edited, counted exactly. */
export type SegmentationTestHook = {
  state(): SegmentationTestState;
  /** Voxels of each segment (by number) on one slice (series slice order). */
  sliceCounts(slice: number): Record<number, number>;
  /** [column, row] of every voxel of a segment on one slice. */
  segmentVoxelsOnSlice(segment: number, slice: number): Array<[number, number]>;
  /** The whole labelmap (one byte a voxel, x fastest, series slice order) in base64; null with no series. */
  labelmapBase64?(): string | null;
  /** The labelmap's value (segment number, 0 = none) at one voxel (series slice order); -1 outside or with no series. */
  labelAt?(column: number, row: number, slice: number): number;
  /**
   * Voxels where Cornerstone's labelmap images (what the panes show and the planes' tools
   * paint) differ from the document, over the whole series; null while they are not attached.
   */
  labelmapImageMismatches?(): number | null;
};

/** window.__mrTest.ask: what the ask panel holds, in image pixels of the answer's slice. */
export type AskTestHook = { state(): AskTestState };

export type AskTestState = {
  phase: 'idle' | 'running' | 'answered' | 'failed' | 'cancelled';
  /** Who takes the mouse over the image: nobody (the viewer's tools), the prompt editor, or the resident's drawing. */
  overlayMode: 'off' | 'refine' | 'draw' | 'brush';
  jobId: string | null;
  question: string | null;
  /** Characters of the reply streamed so far, and how many token events brought them. */
  streamedLength: number;
  tokenEvents: number;
  /** The answer's slice (0-based, slice order) and its parsed box and key points (slice pixels). */
  sliceIndex: number | null;
  answerBox: [number, number, number, number] | null;
  keyPoints: Array<[number, number]> | null;
  /** The prompts now in effect (after refinement). */
  prompts: { box: [number, number, number, number] | null; points: Array<{ x: number; y: number; label: 0 | 1 }> };
  /** Pixels in the previewed mask; null when there is none. */
  previewArea: number | null;
  /** Whether the segmentation document holds the same preview. */
  modelPreviewArea: number | null;
  segmentCalls: number;
  error: string | null;
  modelsMissing: string | null;
  history: Array<{ question: string; answer: string; time: string; model: string }>;
  teaching: {
    enabled: boolean;
    residentBox: [number, number, number, number] | null;
    /** The resident's painted answer: the slice, its size and the indices (row * width + column) of the painted pixels. */
    residentMask: { sliceIndex: number; width: number; height: number; pixels: number[] } | null;
    brushRadius: number;
    scores: Array<{ question: string; dice: number; iou: number; time: string }>;
  };
  segments: Array<{ number: number; label: string; color: [number, number, number]; type: string; provenance: { source: string; question?: string; reasoning?: string; answer?: string; models?: Array<{ name: string; version: string }>; prompts?: number } }>;
  propagation: { running: boolean; done: number; slices: number[] } | null;
};

/**
 * How a series opens (renderer/src/viewer/load-plan.ts): 'stack-first' (the default) or
 * 'volume-first', the loading before issue #18, which bench/viewer-load.ts selects by
 * starting the page with `globalThis.__mrLoadPlan = 'volume-first'` to measure both.
 */
export type LoadPlan = 'stack-first' | 'volume-first';
/**
 * `__mrFileBatches = false` keeps the image loader's own one-request-per-file XHRs instead of
 * file batches (cornerstone/batched-file-loader.ts): only so the benchmark measures both.
 */
export type MrLoadPlanGlobal = {
  __mrLoadPlan?: LoadPlan;
  __mrFileBatches?: boolean;
  /** false: the batches are fetched and split on the page and every file goes dicom-image-loader's own way (bench/viewer-load.ts's "before the worker"). */
  __mrSliceWorker?: boolean;
};

/** One image as a decode path made it (renderer/src/cornerstone/batched-file-loader.ts probeDecodePaths). */
export type ImageSummary = {
  dataType: string;
  length: number;
  sum: number;
  /** FNV-1a over every value (×1000, rounded): equal arrays give equal hashes. */
  hash: number;
  fields: Record<string, unknown>;
  preScale: unknown;
  plane: Record<string, unknown>;
  pixel: Record<string, unknown>;
};

/** A file loaded through the slice-batch worker and through dicom-image-loader's own path. */
export type DecodePathsReport = {
  /** 'decoded', or why the worker handed the file back ('handed back: …') or its result was not used ('disagrees: …'). */
  workerPath: string;
  worker: ImageSummary | null;
  loader: ImageSummary;
};
