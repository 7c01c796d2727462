// The `wadouri:` image loader, fed by file batches (file-batcher.ts) that slice-batch workers
// fetch, parse and decode (slice-batch.worker.ts): for a single-frame monochrome file the page
// receives the decoded pixel array and the file's naturalized metadata, stores the metadata
// where Cornerstone's providers look first, and builds the image (decoded-image.ts) without
// parsing or decoding anything on its own thread. Every other file (color, multi-frame,
// deflated, PT/RTDOSE scaling, a metadata disagreement) comes back as bytes and goes the
// dicom-image-loader's own way (prefetchPart10Instance, then its naturalized-metadata loader
// and decode workers). Image ids stay the app's `wadouri:<fileUrl>[?frame=N]`. The stack, the
// volume (its streaming loader goes through this registered loader) and the segment editor's
// labelmap share the batches.
import { canRenderFloatTextures, Enums, imageLoader, imageLoadPoolManager, metaData } from '@cornerstonejs/core';
import type { Types } from '@cornerstonejs/core';
import { prefetchPart10Instance, wadouri } from '@cornerstonejs/dicom-image-loader';
import { Enums as MetadataEnums } from '@cornerstonejs/metadata';
import type { HostApi } from '../../../electron/common/contract.ts';
import { nearestFirst } from '../viewer/nearest-first.ts';
import { disagreement, forgetNaturalized, imageFromDecodedFrame, storeNaturalized } from './decoded-image.ts';
import { fetchBatchTransport, FileBatcher, type BatchTransport } from './file-batcher.ts';
import { downloadKeyOf, registerDownloadCanceller } from './image-requests.ts';
import { inflateDeflatedPart10 } from './inflate-deflated-part10.ts';
import { SliceBatchClient } from './slice-batch-client.ts';
import type { DecodePathsReport, ImageSummary } from '../test-hook-types.ts';
import { naturalFromWire, PIXEL_ARRAYS, pixelArrayForRange, type DecodedFrame, type DecodeRequest, type PixelArrayName, type ScalingParameters, type SliceOutcome } from './slice-batch-protocol.ts';

const NATURALIZED = MetadataEnums.MetadataModules.NATURALIZED;
/** ~12 MB per response for 512×512 CT slices; four in flight keep the host's disk and the workers busy. */
const FILES_PER_BATCH = 24;
const BATCHES_IN_FLIGHT = 4;
const PIXEL_DATA_KEYS = ['PixelData', 'FloatPixelData', 'DoubleFloatPixelData'];

let installed: { prefix: string; batcher: FileBatcher<SliceOutcome, DecodeRequest>; fileUrl(key: string): string } | null = null;

/** A file once its batch answered: decoded pixels waiting for their image, or its bytes in the naturalized metadata. */
type Decoded = {
  kind: 'decoded';
  frame: DecodedFrame;
  natural: Record<string, unknown>;
  scaling: ScalingParameters | null;
  request: DecodeRequest;
  /** An image was built on the frame's array already: the next asker (a load outside the cache at the same moment) gets a copy. */
  taken: boolean;
};
type Arrival = Decoded | { kind: 'naturalized' };
/** Files on their way, by base image id: every asker of a file shares one arrival. */
const arriving = new Map<string, Promise<Arrival>>();
/**
 * Frames decoded before any image asked for them (the labelmap asks for every file's metadata
 * when a series opens, usually just before the volume asks for its images), kept for the image
 * that will: up to UNCLAIMED_BYTES, oldest dropped first (such an image is then fetched again).
 */
const unclaimed = new Map<string, Decoded>();
let unclaimedBytes = 0;
const UNCLAIMED_BYTES = 1024 * 1024 * 1024;
/** What a metadata-only asker has decoded: what the stack view asks for (the loader's defaults). */
const DEFAULT_DECODE: Omit<DecodeRequest, 'allowFloatRendering'> = { targetType: null, preScale: true };
/** Image loads through this loader not yet settled, and who waits for there being none. */
let loading = 0;
let idleWaiters: Array<() => void> = [];

/** Two decoding workers where there are cores for them besides the page's, else one. */
function sliceWorkerCount(): number {
  const cores = typeof navigator.hardwareConcurrency === 'number' ? navigator.hardwareConcurrency : 2;
  return cores >= 4 ? 2 : 1;
}

/** Registers the batched `wadouri:` loader for the host's file URLs (after the image loader's init). */
export function installBatchedFileLoader(host: HostApi, options: { sliceWorker?: boolean } = {}): void {
  const urls = { batchUrl: (keys: readonly string[]) => host.fileBatchUrl(keys), fileUrl: (key: string) => host.fileUrl(key) };
  const transport = options.sliceWorker === false ? bytesOnThisThread(fetchBatchTransport(urls)) : new SliceBatchClient(urls, sliceWorkerCount());
  const batcher = new FileBatcher<SliceOutcome, DecodeRequest>({ filesPerBatch: FILES_PER_BATCH, batchesInFlight: BATCHES_IN_FLIGHT, transport });
  installed = { prefix: `wadouri:${host.fileUrl('')}`, batcher, fileUrl: (key) => host.fileUrl(key) };
  registerDownloadCanceller((downloadKeys) => {
    for (const base of downloadKeys) {
      const decoded = unclaimed.get(base);
      if (decoded) claim(base, decoded);
    }
    const keys = [...downloadKeys].map(fileKeyOf).filter((key): key is string => key !== null);
    return batcher.cancel(keys);
  });
  imageLoader.registerImageLoader('wadouri', (imageId: string, options?: Record<string, unknown>) => {
    loading++;
    const promise = loadImage(imageId, options).finally(() => {
      if (--loading > 0) return;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    });
    return { promise } as unknown as Types.IImageLoadObject;
  });
}

/** The batches fetched and split on the page, each file handed to the image loader as it is: the loading before the slice-batch worker, kept to be measured against. */
function bytesOnThisThread(transport: BatchTransport<ArrayBuffer, undefined>): BatchTransport<SliceOutcome, DecodeRequest> {
  return {
    send: (files, signal, deliver) =>
      transport.send(
        files.map((file) => ({ key: file.key, request: undefined })),
        signal,
        (key, result) => deliver(key, result.ok ? { ok: true, value: { kind: 'bytes', bytes: result.value, why: 'no slice worker' } } : result),
      ),
  };
}

function hasPixelData(imageId: string): boolean {
  const natural = metaData.get(NATURALIZED, imageId) as Record<string, unknown> | undefined;
  return natural !== undefined && PIXEL_DATA_KEYS.some((key) => natural[key] !== undefined);
}

/** What the image loader's options ask of the pixels (its createImage's defaults where they say nothing). */
function decodeRequestOf(options: Record<string, unknown> | undefined): DecodeRequest {
  const targetType = (options?.['targetBuffer'] as { type?: PixelArrayName } | undefined)?.type ?? null;
  const preScale = (options?.['preScale'] as { enabled?: boolean } | undefined)?.enabled ?? true;
  return { targetType, preScale, allowFloatRendering: canRenderFloatTextures() };
}

async function loadImage(imageId: string, options: Record<string, unknown> | undefined): Promise<Types.IImage> {
  const key = fileKeyOf(downloadKeyOf(imageId));
  // A multi-frame file, another URL, or a file whose bytes are already in the metadata: the loader's own way.
  if (key === null || imageId.includes('?') || hasPixelData(imageId)) return wadouri.loadImageFromNaturalizedMetadata(imageId, options).promise;
  const request = decodeRequestOf(options);
  const base = downloadKeyOf(imageId);
  const waiting = unclaimed.get(base);
  const arrival = waiting ?? (await arrive(imageId, options?.['requestType'] === Enums.RequestType.Interaction, request));
  if (arrival.kind === 'decoded') {
    claim(base, arrival);
    if (arrival.request.preScale === request.preScale && arrival.request.allowFloatRendering === request.allowFloatRendering) {
      // Decoded for another asker (the labelmap, before the volume asked): only the array type can
      // differ, and createImage converts to the type asked for just so.
      const type = request.targetType ?? pixelArrayForRange(arrival.frame.smallestPixelValue, arrival.frame.largestPixelValue);
      const own = arrival.frame.pixelData.constructor.name === type && !arrival.taken;
      arrival.taken = true;
      const frame = own ? arrival.frame : { ...arrival.frame, pixelData: new PIXEL_ARRAYS[type](arrival.frame.pixelData) };
      return imageFromDecodedFrame(imageId, frame, arrival.natural);
    }
    // Decoded with the other rescale setting: the loader's own way for this one.
    forgetNaturalized(base);
    await prefetchPart10Instance(base, await inflateDeflatedPart10(await fetchFile(fileKeyOf(base) as string)));
  }
  return wadouri.loadImageFromNaturalizedMetadata(imageId, options).promise;
}

function keepUnclaimed(base: string, decoded: Decoded): void {
  unclaimed.set(base, decoded);
  unclaimedBytes += decoded.frame.pixelData.byteLength;
  for (const [oldest, entry] of unclaimed) {
    if (unclaimedBytes <= UNCLAIMED_BYTES) break;
    claim(oldest, entry);
  }
}

function claim(base: string, decoded: Decoded): void {
  if (unclaimed.get(base) !== decoded) return;
  unclaimed.delete(base);
  unclaimedBytes -= decoded.frame.pixelData.byteLength;
}

async function fetchFile(key: string): Promise<ArrayBuffer> {
  const response = await fetch((installed as NonNullable<typeof installed>).fileUrl(key), { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${key}: HTTP ${response.status} ${await response.text()}`);
  return response.arrayBuffer();
}

/**
 * The file of `imageId` from the batches, once: decoded for `request` when the worker can
 * (`request` null: an asker of the metadata only, whose frame is kept for the image that will
 * ask), or its bytes added to the naturalized metadata for the loader's own path (a file the
 * worker hands back, or whose metadata disagrees with what the worker decoded). An `urgent`
 * file not yet on its way is fetched alone instead; one already queued moves to the front.
 */
function arrive(imageId: string, urgent: boolean, request: DecodeRequest | null): Promise<Arrival> {
  const base = downloadKeyOf(imageId);
  const key = fileKeyOf(base);
  if (!installed || key === null) return Promise.reject(new Error(`${imageId} is not a file the batches serve`));
  const batcher = installed.batcher;
  const known = arriving.get(base);
  if (known) {
    if (urgent && batcher.has(key)) void batcher.get(key, true).catch(() => {});
    return known;
  }
  if (urgent) {
    // The slice the user looks at: alone and at once, decoded by the image loader's own warm
    // decode worker, rather than behind whatever the slice-batch worker has in hand.
    const single = fetchFile(key)
      .then(async (bytes): Promise<Arrival> => {
        await prefetchPart10Instance(base, await inflateDeflatedPart10(bytes));
        return { kind: 'naturalized' };
      })
      .finally(() => arriving.delete(base));
    arriving.set(base, single);
    return single;
  }
  const wanted = request ?? { ...DEFAULT_DECODE, allowFloatRendering: canRenderFloatTextures() };
  const next = batcher
    .get(key, false, wanted)
    .then(async (outcome): Promise<Arrival> => {
      let bytes: ArrayBuffer;
      if (outcome.kind === 'decoded') {
        const natural = naturalFromWire(outcome.natural);
        storeNaturalized(base, natural);
        const why = disagreement(imageId, outcome.frame, outcome.scaling, wanted.preScale);
        if (why === null) {
          const decoded: Decoded = { kind: 'decoded', frame: outcome.frame, natural, scaling: outcome.scaling, request: wanted, taken: false };
          if (request === null) keepUnclaimed(base, decoded);
          return decoded;
        }
        console.warn(`${key}: decoded by the image loader instead (${why})`);
        forgetNaturalized(base);
        bytes = await fetchFile(key);
      } else {
        bytes = outcome.bytes;
      }
      await prefetchPart10Instance(base, await inflateDeflatedPart10(bytes));
      return { kind: 'naturalized' };
    })
    .finally(() => arriving.delete(base));
  arriving.set(base, next);
  return next;
}

/** The host's file key of a `wadouri:` download key, or null for another URL (left to the plain loader). */
function fileKeyOf(downloadKey: string): string | null {
  if (!installed || !downloadKey.startsWith(installed.prefix)) return null;
  const encoded = downloadKey.slice(installed.prefix.length);
  return encoded.includes('/') || encoded.includes('?') ? null : decodeURIComponent(encoded);
}

/**
 * Resolves once the file of `imageId` is in Cornerstone's metadata; at once for a file already
 * there or a URL the batches do not serve.
 */
export async function ensurePart10(imageId: string, urgent = false): Promise<void> {
  if (metaData.get(NATURALIZED, imageId)) return;
  const key = fileKeyOf(downloadKeyOf(imageId));
  if (!installed || key === null) return;
  await arrive(imageId, urgent, null);
}

/** Resolves when no image load is in progress through this loader (at once when none is). */
export function whenImageLoadsIdle(): Promise<void> {
  return loading === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
}

/**
 * The metadata of every image of a series (geometry, pixel format), nearest its middle first:
 * what derived images (the segment editor's labelmap) copy. The batches' worker decodes each
 * file on the way (its frame waits for the image that will ask, usually the volume's, which
 * asks a moment later); files the batches do not serve are loaded through Cornerstone's pool,
 * behind what the user asked for. Resolves once the images being loaded meanwhile (the volume)
 * are in and their completion handled: what the caller does next (allocating a labelmap image
 * per slice) would hold the main thread they arrive on.
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
  // A task later: the last image's own callbacks (the volume's completion) run before the caller's work.
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * For the tests: one indexed file loaded both ways, under probe image ids of its own (nothing
 * shared with the viewer's images): through the slice-batch worker, and through
 * dicom-image-loader's own path (its naturalized metadata from the file's bytes, its decode
 * workers). Reports what the worker did with the file and a summary of each image.
 */
export async function probeDecodePaths(fileKey: string, asked: { targetType: PixelArrayName | null; preScale: boolean }): Promise<DecodePathsReport> {
  if (!installed) throw new Error('the batched file loader is not installed');
  const url = installed.fileUrl(fileKey);
  const options = { ...(asked.targetType ? { targetBuffer: { type: asked.targetType } } : {}), preScale: { enabled: asked.preScale } };
  const request = decodeRequestOf(options);
  const workerId = `wadouri:${url}?probe=worker`;
  const loaderId = `wadouri:${url}?probe=loader`;
  try {
    const outcome = await installed.batcher.get(fileKey, true, request);
    let worker: ImageSummary | null = null;
    let workerPath: string;
    if (outcome.kind === 'decoded') {
      const natural = naturalFromWire(outcome.natural);
      storeNaturalized(workerId, natural);
      const why = disagreement(workerId, outcome.frame, outcome.scaling, request.preScale);
      workerPath = why === null ? 'decoded' : `disagrees: ${why}`;
      worker = summarizeImage(imageFromDecodedFrame(workerId, outcome.frame, natural), workerId);
    } else {
      workerPath = `handed back: ${outcome.why}`;
    }
    await prefetchPart10Instance(loaderId, await inflateDeflatedPart10(await fetchFile(fileKey)));
    // The loader types its options as a volume's full target buffer; a type alone is what a volume's loads pass too.
    const loader = summarizeImage(await wadouri.loadImageFromNaturalizedMetadata(loaderId, options as Parameters<typeof wadouri.loadImageFromNaturalizedMetadata>[1]).promise, loaderId);
    return { workerPath, worker, loader };
  } finally {
    forgetNaturalized(workerId);
    forgetNaturalized(loaderId);
  }
}

function summarizeImage(image: Types.IImage, imageId: string): ImageSummary {
  const pixels = image.getPixelData() as ArrayLike<number>;
  let sum = 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < pixels.length; i++) {
    const value = pixels[i] as number;
    sum += value;
    hash = Math.imul(hash ^ (Math.round(value * 1000) | 0), 16777619) >>> 0;
  }
  const plane = metaData.get('imagePlaneModule', imageId) as Record<string, unknown> | undefined;
  const pixel = metaData.get('imagePixelModule', imageId) as Record<string, unknown> | undefined;
  const pick = (module: Record<string, unknown> | undefined, keys: string[]) => Object.fromEntries(keys.map((key) => [key, module?.[key] ?? null]));
  return {
    dataType: pixels.constructor.name,
    length: pixels.length,
    sum,
    hash,
    fields: pick(image as unknown as Record<string, unknown>, ['rows', 'columns', 'minPixelValue', 'maxPixelValue', 'slope', 'intercept', 'windowCenter', 'windowWidth', 'invert', 'color', 'numberOfComponents', 'rowPixelSpacing', 'columnPixelSpacing', 'voiLUTFunction', 'sizeInBytes']),
    preScale: JSON.parse(JSON.stringify((image as unknown as { preScale?: unknown }).preScale ?? null)) as unknown,
    plane: pick(plane, ['imagePositionPatient', 'imageOrientationPatient', 'rowPixelSpacing', 'columnPixelSpacing', 'frameOfReferenceUID', 'sliceThickness']),
    pixel: pick(pixel, ['rows', 'columns', 'bitsAllocated', 'bitsStored', 'pixelRepresentation', 'photometricInterpretation', 'samplesPerPixel']),
  };
}
