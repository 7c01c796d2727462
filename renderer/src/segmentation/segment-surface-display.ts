// The segments in the 3D pane, as surfaces: Cornerstone3D's Surface representation
// (geometries in its cache, one surface actor per segment) fed with meshes the effects
// worker makes by marching cubes. Why surfaces and not the labelmap in the ray caster:
// a polygon mesh is what SwiftShader and every GPU draw cheaply and exactly, over any
// volume-rendering preset, while a second volume in the ray cast would need its own
// transfer function and blends with the CT's. Cornerstone would compute these meshes
// itself through its PolySeg add-on, but that add-on exists only for Cornerstone 4
// (peers.md), so the mesh comes from vtk.js's marching cubes in our worker instead.
// The surfaces form their own segmentation, so no labelmap edit makes Cornerstone look
// for PolySeg; they are rebuilt when the labelmap settles after an edit.
import { cache, Enums, eventTarget, geometryLoader, getEnabledElementByViewportId } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';
import { EffectCancelledError, type EffectsWorkerClient } from './effects-worker-client.ts';
import type { SurfaceGeometry } from './segment-surface.ts';
import type { SegmentationModel } from './segmentation-model.ts';

const SURFACE = ToolEnums.SegmentationRepresentations.Surface;
/** Rebuild this long after the last labelmap change: a stroke or an undo burst is one rebuild. */
const SETTLE_MS = 400;
let surfaceCounter = 0;

export type SurfaceDisplayState = { segments: number; triangles: number; builds: number; pending: boolean };

export class SegmentSurfaceDisplay {
  private readonly worker: EffectsWorkerClient;
  private viewportId: string | null = null;
  private model: SegmentationModel | null = null;
  private geometry: SurfaceGeometry | null = null;
  private frameOfReferenceUID = '';
  private segmentationId: string | null = null;
  private geometryIds: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private request = 0;
  private shown = { segments: 0, triangles: 0, builds: 0 };

  constructor(worker: EffectsWorkerClient) {
    this.worker = worker;
  }

  get state(): SurfaceDisplayState {
    return { ...this.shown, pending: this.timer !== null || this.request !== this.builtRequest };
  }

  private builtRequest = 0;

  /** The document to show (with its series' geometry), or null. */
  setModel(model: SegmentationModel | null, geometry: SurfaceGeometry | null, frameOfReferenceUID: string): void {
    this.model = model;
    this.geometry = geometry;
    this.frameOfReferenceUID = frameOfReferenceUID;
    this.schedule(0);
  }

  /** The 3D pane's viewport once it shows the volume, or null when it is put away. */
  setViewport(viewportId: string | null): void {
    if (viewportId === this.viewportId) return this.schedule(0);
    this.clear();
    this.viewportId = viewportId;
    this.schedule(0);
  }

  /** After any change of the labelmap or of the segments' colours and visibility. */
  schedule(delay = SETTLE_MS): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.rebuild();
    }, delay);
  }

  private async rebuild(): Promise<void> {
    const asked = ++this.request;
    const { model, geometry, viewportId } = this;
    if (!model || !geometry || !viewportId || !getEnabledElementByViewportId(viewportId)) {
      this.clear();
      this.builtRequest = asked;
      return;
    }
    const visible = model.segments.filter((s) => s.visible);
    let surfaces;
    try {
      surfaces = await this.worker.surfaces(model.labelmap, model, visible.map((s) => s.number), geometry);
    } catch (error) {
      if (asked !== this.request) return;
      // A cancelled effect takes the meshing queued behind it along: mesh again. A failure waits for the next change.
      if (error instanceof EffectCancelledError) this.schedule();
      else this.builtRequest = asked;
      return;
    }
    if (asked !== this.request || model !== this.model || viewportId !== this.viewportId) return;
    this.clear();
    this.builtRequest = asked;
    this.shown.builds++;
    if (surfaces.length === 0) return;
    const id = `mr-seg-surface-${++surfaceCounter}`;
    const geometryIds = new Map<number, string>();
    let triangles = 0;
    for (const surface of surfaces) {
      const segment = model.segment(surface.segment);
      const geometryId = `${id}-${surface.segment}`;
      geometryLoader.createAndCacheGeometry(geometryId, {
        type: Enums.GeometryType.SURFACE,
        geometryData: {
          id: geometryId,
          // Cornerstone types these as number[]; its Surface and vtk.js read typed arrays the same way.
          points: surface.points as unknown as number[],
          polys: surface.polys as unknown as number[],
          frameOfReferenceUID: this.frameOfReferenceUID,
          segmentIndex: surface.segment,
          color: segment ? [...segment.color] : [255, 255, 255],
        },
      });
      geometryIds.set(surface.segment, geometryId);
      this.geometryIds.push(geometryId);
      triangles += surface.polys.length / 4;
    }
    // Cornerstone resets the camera when it adds a surface actor: keep the view the user has (rotation, zoom).
    const viewport = getEnabledElementByViewportId(viewportId)?.viewport;
    const camera = viewport?.getCamera();
    const restore = (event: Event) => {
      const detail = (event as CustomEvent<{ viewportId?: string; segmentationId?: string }>).detail;
      if (detail.viewportId !== viewportId || detail.segmentationId !== id) return;
      eventTarget.removeEventListener(ToolEnums.Events.SEGMENTATION_RENDERED, restore);
      if (!viewport || !camera || this.segmentationId !== id) return;
      viewport.setCamera(camera);
      viewport.render();
    };
    eventTarget.addEventListener(ToolEnums.Events.SEGMENTATION_RENDERED, restore);
    segmentation.addSegmentations([{ segmentationId: id, representation: { type: SURFACE, data: { geometryIds } } }]);
    segmentation.addSurfaceRepresentationToViewport(viewportId, [{ segmentationId: id }]);
    for (const segment of visible) segmentation.config.color.setSegmentIndexColor(viewportId, id, segment.number, [...segment.color, 255]);
    this.segmentationId = id;
    this.shown.segments = surfaces.length;
    this.shown.triangles = triangles;
  }

  private clear(): void {
    const id = this.segmentationId;
    this.segmentationId = null;
    this.shown.segments = 0;
    this.shown.triangles = 0;
    if (id) {
      if (this.viewportId && getEnabledElementByViewportId(this.viewportId)) segmentation.removeSegmentationRepresentations(this.viewportId, { segmentationId: id });
      segmentation.removeSegmentation(id);
    }
    for (const geometryId of this.geometryIds) if (cache.getGeometry(geometryId)) cache.removeGeometryLoadObject(geometryId);
    this.geometryIds = [];
  }
}
