// The `wadouri:` image loader, fed by file batches (file-batcher.ts) instead of one XHR per
// file. Image ids stay the app's `wadouri:<fileUrl>[?frame=N]`: before the dicom-image-loader's
// own loader runs, the file's bytes are handed to it with its prefetchPart10Instance, which
// fills the NATURALIZED metadata that loader looks for first, so it fetches nothing itself
// and decodes in its web workers as before. The stack, the volume (its streaming loader goes
// through the same registered loader) and the segment editor's labelmap share the batches.
import { Enums, imageLoader, imageLoadPoolManager, metaData } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import { prefetchPart10Instance, wadouri } from '@cornerstonejs/dicom-image-loader';
import { Enums as MetadataEnums } from '@cornerstonejs/metadata';
import type { HostApi } from '../../../electron/common/contract.ts';
import { nearestFirst } from '../viewer/nearest-first.ts';
import { FileBatcher } from './file-batcher.ts';
import { downloadKeyOf, registerDownloadCanceller } from './image-requests.ts';
import { inflateDeflatedPart10 } from './inflate-deflated-part10.ts';

const NATURALIZED = MetadataEnums.MetadataModules.NATURALIZED;
/** ~12 MB per response for 512×512 CT slices; four in flight keep the host's disk and the page's parser busy. */
const FILES_PER_BATCH = 24;
const BATCHES_IN_FLIGHT = 4;

let installed: { prefix: string; batcher: FileBatcher } | null = null;
/** Files whose bytes are on their way into the metadata, by base image id. */
const arriving = new Map<string, Promise<void>>();
/** Image loads through this loader not yet settled, and who waits for there being none. */
let loading = 0;
let idleWaiters: Array<() => void> = [];

/** Registers the batched `wadouri:` loader for the host's file URLs (after the image loader's init). */
export function installBatchedFileLoader(host: HostApi): void {
  const batcher = new FileBatcher({
    batchUrl: (keys) => host.fileBatchUrl(keys),
    fileUrl: (key) => host.fileUrl(key),
    filesPerBatch: FILES_PER_BATCH,
    batchesInFlight: BATCHES_IN_FLIGHT,
  });
  installed = { prefix: `wadouri:${host.fileUrl('')}`, batcher };
  registerDownloadCanceller((downloadKeys) => {
    const keys = [...downloadKeys].map(fileKeyOf).filter((key): key is string => key !== null);
    return batcher.cancel(keys);
  });
  imageLoader.registerImageLoader('wadouri', (imageId: string, options?: Record<string, unknown>) => {
    const urgent = options?.['requestType'] === Enums.RequestType.Interaction;
    loading++;
    const promise = ensurePart10(imageId, urgent)
      .then(() => wadouri.loadImageFromNaturalizedMetadata(imageId, options).promise)
      .finally(() => {
        if (--loading > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      });
    return { promise } as unknown as Types.IImageLoadObject;
  });
}

/** The host's file key of a `wadouri:` download key, or null for another URL (left to the plain loader). */
function fileKeyOf(downloadKey: string): string | null {
  if (!installed || !downloadKey.startsWith(installed.prefix)) return null;
  const encoded = downloadKey.slice(installed.prefix.length);
  return encoded.includes('/') || encoded.includes('?') ? null : decodeURIComponent(encoded);
}

/**
 * Resolves once the file of `imageId` is in Cornerstone's metadata (its bytes included);
 * at once for a file already there or a URL the batches do not serve.
 */
export function ensurePart10(imageId: string, urgent = false): Promise<void> {
  if (metaData.get(NATURALIZED, imageId)) return Promise.resolve();
  const base = downloadKeyOf(imageId);
  const key = fileKeyOf(base);
  if (!installed || key === null) return Promise.resolve();
  const batcher = installed.batcher;
  const known = arriving.get(base);
  if (known) {
    if (urgent) void batcher.get(key, true).catch(() => {});
    return known;
  }
  const next = batcher
    .get(key, urgent)
    .then(async (bytes) => {
      await prefetchPart10Instance(base, await inflateDeflatedPart10(bytes));
    })
    .finally(() => arriving.delete(base));
  arriving.set(base, next);
  return next;
}

/** Resolves when no image load is in progress through this loader (at once when none is). */
export function whenImageLoadsIdle(): Promise<void> {
  return loading === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
}

/**
 * The metadata of every image of a series (geometry, pixel format), nearest its middle first,
 * without decoding one: what derived images (the segment editor's labelmap) copy. Files the
 * batches do not serve are loaded through Cornerstone's pool, behind what the user asked for.
 * Resolves once the images being loaded meanwhile (the volume) are in too: what the caller
 * does next (allocating a labelmap image per slice) would hold the main thread they decode on.
 */
export async function loadSeriesMetadata(imageIds: readonly string[]): Promise<void> {
  const order = nearestFirst(imageIds.length, (imageIds.length - 1) / 2);
  await Promise.all(
    order.map((index) => {
      const imageId = imageIds[index] as string;
      if (fileKeyOf(downloadKeyOf(imageId)) !== null) return ensurePart10(imageId);
      if (metaData.get(NATURALIZED, imageId)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        imageLoadPoolManager.addRequest(
          () => imageLoader.loadAndCacheImage(imageId).then(() => resolve(), reject),
          Enums.RequestType.Prefetch,
          { imageId },
          6,
        );
      });
    }),
  );
  await whenImageLoadsIdle();
}
