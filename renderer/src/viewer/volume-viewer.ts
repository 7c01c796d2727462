// The volume panes: axial, sagittal and coronal planes plus a 3D rendering of one
// series, streamed slice by slice into a Cornerstone volume. Planes fill in as slices
// arrive; choosing another series cancels the unfinished load, aborts its downloads
// and frees it.
import { cache, Enums, eventTarget, RenderingEngine, setVolumesForViewports, utilities, volumeLoader } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import { annotation, CrosshairsTool } from '@cornerstonejs/tools';
import type { Types as ToolTypes } from '@cornerstonejs/tools';
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SeriesDetail } from '../../../electron/common/dicom-model.ts';
import { imageIdsForSlices } from '../cornerstone/image-ids.ts';
import { abortImageRequests } from '../cornerstone/image-requests.ts';
import type { MeasurementReport, VolumeViewState } from '../test-hook-types.ts';
import { el, formatPersonName } from '../ui/dom.ts';
import { formatWindowValue } from '../ui/viewport-overlay.ts';
import { autoVoiRange } from './auto-window.ts';
import { createViewDecorations, type ViewDecorations } from './view-decorations.ts';
import { paneColors, paneLabels, panesOf, type LayoutId, type PaneId } from './layouts.ts';
import {
  createPlanesToolGroup,
  createVolume3DToolGroup,
  measurementToolNames,
  PLANES_TOOL_GROUP_ID,
  setPrimaryTool,
  viewportIdOf,
  type PrimaryToolId,
} from './mpr-tool-groups.ts';
import type { VolumePresetId } from './window-presets.ts';
import { retrieveNearestFirst } from './volume-retrieve.ts';
import { DEFAULT_SLAB_MM, slabModes, type SlabMode } from './slab.ts';

const RENDERING_ENGINE_ID = 'mr-volume-engine';
const MAX_AUTO_WINDOW_VOXELS = 32_000_000;
const ALL_PANES: readonly PaneId[] = ['axial', 'sagittal', 'coronal', 'volume3d'];
const orientationOf: Record<Exclude<PaneId, 'volume3d'>, Enums.OrientationAxis> = {
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};

const slabBlendModes: Record<Exclude<SlabMode, 'off'>, Enums.BlendModes> = {
  mip: Enums.BlendModes.MAXIMUM_INTENSITY_BLEND,
  minip: Enums.BlendModes.MINIMUM_INTENSITY_BLEND,
  average: Enums.BlendModes.AVERAGE_INTENSITY_BLEND,
};

type Pane = {
  id: PaneId;
  cell: HTMLDivElement;
  element: HTMLDivElement;
  info: HTMLDivElement;
  patient: HTMLDivElement;
  series: HTMLDivElement;
  windowLevel: HTMLDivElement;
  /** "MIP 10 mm" while a slab is on: the plane is not a slice then. */
  slab: HTMLDivElement;
  decorations: ViewDecorations;
};

export class VolumeViewer {
  readonly element: HTMLDivElement;
  private readonly host: HostApi;
  private readonly panes = new Map<PaneId, Pane>();
  private engine: RenderingEngine | null = null;
  private planesGroup: ToolTypes.IToolGroup | null = null;
  private enabled: PaneId[] = [];
  private volumeId: string | null = null;
  /** The image ids of the volume being loaded, whose downloads a cancel aborts. */
  private volumeImageIds: string[] = [];
  /** Drops the volume's nearest-first retrieval setting (volume-retrieve.ts) with the volume. */
  private forgetRetrieveOrder: (() => void) | null = null;
  private generation = 0;
  /** The frame that tells the listeners of the slices loaded since it was asked for. */
  private progressNotice: number | null = null;
  private primaryTool: PrimaryToolId = 'crosshairs';
  private volumePreset: VolumePresetId = 'CT-Soft-Tissue';
  private maximized: PaneId | null = null;
  private identity = { patientName: '', seriesDescription: '', modality: '' };
  private readonly listeners = new Set<(state: VolumeViewState) => void>();
  private readonly planesListeners = new Set<(viewportIds: string[]) => void>();
  private readonly volume3dListeners = new Set<(viewportId: string | null) => void>();
  private current: VolumeViewState = {
    layout: '1x1', seriesKey: null, volumeId: null, framesLoaded: 0, totalFrames: 0, loaded: false, error: null,
    crosshairCenter: null, windowCenter: null, windowWidth: null, renderCount: 0, maximized: null, primaryTool: 'crosshairs', volumePreset: 'CT-Soft-Tissue',
    slabMode: 'off', slabThickness: DEFAULT_SLAB_MM,
  };

  constructor(host: HostApi) {
    this.host = host;
    this.element = el('div', { class: 'volume-grid', 'data-testid': 'volume-grid', hidden: true });
    for (const id of ALL_PANES) {
      const element = el('div', { class: 'volume-pane-element', 'data-testid': `pane-${id}` });
      const info = el('div', { class: 'volume-pane-info', 'data-testid': `pane-info-${id}` });
      const patient = el('div', { class: 'overlay-strong', 'data-testid': `pane-${id}-patient` });
      const series = el('div', { 'data-testid': `pane-${id}-series` });
      const windowLevel = el('div', { class: 'volume-pane-wl', 'data-testid': `pane-${id}-wl` });
      const slab = el('div', { class: 'volume-pane-slab', 'data-testid': `pane-${id}-slab` });
      const decorations = createViewDecorations(`pane-${id}`);
      const cell = el(
        'div',
        { class: 'volume-pane', 'data-pane': id, style: `--pane-color: ${paneColors[id]}` },
        element,
        el('div', { class: 'volume-pane-label' }, paneLabels[id]),
        el('div', { class: 'volume-pane-corner-top-right' }, patient, series),
        info,
        windowLevel,
        ...(id === 'volume3d' ? [] : [slab, ...decorations.nodes]),
      );
      element.addEventListener('contextmenu', (event) => event.preventDefault());
      element.addEventListener('dblclick', () => this.toggleMaximized(id));
      element.addEventListener(Enums.Events.IMAGE_RENDERED, () => this.onRendered());
      this.panes.set(id, { id, cell, element, info, patient, series, windowLevel, slab, decorations });
      this.element.append(cell);
    }
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, ((event: CustomEvent<{ volumeId: string; framesProcessed: number; numberOfFrames: number }>) => {
      if (event.detail.volumeId !== this.volumeId) return;
      // The state follows every slice; its listeners (the progress bar) hear once a frame: a
      // DOM update per slice of a 500-slice load cost the page more than its images did.
      this.current = { ...this.current, framesLoaded: event.detail.framesProcessed, totalFrames: event.detail.numberOfFrames, firstFramesAt: this.current.firstFramesAt ?? performance.now() };
      this.progressNotice ??= requestAnimationFrame(() => {
        this.progressNotice = null;
        this.update({});
      });
    }) as EventListener);
    eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_LOADING_COMPLETED, ((event: CustomEvent<{ volumeId: string }>) => {
      if (event.detail.volumeId !== this.volumeId) return;
      this.update({ loaded: true, framesLoaded: this.current.totalFrames, loadedAt: performance.now() });
      void this.attach3D(event.detail.volumeId);
    }) as EventListener);
    new ResizeObserver(() => this.engine?.resize(true, true)).observe(this.element);
  }

  get state(): VolumeViewState {
    return { ...this.current };
  }

  onChange(listener: (state: VolumeViewState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** Told the viewport ids of the planes each time they get the volume, and none when they are put away (the segment editor draws on them). */
  onPlanesShown(listener: (viewportIds: string[]) => void): () => void {
    this.planesListeners.add(listener);
    return () => this.planesListeners.delete(listener);
  }

  /** Told the 3D pane's viewport id each time it gets the volume, and null when the pane is put away (the segment editor shows surfaces there). */
  onVolume3DShown(listener: (viewportId: string | null) => void): () => void {
    this.volume3dListeners.add(listener);
    return () => this.volume3dListeners.delete(listener);
  }

  /** Shows the panes of `layout` (hidden for 1×1) and puts the current volume in them. */
  async setLayout(layout: LayoutId): Promise<void> {
    const panes = panesOf(layout);
    this.element.hidden = panes.length === 0;
    this.element.dataset['layout'] = layout;
    this.maximized = null;
    for (const [id, pane] of this.panes) {
      pane.cell.hidden = !panes.includes(id);
      delete pane.cell.dataset['maximized'];
    }
    this.update({ layout, maximized: null });
    if (!panes.includes('volume3d')) for (const listener of this.volume3dListeners) listener(null);
    if (panes.length === 0) {
      for (const listener of this.planesListeners) listener([]);
      return;
    }
    this.enablePanes(panes);
    if (this.volumeId) await this.attachVolume(this.volumeId);
  }

  /**
   * Streams `detail` into a volume and shows it; an earlier unfinished load is cancelled.
   * With `focusSlice` (series slice order) the slices load nearest it first; with null, in
   * Cornerstone's default order.
   */
  async showSeries(detail: SeriesDetail, options: { focusSlice?: number | null } = {}): Promise<void> {
    const generation = ++this.generation;
    const imageIds = imageIdsForSlices(this.host, detail.slices);
    this.cancelLoad(imageIds);
    this.volumeImageIds = imageIds;
    // The key names the series; the generation keeps a reopened series from meeting its cancelled twin in the cache.
    const volumeId = `cornerstoneStreamingImageVolume:${detail.series.seriesKey}#${generation}`;
    this.volumeId = volumeId;
    const focusSlice = options.focusSlice === undefined ? Math.floor((imageIds.length - 1) / 2) : options.focusSlice;
    this.forgetRetrieveOrder = focusSlice === null ? null : retrieveNearestFirst(volumeId, imageIds[focusSlice] ?? null);
    this.identity = { patientName: detail.patient.patientName, seriesDescription: detail.series.description, modality: detail.series.modality };
    this.update({ seriesKey: detail.series.seriesKey, volumeId, framesLoaded: 0, totalFrames: imageIds.length, loaded: false, error: null, crosshairCenter: null, firstFramesAt: null, loadedAt: null });
    try {
      const volume = await volumeLoader.createAndCacheVolume(volumeId, { imageIds });
      if (generation !== this.generation) return;
      if (this.enabled.length > 0) await this.attachVolume(volumeId);
      if (generation !== this.generation) return;
      (volume as unknown as { load(callback?: () => void): void }).load();
    } catch (error) {
      if (generation === this.generation) this.update({ error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  /** Forgets the volume (the user chose a series that stays in the stack view). */
  clear(): void {
    this.generation++;
    this.cancelLoad();
    this.update({ seriesKey: null, volumeId: null, framesLoaded: 0, totalFrames: 0, loaded: false, error: null, crosshairCenter: null });
  }

  setWindowLevel(windowCenter: number, windowWidth: number): void {
    for (const viewport of this.planeViewports()) {
      viewport.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(windowWidth, windowCenter) });
      viewport.render();
    }
    this.readVoi();
  }

  setPrimaryTool(tool: PrimaryToolId): void {
    this.primaryTool = tool;
    if (this.planesGroup) setPrimaryTool(this.planesGroup, tool);
    this.update({ primaryTool: tool });
  }

  /** A thick slab in every plane (viewer/slab.ts): MIP, MinIP or average over `thicknessMm` centred on the plane; 'off' or 0 mm show the plain slice. */
  setSlab(mode: SlabMode, thicknessMm: number): void {
    if (!Number.isFinite(thicknessMm) || thicknessMm < 0) throw new RangeError(`a slab thickness must be a number of mm ≥ 0, not ${thicknessMm}`);
    this.update({ slabMode: mode, slabThickness: thicknessMm });
    this.applySlab();
    for (const id of this.enabled) this.describePane(id);
  }

  setVolumePreset(preset: VolumePresetId): void {
    this.volumePreset = preset;
    this.applyVolumePreset();
    this.update({ volumePreset: preset });
  }

  /** Invert, flip and rotate act on the plane under the mouse last used, or the axial one. */
  transformPlanes(change: 'invert' | 'flip-horizontal' | 'flip-vertical' | 'rotate'): void {
    for (const viewport of this.planeViewports()) {
      if (change === 'invert') {
        viewport.setProperties({ invert: !viewport.getProperties()?.invert });
      } else if (change === 'flip-horizontal') {
        viewport.setCamera({ flipHorizontal: !viewport.getCamera().flipHorizontal });
      } else if (change === 'flip-vertical') {
        viewport.setCamera({ flipVertical: !viewport.getCamera().flipVertical });
      } else {
        const { viewUp, viewPlaneNormal } = viewport.getCamera();
        if (!viewUp || !viewPlaneNormal) continue;
        // A quarter turn clockwise on screen: the new "up" is the old "left".
        const left = cross(viewUp, viewPlaneNormal);
        viewport.setCamera({ viewUp: left });
      }
      viewport.render();
    }
  }

  reset(): void {
    for (const viewport of this.planeViewports()) {
      viewport.resetProperties();
      viewport.resetCamera();
      viewport.render();
    }
    // The slab is a choice in the toolbar, not a view property: it stays.
    this.applySlab();
    const volume3d = this.viewport3d();
    if (volume3d) {
      volume3d.resetCamera();
      this.applyVolumePreset();
    }
    this.readVoi();
  }

  scrollPane(pane: PaneId, delta: number): void {
    const viewport = this.engine?.getViewport(viewportIdOf(pane)) as Types.IVolumeViewport | undefined;
    if (!viewport || pane === 'volume3d') return;
    viewport.scroll(delta);
  }

  toggleMaximized(pane: PaneId): void {
    if (!this.enabled.includes(pane)) return;
    this.maximized = this.maximized === pane ? null : pane;
    for (const [id, entry] of this.panes) {
      entry.cell.hidden = !this.enabled.includes(id) || (this.maximized !== null && this.maximized !== id);
      if (this.maximized === id) entry.cell.dataset['maximized'] = '';
      else delete entry.cell.dataset['maximized'];
    }
    this.element.dataset['maximized'] = this.maximized ?? '';
    this.update({ maximized: this.maximized });
    requestAnimationFrame(() => this.engine?.resize(true, true));
  }

  /** Page coordinates of a patient-space point projected onto a pane (null when the pane is not shown). */
  worldToPage(pane: PaneId, world: [number, number, number]): { x: number; y: number } | null {
    const viewport = this.engine?.getViewport(viewportIdOf(pane));
    if (!viewport || !this.enabled.includes(pane)) return null;
    const [x, y] = viewport.worldToCanvas(world as Types.Point3);
    const box = viewport.canvas.getBoundingClientRect();
    return { x: box.left + x, y: box.top + y };
  }

  /** The focal point of a plane's camera: the centre of the slice it shows, in patient mm. */
  paneFocalPoint(pane: PaneId): [number, number, number] | null {
    const viewport = this.engine?.getViewport(viewportIdOf(pane));
    if (!viewport || !this.enabled.includes(pane)) return null;
    return [...viewport.getCamera().focalPoint!] as [number, number, number];
  }

  measurements(): MeasurementReport[] {
    const reports: MeasurementReport[] = [];
    if (!this.engine || !this.enabled.includes('axial')) return reports;
    for (const toolName of measurementToolNames) {
      for (const entry of annotation.state.getAnnotations(toolName, this.frameOfReferenceElement()) ?? []) {
        const stats = Object.values((entry.data as { cachedStats?: Record<string, Record<string, unknown>> }).cachedStats ?? {})[0] ?? {};
        const numbers: Record<string, number> = {};
        for (const [key, value] of Object.entries(stats)) if (typeof value === 'number') numbers[key] = value;
        const units: Record<string, string> = {};
        for (const [key, value] of Object.entries(stats)) if (typeof value === 'string') units[key] = value;
        reports.push({ annotationUID: entry.annotationUID ?? '', toolName, stats: numbers, units });
      }
    }
    return reports;
  }

  removeMeasurement(annotationUID: string): void {
    annotation.state.removeAnnotation(annotationUID);
    for (const viewport of this.planeViewports()) viewport.render();
  }

  /**
   * The automatic window (auto-window.ts) from the values of the volume loaded so far, in
   * all planes. Volumes beyond MAX_AUTO_WINDOW_VOXELS are sampled evenly (every n-th voxel)
   * to keep the sort under a few seconds.
   */
  applyAutoWindow(): { lower: number; upper: number } | null {
    const volume = this.volumeId ? cache.getVolume(this.volumeId) : undefined;
    const values = volume?.voxelManager?.getCompleteScalarDataArray?.();
    if (!values || values.length === 0) return null;
    const stride = Math.max(1, Math.ceil(values.length / MAX_AUTO_WINDOW_VOXELS));
    const sample = stride === 1 ? values : Float64Array.from({ length: Math.floor(values.length / stride) }, (_, i) => values[i * stride] ?? 0);
    const range = autoVoiRange(sample);
    for (const viewport of this.planeViewports()) {
      viewport.setProperties({ voiRange: range });
      viewport.render();
    }
    this.readVoi();
    return range;
  }

  cachedVolumeIds(): string[] {
    return cache.getVolumes().map((volume) => volume.volumeId);
  }

  /** The element of a shown plane (cine plays in it), or null. */
  planeElement(pane: PaneId): HTMLDivElement | null {
    if (pane === 'volume3d' || !this.enabled.includes(pane) || !this.volumeId) return null;
    return (this.panes.get(pane) as Pane).element;
  }

  private frameOfReferenceElement(): HTMLDivElement {
    return (this.panes.get('axial') as Pane).element;
  }

  private ensureEngine(): RenderingEngine {
    this.engine ??= new RenderingEngine(RENDERING_ENGINE_ID);
    this.planesGroup ??= createPlanesToolGroup();
    createVolume3DToolGroup();
    return this.engine;
  }

  private enablePanes(panes: readonly PaneId[]): void {
    const engine = this.ensureEngine();
    for (const id of this.enabled) {
      if (panes.includes(id)) continue;
      engine.disableElement(viewportIdOf(id));
    }
    for (const id of panes) {
      if (this.enabled.includes(id)) continue;
      const pane = this.panes.get(id) as Pane;
      engine.enableElement({
        viewportId: viewportIdOf(id),
        element: pane.element,
        type: id === 'volume3d' ? Enums.ViewportType.VOLUME_3D : Enums.ViewportType.ORTHOGRAPHIC,
        defaultOptions: id === 'volume3d' ? { background: [0, 0, 0] } : { orientation: orientationOf[id], background: [0, 0, 0] },
      });
      const group = id === 'volume3d' ? createVolume3DToolGroup() : (this.planesGroup as ToolTypes.IToolGroup);
      group.addViewport(viewportIdOf(id), RENDERING_ENGINE_ID);
    }
    this.enabled = [...panes];
    engine.resize(true, true);
  }

  private async attachVolume(volumeId: string): Promise<void> {
    const engine = this.ensureEngine();
    const planes = this.enabled.filter((id) => id !== 'volume3d').map(viewportIdOf);
    if (planes.length > 0) await setVolumesForViewports(engine, [{ volumeId }], planes);
    if (this.current.loaded) await this.attach3D(volumeId);
    if (this.planesGroup && planes.length > 0) {
      // Crosshairs find their centre from the cameras of the viewports present now.
      if (this.planesGroup.getToolOptions(CrosshairsTool.toolName)) this.planesGroup.setToolDisabled(CrosshairsTool.toolName);
      setPrimaryTool(this.planesGroup, this.primaryTool);
    }
    for (const listener of this.planesListeners) listener(planes);
    // New volume actors start as plain slices.
    this.applySlab();
    engine.render();
    this.readVoi();
  }

  private applySlab(): void {
    const { slabMode, slabThickness } = this.current;
    const blendMode = slabMode === 'off' || slabThickness <= 0 ? null : slabBlendModes[slabMode];
    for (const viewport of this.planeViewports()) {
      if (blendMode === null) {
        viewport.setBlendMode(Enums.BlendModes.COMPOSITE);
        viewport.resetSlabThickness();
      } else {
        viewport.setBlendMode(blendMode);
        viewport.setSlabThickness(slabThickness);
      }
      viewport.render();
    }
  }

  /**
   * The 3D pane gets the volume once it is complete: the ray caster scales its texture
   * from the values present when it is attached, so a half-empty volume renders as noise.
   */
  private async attach3D(volumeId: string): Promise<void> {
    if (!this.engine || !this.enabled.includes('volume3d') || volumeId !== this.volumeId) return;
    await setVolumesForViewports(this.engine, [{ volumeId }], [viewportIdOf('volume3d')]);
    const viewport = this.viewport3d();
    if (!viewport) return;
    this.applyVolumePreset();
    // Seen from the front (anterior is -y in patient coordinates), head up.
    viewport.setCamera({ viewPlaneNormal: [0, -1, 0], viewUp: [0, 0, 1] });
    viewport.resetCamera();
    viewport.render();
    for (const listener of this.volume3dListeners) listener(viewportIdOf('volume3d'));
  }

  private applyVolumePreset(): void {
    const viewport = this.viewport3d();
    if (!viewport || !this.volumeId) return;
    const volumeActor = viewport.getActors().find((entry) => entry.referencedId === this.volumeId)?.actor as { setVisibility?(visible: boolean): void } | undefined;
    volumeActor?.setVisibility?.(this.volumePreset !== 'Segments');
    if (this.volumePreset === 'Segments') {
      viewport.render();
      return;
    }
    if (this.volumePreset === 'MIP') {
      viewport.setProperties({ preset: 'CT-MIP' });
      viewport.setBlendMode(Enums.BlendModes.MAXIMUM_INTENSITY_BLEND);
    } else {
      viewport.setBlendMode(Enums.BlendModes.COMPOSITE);
      viewport.setProperties({ preset: this.volumePreset });
    }
    viewport.render();
  }

  /** Stops the current load and its downloads, except those of `keep` (the series reopened). */
  private cancelLoad(keep: readonly string[] = []): void {
    const volumeId = this.volumeId;
    if (!volumeId) return;
    this.volumeId = null;
    this.forgetRetrieveOrder?.();
    this.forgetRetrieveOrder = null;
    const volume = cache.getVolume(volumeId) as (Types.IImageVolume & { cancelLoading?: () => void }) | undefined;
    const unfinished = !this.current.loaded;
    volume?.cancelLoading?.();
    cache.removeVolumeLoadObject(volumeId);
    if (unfinished) {
      const kept = new Set(keep);
      abortImageRequests(this.volumeImageIds.filter((imageId) => !kept.has(imageId)));
    }
    this.volumeImageIds = [];
  }

  private planeViewports(): Types.IVolumeViewport[] {
    if (!this.engine) return [];
    return this.enabled.filter((id) => id !== 'volume3d').map((id) => this.engine?.getViewport(viewportIdOf(id)) as Types.IVolumeViewport);
  }

  private viewport3d(): Types.IVolumeViewport | null {
    if (!this.engine || !this.enabled.includes('volume3d')) return null;
    return (this.engine.getViewport(viewportIdOf('volume3d')) as Types.IVolumeViewport | undefined) ?? null;
  }

  private onRendered(): void {
    const tool = this.planesGroup?.getToolInstance(CrosshairsTool.toolName) as { toolCenter?: number[] } | undefined;
    const center = tool?.toolCenter && this.volumeId ? ([...tool.toolCenter] as [number, number, number]) : null;
    this.readVoi({ renderCount: this.current.renderCount + 1, crosshairCenter: center });
    for (const id of this.enabled) this.describePane(id);
  }

  private describePane(id: PaneId): void {
    const pane = this.panes.get(id) as Pane;
    const viewport = this.engine?.getViewport(viewportIdOf(id)) as Types.IVolumeViewport | undefined;
    const shown = Boolean(viewport && this.volumeId);
    pane.patient.textContent = shown ? formatPersonName(this.identity.patientName) : '';
    pane.series.textContent = shown ? `${this.identity.seriesDescription || '(no description)'} · ${this.identity.modality}` : '';
    if (!viewport || id === 'volume3d' || !this.volumeId) {
      pane.info.textContent = id === 'volume3d' && this.volumeId ? this.volumePresetLabel() : '';
      pane.windowLevel.textContent = '';
      pane.slab.textContent = '';
      pane.decorations.update(null);
      return;
    }
    const { slabMode, slabThickness } = this.current;
    pane.slab.textContent = slabMode !== 'off' && slabThickness > 0 ? `${slabModes.find((entry) => entry.id === slabMode)?.label ?? slabMode} ${Math.round(slabThickness * 10) / 10} mm` : '';
    const slice = this.sliceOf(id);
    const focal = viewport.getCamera().focalPoint ?? [0, 0, 0];
    const [x, y, z] = focal;
    const position = id === 'axial' ? `z ${z.toFixed(1)}` : id === 'sagittal' ? `x ${x.toFixed(1)}` : `y ${y.toFixed(1)}`;
    pane.info.textContent = slice ? `${slice.index + 1} / ${slice.count} · ${position} mm` : '';
    pane.info.dataset['sliceIndex'] = String(slice?.index ?? '');
    const range = viewport.getProperties()?.voiRange;
    const voi = range ? utilities.windowLevel.toWindowLevel(range.lower, range.upper) : null;
    pane.windowLevel.textContent = voi ? `W ${formatWindowValue(voi.windowWidth)} L ${formatWindowValue(voi.windowCenter)}` : '';
    pane.decorations.update(viewport);
  }

  /**
   * The slice a plane shows, numbered in the volume's own index order (slice 1 = first in
   * the series' slice order, as everywhere else), not from the camera's side as
   * Cornerstone counts.
   */
  sliceOf(id: PaneId): { index: number; count: number } | null {
    const viewport = this.engine?.getViewport(viewportIdOf(id)) as Types.IVolumeViewport | undefined;
    const volume = this.volumeId ? cache.getVolume(this.volumeId) : undefined;
    if (!viewport || id === 'volume3d' || !this.enabled.includes(id) || !volume?.imageData) return null;
    const axis = id === 'axial' ? 2 : id === 'sagittal' ? 0 : 1;
    const focal = viewport.getCamera().focalPoint ?? [0, 0, 0];
    const index = Math.round(utilities.transformWorldToIndex(volume.imageData, focal)[axis] ?? 0);
    return { index, count: volume.dimensions[axis] ?? 0 };
  }

  private volumePresetLabel(): string {
    return this.volumePreset === 'MIP' || this.volumePreset === 'Segments' ? this.volumePreset : this.volumePreset.replace(/^CT-/, '').replace('-', ' ');
  }

  private readVoi(extra: Partial<VolumeViewState> = {}): void {
    const [first] = this.planeViewports();
    const range = first?.getProperties()?.voiRange;
    const voi = range ? utilities.windowLevel.toWindowLevel(range.lower, range.upper) : null;
    this.update({ ...extra, windowCenter: voi?.windowCenter ?? null, windowWidth: voi?.windowWidth ?? null });
  }

  private update(patch: Partial<VolumeViewState>): void {
    this.current = { ...this.current, ...patch };
    const snapshot = this.state;
    for (const listener of this.listeners) listener(snapshot);
  }
}

function cross(a: readonly number[], b: readonly number[]): Types.Point3 {
  const [a0 = 0, a1 = 0, a2 = 0] = a;
  const [b0 = 0, b1 = 0, b2 = 0] = b;
  return [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0];
}

export { PLANES_TOOL_GROUP_ID };
