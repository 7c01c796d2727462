// Which labelmap images a stroke in the planes wrote into, and where. Cornerstone's
// brush and scissors write the planes' labelmap volume through each slice image's own
// voxel manager, which records the slices and the box of pixels it changed; clearing
// those records when the button goes down leaves, at mouse-up, exactly what this stroke
// touched (whatever its shape, brush size or slab depth). Our own copies into the images
// (CornerstoneLabelmap.syncSlices) write the arrays directly and leave no record.
import { cache, type Types } from '@cornerstonejs/core';
import { segmentation } from '@cornerstonejs/tools';
import type { CornerstoneLabelmap } from './cornerstone-labelmap.ts';
import type { TouchedSlice } from './stroke-commit.ts';

type SliceVoxels = Types.IVoxelManager<number>;

export class StrokeTracker {
  private readonly labelmap: CornerstoneLabelmap;
  /** Each slice's voxel manager for the stroke under way; null when there is none, or they cannot be found. */
  private voxels: SliceVoxels[] | null = null;

  constructor(labelmap: CornerstoneLabelmap) {
    this.labelmap = labelmap;
  }

  /** Before the tools act on a press: forget what earlier writes recorded. */
  begin(slices: number): void {
    this.voxels = this.sliceVoxels(slices);
    for (const voxels of this.voxels ?? []) {
      voxels.resetModifiedSlices();
      voxels.clearBounds();
    }
  }

  /** The slices the stroke wrote into, with the pixels' box; null when that cannot be told (compare every slice then). */
  end(): TouchedSlice[] | null {
    const voxels = this.voxels;
    this.voxels = null;
    if (!voxels) return null;
    const touched: TouchedSlice[] = [];
    voxels.forEach((sliceVoxels, slice) => {
      if (sliceVoxels.getArrayOfModifiedSlices().length === 0) return;
      // A change recorded without a position (a whole-image write) leaves the default bounds: the whole slice.
      const [[firstColumn, lastColumn], [firstRow, lastRow]] = sliceVoxels.getBoundsIJK();
      touched.push({ slice, box: { firstColumn, lastColumn, firstRow, lastRow } });
    });
    return touched;
  }

  /**
   * The voxel managers of the labelmap images, in series slice order, as Cornerstone's
   * segmentation state lists them — each checked to hold the pixels CornerstoneLabelmap
   * reads for that slice, so a stroke is never judged on other images.
   */
  private sliceVoxels(slices: number): SliceVoxels[] | null {
    const id = this.labelmap.id;
    const imageIds = id ? segmentation.state.getSegmentation(id)?.representationData.Labelmap?.imageIds : undefined;
    if (!imageIds || imageIds.length !== slices) return null;
    const out: SliceVoxels[] = [];
    for (let slice = 0; slice < slices; slice++) {
      const voxels = cache.getImage(imageIds[slice]!)?.voxelManager as SliceVoxels | undefined;
      if (!voxels || voxels.getScalarData() !== this.labelmap.sliceData(slice)) return null;
      out.push(voxels);
    }
    return out;
  }
}
