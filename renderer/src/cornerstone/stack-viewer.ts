// The main view: one rendering engine holding one stack viewport, its tool group and
// the keyboard scroll. It reports what it shows (series, slice, window/level) to
// listeners, which draw the overlay and answer the e2e test hook.
import { cache, Enums, eventTarget, imageLoader, RenderingEngine, utilities } from '@cornerstonejs/core';
import { annotation, ToolGroupManager } from '@cornerstonejs/tools';
import type { Types } from '@cornerstonejs/core';
import { utilities as toolUtilities } from '@cornerstonejs/tools';
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SeriesDetail } from '../../../electron/common/dicom-model.ts';
import { imageIdsForSlices } from './image-ids.ts';
import { autoVoiRange } from '../viewer/auto-window.ts';
import { createStackToolGroup, setStackPrimaryTool } from './stack-tool-group.ts';
import type { MeasurementReport, ViewerState } from '../test-hook-types.ts';
import { measurementToolNames, type PrimaryToolId } from '../viewer/mpr-tool-groups.ts';
import { loadPlan } from '../viewer/load-plan.ts';

export type { ViewerState };

const RENDERING_ENGINE_ID = 'mr-main-engine';
const VIEWPORT_ID = 'mr-stack-viewport';
const TOOL_GROUP_ID = 'mr-stack-tools';
/** How long the background loads wait for the first slice to be drawn, at most. */
const FIRST_DRAW_WAIT_MS = 5_000;

const emptyState: ViewerState = {
  seriesKey: null,
  patientName: '',
  seriesDescription: '',
  modality: '',
  imageIndex: 0,
  imageCount: 0,
  windowCenter: null,
  windowWidth: null,
  imageId: null,
  renderedImageId: null,
  renderCount: 0,
  error: null,
  firstRenderedAt: null,
};

export class StackViewer {
  readonly element: HTMLDivElement;
  private readonly host: HostApi;
  private readonly renderingEngine: RenderingEngine;
  private readonly listeners = new Set<(state: ViewerState) => void>();
  private current: ViewerState = { ...emptyState };
  /** Guards against a slow setStack finishing after the user already chose another series. */
  private loadGeneration = 0;

  constructor(element: HTMLDivElement, host: HostApi) {
    this.element = element;
    this.host = host;
    this.renderingEngine = new RenderingEngine(RENDERING_ENGINE_ID);
    this.renderingEngine.enableElement({
      viewportId: VIEWPORT_ID,
      type: Enums.ViewportType.STACK,
      element,
      defaultOptions: { background: [0, 0, 0] },
    });
    createStackToolGroup(TOOL_GROUP_ID, VIEWPORT_ID, RENDERING_ENGINE_ID);

    // Right drag zooms: the browser's context menu would interrupt it.
    element.addEventListener('contextmenu', (event) => event.preventDefault());
    element.tabIndex = 0;
    element.addEventListener('keydown', (event) => this.handleKey(event));
    // With nothing focused the keys still page through the images, as in any viewer;
    // typing in the import field or pressing a button is left alone.
    document.addEventListener('keydown', (event) => {
      if (event.target === document.body) this.handleKey(event);
    });
    // Clicking into the image gives it the keyboard.
    element.addEventListener('pointerdown', () => element.focus({ preventScroll: true }));

    element.addEventListener(Enums.Events.STACK_NEW_IMAGE, ((event: Types.EventTypes.StackNewImageEvent) => {
      this.update({ imageIndex: event.detail.imageIdIndex, imageId: event.detail.imageId, error: null });
    }) as EventListener);
    // A slice that cannot be loaded does not reject setStack: Cornerstone reports it here.
    eventTarget.addEventListener(Enums.Events.IMAGE_LOAD_ERROR, ((event: CustomEvent<{ imageId?: string; error?: unknown }>) => {
      if (event.detail.imageId !== undefined && event.detail.imageId === this.current.imageId) {
        this.update({ error: describeLoadError(event.detail.error) });
      }
    }) as EventListener);
    element.addEventListener(Enums.Events.VOI_MODIFIED, () => this.update(this.readVoi()));
    element.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
      const viewport = this.viewport();
      const imageId = this.current.seriesKey ? viewport.getCurrentImageId() : null;
      this.update({
        ...this.readVoi(),
        imageIndex: viewport.getCurrentImageIdIndex(),
        imageId,
        renderedImageId: imageId,
        renderCount: this.current.renderCount + 1,
        // Only the new series' own image counts: the old one may still be redrawn while the new one loads.
        firstRenderedAt: this.current.firstRenderedAt ?? (imageId !== null && imageId === this.current.imageId ? performance.now() : null),
      });
    });

    new ResizeObserver(() => this.renderingEngine.resize(true, true)).observe(element);
  }

  get state(): ViewerState {
    return { ...this.current };
  }

  onChange(listener: (state: ViewerState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** Shows a series from its middle slice, where most anatomy is. */
  async showSeries(detail: SeriesDetail): Promise<void> {
    const generation = ++this.loadGeneration;
    const imageIds = imageIdsForSlices(this.host, detail.slices);
    if (imageIds.length === 0) throw new Error(`Series "${detail.series.description || detail.series.seriesKey}" has no slices to show`);
    const startIndex = Math.floor((imageIds.length - 1) / 2);
    // The slice shown first is requested before anyone hears of the new series: listeners
    // (the segment editor's labelmap, the volume) ask for every slice of it, and the
    // browser serves requests in the order they were made. setStack finds it in the cache.
    const first = imageIds[startIndex];
    const plan = loadPlan();
    if (plan === 'stack-first' && first && !cache.getImageLoadObject(first)) imageLoader.loadAndCacheImage(first, { priority: 0, requestType: Enums.RequestType.Interaction }).catch(() => {});
    this.update({
      ...emptyState,
      seriesKey: detail.series.seriesKey,
      patientName: detail.patient.patientName,
      seriesDescription: detail.series.description,
      modality: detail.series.modality,
      imageIndex: startIndex,
      imageCount: imageIds.length,
      imageId: imageIds[startIndex] ?? null,
    });
    const viewport = this.viewport();
    toolUtilities.stackPrefetch.disable(this.element);
    try {
      await viewport.setStack(imageIds, startIndex);
    } catch (error) {
      if (generation === this.loadGeneration) this.update({ error: describeLoadError(error) });
      throw error;
    }
    if (generation !== this.loadGeneration) return;
    viewport.resetCamera();
    viewport.render();
    // The neighbours (and, after this resolves, the volume) wait until the slice is on
    // screen: their requests would share the connections and the main thread with it.
    if (plan === 'stack-first') await this.drawn(imageIds[startIndex] ?? '', generation);
    if (generation !== this.loadGeneration) return;
    // Fetch and decode the neighbours in the background so scrolling does not stall.
    toolUtilities.stackPrefetch.enable(this.element);
  }

  /** Resolves once `imageId` was drawn, failed, another series was chosen, or at once while the view is hidden (plane layouts). */
  private drawn(imageId: string, generation: number): Promise<void> {
    return new Promise((resolve) => {
      const settled = (state: ViewerState) => state.renderedImageId === imageId || state.error !== null || generation !== this.loadGeneration;
      if (this.element.offsetParent === null || settled(this.current)) return resolve();
      const timer = setTimeout(done, FIRST_DRAW_WAIT_MS);
      const stop = this.onChange((state) => {
        if (settled(state)) done();
      });
      function done(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  }

  scrollBy(delta: number): void {
    if (!this.current.seriesKey) return;
    this.viewport().scroll(delta, false, false);
  }

  async jumpTo(index: number): Promise<void> {
    if (!this.current.seriesKey) return;
    const clamped = Math.min(Math.max(0, Math.round(index)), this.current.imageCount - 1);
    await this.viewport().setImageIdIndex(clamped);
  }

  /** Sets window/level in the modality's units (Hounsfield units for CT). */
  setWindowLevel(windowCenter: number, windowWidth: number): void {
    const viewport = this.viewport();
    viewport.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(windowWidth, windowCenter) });
    viewport.render();
  }

  /**
   * The automatic window (viewer/auto-window.ts) from the values of the image shown, in
   * the modality's units (the loader has applied rescale slope and intercept, or we do).
   */
  applyAutoWindow(): { lower: number; upper: number } | null {
    if (!this.current.seriesKey) return null;
    const viewport = this.viewport();
    const image = viewport.getCornerstoneImage();
    if (!image || image.color) return null;
    const stored = image.getPixelData();
    const scaled = image.preScale?.scaled === true;
    const slope = scaled ? 1 : (image.slope ?? 1);
    const intercept = scaled ? 0 : (image.intercept ?? 0);
    const values = slope === 1 && intercept === 0 ? stored : Float64Array.from(stored, (value) => value * slope + intercept);
    const range = autoVoiRange(values);
    viewport.setProperties({ voiRange: range });
    viewport.render();
    return range;
  }

  /** What the left button does: window/level, scrolling through the slices, or a measurement. */
  setPrimaryTool(tool: PrimaryToolId): void {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (group) setStackPrimaryTool(group, tool);
  }

  /**
   * The measurements of the series in view (lengths, angles, ROIs, probes; Cornerstone
   * keeps them per frame of reference, so the planes' ones too) with their statistics: in the modality's unit (HU on CT) as Cornerstone
   * computes them for the image each was drawn on.
   */
  measurements(): MeasurementReport[] {
    const reports: MeasurementReport[] = [];
    if (!this.current.seriesKey) return reports;
    for (const toolName of measurementToolNames) {
      for (const entry of annotation.state.getAnnotations(toolName, this.element) ?? []) {
        const stats = Object.values((entry.data as { cachedStats?: Record<string, Record<string, unknown>> }).cachedStats ?? {})[0] ?? {};
        const numbers: Record<string, number> = {};
        const units: Record<string, string> = {};
        for (const [key, value] of Object.entries(stats)) {
          if (typeof value === 'number') numbers[key] = value;
          else if (typeof value === 'string') units[key] = value;
        }
        reports.push({ annotationUID: entry.annotationUID ?? '', toolName, stats: numbers, units });
      }
    }
    return reports;
  }

  removeMeasurement(annotationUID: string): void {
    annotation.state.removeAnnotation(annotationUID);
    this.viewport().render();
  }

  /** The Cornerstone viewport, for what is drawn over it (orientation markers, scale bar). */
  get cornerstoneViewport(): Types.IStackViewport {
    return this.viewport();
  }

  /** Back to the image's own window/level, zoom and pan. */
  resetView(): void {
    const viewport = this.viewport();
    viewport.resetProperties();
    viewport.resetCamera();
    viewport.render();
  }

  /** Invert the grey scale, flip, or turn a quarter clockwise. */
  transform(change: 'invert' | 'flip-horizontal' | 'flip-vertical' | 'rotate'): void {
    if (!this.current.seriesKey) return;
    const viewport = this.viewport();
    if (change === 'invert') viewport.setProperties({ invert: !viewport.getProperties().invert });
    else if (change === 'flip-horizontal') viewport.setCamera({ flipHorizontal: !viewport.getCamera().flipHorizontal });
    else if (change === 'flip-vertical') viewport.setCamera({ flipVertical: !viewport.getCamera().flipVertical });
    else viewport.setViewPresentation({ rotation: ((viewport.getViewPresentation().rotation ?? 0) + 90) % 360 });
    viewport.render();
  }

  /** Page coordinates (CSS pixels) of an image pixel centre of the current slice: lets tests find anatomy on screen. */
  imagePointToPage(column: number, row: number): { x: number; y: number } | null {
    const point = this.imagePointToCanvas(column, row);
    if (!point) return null;
    const box = this.viewport().canvas.getBoundingClientRect();
    return { x: box.left + point.x, y: box.top + point.y };
  }

  /** Canvas (CSS pixel) coordinates of image point (column, row) of the current slice; fractional points allowed. */
  imagePointToCanvas(column: number, row: number): { x: number; y: number } | null {
    if (!this.current.imageId) return null;
    const viewport = this.viewport();
    // The displayed image's own geometry (its origin is the first pixel's centre), which
    // exists even for images without Image Plane attributes (secondary captures).
    const imageData = viewport.getImageData();
    if (!imageData) return null;
    const { origin, spacing, direction } = imageData;
    const world: Types.Point3 = [0, 1, 2].map(
      (axis) => origin[axis]! + column * spacing[0]! * direction[axis]! + row * spacing[1]! * direction[3 + axis]!,
    ) as Types.Point3;
    const [x, y] = viewport.worldToCanvas(world);
    return { x, y };
  }

  /** Cornerstone's id of the stack viewport (segmentation representations attach to it). */
  get viewportId(): string {
    return VIEWPORT_ID;
  }

  /** The canvas Cornerstone draws into (overlays align with it). */
  get canvas(): HTMLCanvasElement {
    return this.viewport().canvas;
  }

  private viewport(): Types.IStackViewport {
    return this.renderingEngine.getViewport(VIEWPORT_ID) as Types.IStackViewport;
  }

  private readVoi(): Pick<ViewerState, 'windowCenter' | 'windowWidth'> {
    const range = this.viewport().getProperties().voiRange;
    if (!range) return { windowCenter: null, windowWidth: null };
    const { windowCenter, windowWidth } = utilities.windowLevel.toWindowLevel(range.lower, range.upper);
    return { windowCenter, windowWidth };
  }

  private handleKey(event: KeyboardEvent): void {
    // Hidden behind the volume panes (layouts other than 1×1): the keys are theirs.
    if (!this.current.seriesKey || this.element.offsetParent === null) return;
    const page = Math.max(1, Math.round(this.current.imageCount / 10));
    const steps: Record<string, number> = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -page, PageDown: page };
    const step = steps[event.key];
    if (step !== undefined) {
      this.scrollBy(step);
    } else if (event.key === 'Home') {
      void this.jumpTo(0);
    } else if (event.key === 'End') {
      void this.jumpTo(this.current.imageCount - 1);
    } else {
      return;
    }
    event.preventDefault();
  }

  private update(patch: Partial<ViewerState>): void {
    this.current = { ...this.current, ...patch };
    const snapshot = this.state;
    for (const listener of this.listeners) listener(snapshot);
  }
}

function describeLoadError(error: unknown): string {
  if (error instanceof Error) return error.message;
  // The loader rejects with the XMLHttpRequest itself when the download (or our
  // response hook) failed.
  if (typeof XMLHttpRequest !== 'undefined' && error instanceof XMLHttpRequest) {
    return error.status === 200 ? 'the file could not be read' : `the file could not be downloaded (HTTP ${error.status})`;
  }
  if (error && typeof error === 'object' && 'error' in error) return describeLoadError((error as { error: unknown }).error);
  return `the image could not be loaded (${String(error)})`;
}
