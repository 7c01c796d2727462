// Nearest-first retrieval for a streamed volume, through Cornerstone's own hook for it: an
// imageRetrieveConfiguration registered under the volume id, whose `create` hands the
// volume its images loader. Each slice is one request in Cornerstone's image load pool,
// as on the volume's default path, and carries the volume id, so cancelLoading drops the
// requests not yet sent; they queue nearest the slice in view first, where the default
// path queues them from one end of the series (and Cornerstone's interleaved stages
// decimate across the whole series, which suits a first coarse look at a 3D rendering,
// not a plane the user is reading).
import { Enums, imageLoader, imageLoadPoolManager, utilities } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import { nearestFirst } from './nearest-first.ts';

/** The volume's own priority on its default path: behind what the user asked for (Interaction requests). */
const VOLUME_PRIORITY = 5;

/**
 * Makes the volume `volumeId` load nearest `focusImageId` first (its middle when that is
 * not one of its images) once its load() runs; returns a function that forgets the setting.
 */
export function retrieveNearestFirst(volumeId: string, focusImageId: string | null): () => void {
  const configuration: Types.IRetrieveConfiguration = {
    create: () => ({
      loadImages: (imageIds: string[], listener: Types.ImageLoadListener) => {
        const focus = focusImageId === null ? -1 : imageIds.indexOf(focusImageId);
        const order = nearestFirst(imageIds.length, focus >= 0 ? focus : (imageIds.length - 1) / 2);
        return Promise.all(order.map((index) => queueSlice(volumeId, imageIds[index] as string, listener)));
      },
    }),
  };
  utilities.imageRetrieveMetadataProvider.add(volumeId, configuration);
  return () => utilities.imageRetrieveMetadataProvider.add(volumeId, undefined);
}

function queueSlice(volumeId: string, imageId: string, listener: Types.ImageLoadListener): Promise<void> {
  return new Promise<void>((resolve) => {
    imageLoadPoolManager.addRequest(
      async () => {
        try {
          listener.successCallback(imageId, await imageLoader.loadAndCacheImage(imageId, listener.getLoaderImageOptions?.(imageId) as Parameters<typeof imageLoader.loadAndCacheImage>[1]));
        } catch (error) {
          listener.errorCallback(imageId, true, error);
        } finally {
          resolve();
        }
      },
      Enums.RequestType.Prefetch,
      { volumeId, imageId },
      VOLUME_PRIORITY,
    );
  });
}
