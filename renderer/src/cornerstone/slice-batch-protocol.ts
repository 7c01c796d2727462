// The messages between the page and the slice-batch worker (slice-batch.worker.ts). The
// worker fetches file batches, parses each file and decodes its pixels with the image
// loader's own decoder, so the page receives finished pixel arrays (transferred, not
// copied) and the file's naturalized metadata instead of raw files to parse. No DOM or
// Cornerstone types here: the host tests import it.

/** The pixel array types Cornerstone's image and volume buffers use. */
export type PixelArrayName = 'Uint8Array' | 'Int8Array' | 'Uint16Array' | 'Int16Array' | 'Uint32Array' | 'Float32Array';
export type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Float32Array;

export const PIXEL_ARRAYS: Record<PixelArrayName, new (source: ArrayLike<number> | number) => PixelArray> = {
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Float32Array,
};

/** dicom-image-loader's rule (getPixelDataTypeFromMinMax) for the array type of an image decoded without a target buffer. */
export function pixelArrayForRange(min: number, max: number): PixelArrayName {
  if (Number.isInteger(min) && Number.isInteger(max)) {
    if (min >= 0) {
      if (max <= 255) return 'Uint8Array';
      if (max <= 65535) return 'Uint16Array';
      if (max <= 4294967295) return 'Uint32Array';
    } else {
      if (min >= -128 && max <= 127) return 'Int8Array';
      if (min >= -32768 && max <= 32767) return 'Int16Array';
    }
  }
  return 'Float32Array';
}

/** How a file's pixels are wanted: what the image loader's options say for that image. */
export type DecodeRequest = {
  /** The buffer type the caller asked for (a volume's data type), or null to choose it from the values as the loader does. */
  targetType: PixelArrayName | null;
  /** Whether the modality rescale is applied to the stored values (the loader's preScale). */
  preScale: boolean;
  /** Whether the page renders float textures (rescales with fractions stay unscaled otherwise). */
  allowFloatRendering: boolean;
};

export type ScalingParameters = { rescaleSlope: number; rescaleIntercept: number; modality: string | undefined };

/** A decoded single-frame monochrome image, as dicom-image-loader's decoder leaves its image frame. */
export type DecodedFrame = {
  pixelData: PixelArray;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  smallestPixelValue: number;
  largestPixelValue: number;
  pixelDataLength: number;
  decodeTimeInMS: number;
  preScale?: { enabled: boolean; scaled?: boolean; scalingParameters?: ScalingParameters };
};

/**
 * A file's naturalized metadata as it crosses to the page: JSON text where it holds no binary
 * values (a string crosses at the cost of a copy, an object graph of a hundred small values
 * costs a millisecond each way to clone), else the object itself.
 */
export type NaturalOnTheWire = { json: string } | { object: Record<string, unknown> };

export function naturalToWire(natural: Record<string, unknown>): NaturalOnTheWire {
  let binary = false;
  const json = JSON.stringify(natural, (_key, value: unknown) => {
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) binary = true;
    return value;
  });
  return binary ? { object: natural } : { json };
}

export function naturalFromWire(wire: NaturalOnTheWire): Record<string, unknown> {
  return 'json' in wire ? (JSON.parse(wire.json) as Record<string, unknown>) : wire.object;
}

/**
 * What became of one file: decoded here, or handed back as bytes for the image loader's
 * own path (colour, multi-frame, deflated, PT/RTDOSE scaling, a modality LUT, a file it
 * cannot read), with the reason.
 */
export type SliceOutcome =
  | { kind: 'decoded'; natural: NaturalOnTheWire; frame: DecodedFrame; transferSyntaxUid: string; scaling: ScalingParameters | null }
  | { kind: 'bytes'; bytes: ArrayBuffer; why: string };

export type SliceBatchRequest = {
  kind: 'slice-batch';
  id: number;
  /** The batch URL (electron/common/file-batch-format.ts), and each file's own URL for a batch refused as too large. */
  url: string;
  files: Array<{ key: string; url: string; decode: DecodeRequest }>;
};
export type SliceBatchCancel = { kind: 'slice-batch-cancel'; id: number };
export type ToSliceWorker = SliceBatchRequest | SliceBatchCancel;

export type SliceFileMessage =
  | { kind: 'slice-file'; id: number; key: string; ok: true; outcome: SliceOutcome }
  | { kind: 'slice-file'; id: number; key: string; ok: false; reason: string };
/** The batch is over: every file was answered, or `error` says why the rest were not. */
export type SliceBatchDone = { kind: 'slice-batch-done'; id: number; error: string | null };
export type FromSliceWorker = SliceFileMessage | SliceBatchDone;
