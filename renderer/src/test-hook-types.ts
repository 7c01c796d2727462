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
};

/** How page scripts in tests reach the hook: `(globalThis as MrTestGlobal).__mrTest`. */
export type MrTestGlobal = { __mrTest?: MrTestHook };
