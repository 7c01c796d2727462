// Shows the model's labelmap through Cornerstone3D's own segmentation rendering: one
// derived labelmap image per source slice (a stack segmentation), kept in step with
// the model slice by slice, with the segments' colours and visibility. The model stays
// the document; these images are only its picture on the stack viewport. The same
// segmentation is also shown, read-only, on the volume planes: Cornerstone builds a
// labelmap volume from these images (each keeps its source slice's geometry, so the
// volume's voxel order follows the planes' volume whatever the series' slice order).
// Cornerstone's brush and scissors in the planes write into that volume, whose voxels
// are these images' own: plane-editing.ts then copies each stroke into the model.
import { cache, getEnabledElementByViewportId, imageLoader } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';
import { loadSeriesMetadata } from '../cornerstone/batched-file-loader.ts';
import type { SegmentationModel } from './segmentation-model.ts';

const LABELMAP = ToolEnums.SegmentationRepresentations.Labelmap;
let attachCounter = 0;

export class CornerstoneLabelmap {
  private readonly viewportId: string;
  private segmentationId: string | null = null;
  private labelmapIds: string[] = [];
  private model: SegmentationModel | null = null;
  /** Volume viewports (the planes) that show the segmentation besides the stack viewport. */
  private planeViewportIds: string[] = [];

  constructor(viewportId: string) {
    this.viewportId = viewportId;
  }

  get attachedModel(): SegmentationModel | null {
    return this.model;
  }

  /**
   * Creates the labelmap images for a model's series and shows them on the viewport.
   * A derived image copies its source's geometry: every source slice's metadata must be
   * there first, which needs its file's bytes but not its decoding. Those come through the
   * same file batches as the view's own loads, nearest the middle first, so the labelmap
   * neither decodes the series a second time nor decides the order the volume fills in.
   */
  async attach(model: SegmentationModel, imageIds: readonly string[]): Promise<void> {
    this.detach();
    if (imageIds.length !== model.dims.slices) throw new Error(`the series lists ${imageIds.length} images for ${model.dims.slices} slices`);
    await loadSeriesMetadata(imageIds);
    const id = `mr-seg-${++attachCounter}`;
    const images = imageLoader.createAndCacheDerivedLabelmapImages([...imageIds]);
    this.labelmapIds = images.map((image) => image.imageId);
    segmentation.addSegmentations([
      {
        segmentationId: id,
        representation: { type: LABELMAP, data: { imageIds: this.labelmapIds, referencedImageIds: [...imageIds] } },
      },
    ]);
    segmentation.addLabelmapRepresentationToViewport(this.viewportId, [{ segmentationId: id }]);
    this.segmentationId = id;
    this.model = model;
    this.addToPlanes(this.planeViewportIds);
    this.syncSegments();
    // The images start empty: only the model's painted slices need copying (a new series has none).
    this.syncSlices(0, model.dims.slices - 1, { skipEmpty: true });
  }

  detach(): void {
    const id = this.segmentationId;
    this.segmentationId = null;
    this.model = null;
    if (!id) return;
    for (const viewportId of this.planeViewportIds) removeFrom(viewportId, id);
    segmentation.removeSegmentationRepresentations(this.viewportId, { segmentationId: id });
    segmentation.removeSegmentation(id);
    for (const imageId of this.labelmapIds) cache.removeImageLoadObject(imageId, { force: true });
    this.labelmapIds = [];
  }

  /** Copies slices of the model's labelmap into the labelmap images and redraws; `skipEmpty` leaves out slices without a label (for images known to be empty). */
  syncSlices(firstSlice: number, lastSlice: number, options: { skipEmpty?: boolean } = {}): void {
    const model = this.model;
    const id = this.segmentationId;
    if (!model || !id) return;
    const n = model.sliceLength;
    for (let s = Math.max(0, firstSlice); s <= Math.min(model.dims.slices - 1, lastSlice); s++) {
      const source = model.labelmap.subarray(s * n, (s + 1) * n);
      if (options.skipEmpty && isEmpty(source)) continue;
      const image = cache.getImage(this.labelmapIds[s]!);
      if (!image) continue;
      const voxels = image.voxelManager;
      if (voxels) {
        const target = voxels.getScalarData() as Uint8Array;
        target.set(source);
      } else {
        (image.getPixelData() as Uint8Array).set(source);
      }
    }
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(id);
  }

  /**
   * The volume viewports that show the segmentation too (read-only); called whenever the
   * planes get their volume, and with none when they are put away.
   */
  showOnPlanes(viewportIds: readonly string[]): void {
    const id = this.segmentationId;
    const before = this.planeViewportIds;
    this.planeViewportIds = [...viewportIds];
    if (!id) return;
    // Added afresh each time: the planes may have been given another volume (a new series) since.
    for (const viewportId of before) removeFrom(viewportId, id);
    this.addToPlanes(viewportIds);
    this.syncSegments();
  }

  get id(): string | null {
    return this.segmentationId;
  }

  /** The labelmap image of one slice (series slice order), as Cornerstone's tools write it. */
  sliceData(slice: number): Uint8Array | null {
    const imageId = this.labelmapIds[slice];
    const image = imageId ? cache.getImage(imageId) : undefined;
    if (!image) return null;
    return (image.voxelManager ? image.voxelManager.getScalarData() : image.getPixelData()) as Uint8Array;
  }

  /** Colours and visibility of every segment, on every viewport that shows them. */
  syncSegments(): void {
    const model = this.model;
    const id = this.segmentationId;
    if (!model || !id) return;
    // What Cornerstone's brush and scissors in the planes paint, and what they must leave alone.
    if (model.activeSegment !== null) segmentation.segmentIndex.setActiveSegmentIndex(id, model.activeSegment);
    // Cornerstone knows a segment only once something has been painted with it: lock the ones it knows
    // (plane-editing.ts refuses a stroke's changes to locked segments in any case).
    const known = segmentation.state.getSegmentation(id)?.segments ?? {};
    for (const segment of model.segments) {
      if (known[segment.number]) segmentation.segmentLocking.setSegmentIndexLocked(id, segment.number, segment.locked);
    }
    for (const viewportId of [this.viewportId, ...this.planeViewportIds]) {
      if (!getEnabledElementByViewportId(viewportId)) continue;
      for (const segment of model.segments) {
        segmentation.config.color.setSegmentIndexColor(viewportId, id, segment.number, [...segment.color, 255]);
        segmentation.config.visibility.setSegmentIndexVisibility(viewportId, { segmentationId: id, type: LABELMAP }, segment.number, segment.visible);
      }
    }
  }

  private addToPlanes(viewportIds: readonly string[]): void {
    const id = this.segmentationId;
    if (!id) return;
    for (const viewportId of viewportIds) {
      if (!getEnabledElementByViewportId(viewportId)) continue;
      if (segmentation.state.getSegmentationRepresentations(viewportId, { segmentationId: id }).length === 0) {
        segmentation.addLabelmapRepresentationToViewport(viewportId, [{ segmentationId: id }]);
      }
      segmentation.activeSegmentation.setActiveSegmentation(viewportId, id);
    }
  }
}

function removeFrom(viewportId: string, segmentationId: string): void {
  if (!getEnabledElementByViewportId(viewportId)) return;
  segmentation.removeSegmentationRepresentations(viewportId, { segmentationId });
}

/** Whether every label of `slice` is 0, read four bytes at a time where the slice is aligned for it. */
function isEmpty(slice: Uint8Array): boolean {
  const words = slice.byteOffset % 4 === 0 ? Math.floor(slice.length / 4) : 0;
  const wide = new Uint32Array(slice.buffer, slice.byteOffset, words);
  for (let i = 0; i < words; i++) if (wide[i] !== 0) return false;
  for (let i = words * 4; i < slice.length; i++) if (slice[i] !== 0) return false;
  return true;
}
