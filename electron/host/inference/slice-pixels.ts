// A slice's pixels in the host, for the models: one frame of a DICOM file as modality
// values (HU for CT: RescaleSlope/Intercept applied, per frame for enhanced multi-frame
// objects). Native (uncompressed) pixel data only: little and big endian, deflated, 1/8/16/32
// bits, signed or not, any BitsStored. Compressed transfer syntaxes are decoded by the
// renderer's codecs, not here: they fail with SlicePixelError('unsupported') and say so.
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';

export interface SlicePixels {
  width: number;
  height: number;
  /** Modality values, row by row (x = column fastest). */
  pixels: Float32Array;
  /** The object's own display window (first value), when it has one. */
  windowCenter?: number;
  windowWidth?: number;
  /** MONOCHROME1 images display inverted: low values white. */
  invert: boolean;
  /** Set when the stored image was converted (e.g. RGB to luminance); null otherwise. */
  conversionNote: string | null;
}

export type SlicePixelProblem = 'unsupported' | 'malformed' | 'frame-out-of-range' | 'unreadable';

export class SlicePixelError extends Error {
  readonly problem: SlicePixelProblem;
  readonly file: string;
  constructor(problem: SlicePixelProblem, file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'SlicePixelError';
    this.problem = problem;
    this.file = file;
  }
}

const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BIG = '1.2.840.10008.1.2.2';
const NATIVE_SYNTAXES = new Set([IMPLICIT_LITTLE, EXPLICIT_LITTLE, DEFLATED, EXPLICIT_BIG]);

function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}

function parse(bytes: Uint8Array, file: string): DataSet {
  try {
    return dicomParser.parseDicom(bytes, { inflater });
  } catch (first) {
    // Files without a Part 10 preamble: a raw data set, implicit little endian by default.
    try {
      return dicomParser.parseDicom(bytes, { TransferSyntaxUID: IMPLICIT_LITTLE, inflater });
    } catch {
      throw new SlicePixelError('malformed', file, `not a readable DICOM file (${String((first as Error)?.message ?? first)})`);
    }
  }
}

function firstNumber(dataSet: DataSet, tag: string): number | undefined {
  const text = dataSet.string(tag);
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.split('\\')[0]);
  return Number.isFinite(value) ? value : undefined;
}

interface FrameTransform {
  slope: number;
  intercept: number;
  windowCenter?: number;
  windowWidth?: number;
}

/** Rescale and window for one frame: per-frame functional groups, then shared, then top level. */
function frameTransform(dataSet: DataSet, frame: number): FrameTransform {
  const result: FrameTransform = {
    slope: firstNumber(dataSet, 'x00281053') ?? 1,
    intercept: firstNumber(dataSet, 'x00281052') ?? 0,
  };
  const center = firstNumber(dataSet, 'x00281050');
  const width = firstNumber(dataSet, 'x00281051');
  if (center !== undefined && width !== undefined && width > 0) {
    result.windowCenter = center;
    result.windowWidth = width;
  }
  const groups = [dataSet.elements.x52009229?.items?.[0]?.dataSet, dataSet.elements.x52009230?.items?.[frame]?.dataSet];
  for (const group of groups) {
    if (!group) continue;
    const transform = group.elements.x00289145?.items?.[0]?.dataSet;
    if (transform) {
      result.slope = firstNumber(transform, 'x00281053') ?? result.slope;
      result.intercept = firstNumber(transform, 'x00281052') ?? result.intercept;
    }
    const voi = group.elements.x00289132?.items?.[0]?.dataSet;
    if (voi) {
      const c = firstNumber(voi, 'x00281050');
      const w = firstNumber(voi, 'x00281051');
      if (c !== undefined && w !== undefined && w > 0) {
        result.windowCenter = c;
        result.windowWidth = w;
      }
    }
  }
  return result;
}

/** Decodes frame `frame` (0-based) of a native-pixel DICOM file held in `bytes`. */
export function decodeSlice(bytes: Uint8Array, frame: number, file = '(bytes)'): SlicePixels {
  const dataSet = parse(bytes, file);
  const syntax = (dataSet.string('x00020010') ?? IMPLICIT_LITTLE).replace(/\0/g, '').trim();
  if (!NATIVE_SYNTAXES.has(syntax)) {
    throw new SlicePixelError(
      'unsupported',
      file,
      `pixel data is compressed (transfer syntax ${syntax}); the inference host reads uncompressed pixel data only — convert the series (e.g. dcmdjpeg/gdcmconv --raw) or open an uncompressed copy`,
    );
  }
  const pixelElement = dataSet.elements.x7fe00010;
  if (!pixelElement) {
    const floatData = dataSet.elements.x7fe00008 ?? dataSet.elements.x7fe00009;
    throw new SlicePixelError(floatData ? 'unsupported' : 'malformed', file, floatData ? 'float pixel data is not supported' : 'the file has no Pixel Data');
  }
  const rows = dataSet.uint16('x00280010') ?? 0;
  const columns = dataSet.uint16('x00280011') ?? 0;
  const bitsAllocated = dataSet.uint16('x00280100') ?? 0;
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  const signed = (dataSet.uint16('x00280103') ?? 0) === 1;
  const samples = dataSet.uint16('x00280002') ?? 1;
  const planar = (dataSet.uint16('x00280006') ?? 0) === 1;
  const photometric = (dataSet.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  const frames = Math.max(1, Number.parseInt(dataSet.string('x00280008') ?? '1', 10) || 1);
  if (rows === 0 || columns === 0) throw new SlicePixelError('malformed', file, `invalid image size ${columns}×${rows}`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw new SlicePixelError('unsupported', file, `BitsAllocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`);
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) {
    throw new SlicePixelError('frame-out-of-range', file, `frame ${frame} does not exist (the object has ${frames} frame${frames === 1 ? '' : 's'})`);
  }
  const monochrome = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  const rgb = photometric === 'RGB' && samples === 3;
  if (!monochrome && !rgb) {
    throw new SlicePixelError('unsupported', file, `photometric interpretation ${photometric} with ${samples} sample(s) per pixel is not supported`);
  }
  const pixelCount = rows * columns;
  const source = dataSet.byteArray;
  if (bitsAllocated === 1) {
    // Bit-packed (segmentations): frames follow each other bit by bit, least significant bit first.
    if (samples !== 1) throw new SlicePixelError('unsupported', file, '1-bit pixel data with several samples per pixel is not supported');
    const firstBit = frame * pixelCount;
    const lastByte = pixelElement.dataOffset + Math.ceil((firstBit + pixelCount) / 8);
    if (lastByte > source.length) throw new SlicePixelError('malformed', file, `pixel data ends early: frame ${frame} needs ${lastByte} bytes, the file has ${source.length}`);
    const { slope, intercept } = frameTransform(dataSet, frame);
    const pixels = new Float32Array(pixelCount);
    for (let i = 0; i < pixelCount; i++) {
      const bit = firstBit + i;
      pixels[i] = ((source[pixelElement.dataOffset + (bit >> 3)]! >> (bit & 7)) & 1) * slope + intercept;
    }
    return { width: columns, height: rows, pixels, invert: photometric === 'MONOCHROME1', conversionNote: null };
  }
  const bytesPerSample = bitsAllocated / 8;
  const frameBytes = pixelCount * samples * bytesPerSample;
  const start = pixelElement.dataOffset + frame * frameBytes;
  if (start + frameBytes > source.length || start + frameBytes > pixelElement.dataOffset + pixelElement.length) {
    throw new SlicePixelError('malformed', file, `pixel data ends early: frame ${frame} needs bytes ${start}..${start + frameBytes}, the file has ${Math.min(source.length, pixelElement.dataOffset + pixelElement.length)}`);
  }
  const view = new DataView(source.buffer, source.byteOffset + start, frameBytes);
  const little = syntax !== EXPLICIT_BIG;
  const mask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  const readSample = (index: number): number => {
    let raw: number;
    if (bitsAllocated === 8) raw = view.getUint8(index);
    else if (bitsAllocated === 16) raw = view.getUint16(index * 2, little);
    else raw = view.getUint32(index * 4, little);
    if (bitsStored < bitsAllocated) raw = raw & mask; // high bits may hold overlays
    if (signed) {
      // Sign-extend from BitsStored.
      if (bitsStored >= 32) raw = raw | 0;
      else if (raw >= 2 ** (bitsStored - 1)) raw -= 2 ** bitsStored;
    }
    return raw;
  };
  const { slope, intercept, windowCenter, windowWidth } = frameTransform(dataSet, frame);
  const pixels = new Float32Array(pixelCount);
  let conversionNote: string | null = null;
  if (monochrome) {
    for (let i = 0; i < pixelCount; i++) pixels[i] = readSample(i) * slope + intercept;
  } else {
    conversionNote = 'RGB converted to luminance (0.299 R + 0.587 G + 0.114 B)';
    for (let i = 0; i < pixelCount; i++) {
      const r = planar ? readSample(i) : readSample(i * 3);
      const g = planar ? readSample(pixelCount + i) : readSample(i * 3 + 1);
      const b = planar ? readSample(2 * pixelCount + i) : readSample(i * 3 + 2);
      pixels[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  const result: SlicePixels = { width: columns, height: rows, pixels, invert: photometric === 'MONOCHROME1', conversionNote };
  if (windowCenter !== undefined && windowWidth !== undefined) {
    result.windowCenter = windowCenter;
    result.windowWidth = windowWidth;
  }
  return result;
}

/** Reads frame `frame` (0-based; 0 for single-frame files) of the DICOM file at `path`. */
export async function loadSlice(path: string, frame = 0): Promise<SlicePixels> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SlicePixelError('unreadable', path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return decodeSlice(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), frame, path);
}
