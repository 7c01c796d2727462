// A slice's pixels in the host, for the models: one frame of a DICOM file as modality
// values (HU for CT: RescaleSlope/Intercept applied, per frame for enhanced multi-frame
// objects). Every transfer syntax the viewer decodes decodes here too: native pixel data
// (little and big endian, deflated; 1/8/16/32 bits, signed or not, any BitsStored) is read
// directly, and RLE, JPEG (baseline, extended, lossless), JPEG-LS, JPEG 2000, HTJ2K and
// JPEG XL go through the viewer's own codecs (pixel-codecs.ts), with frames found in the
// encapsulated fragments (encapsulated-frames.ts). Codecs hand back stored values, so
// PixelRepresentation/BitsStored sign extension is applied here, as the viewer does.
// Colour becomes luminance from RGB: YBR_FULL/YBR_FULL_422 are converted to RGB first
// unless the codec already did (JPEG baseline's YCbCr, JPEG 2000's RCT/ICT).
// Decoding is CPU work (a 512×512 JPEG 2000 frame takes tens of milliseconds): the host
// calls it through slice-worker-client.ts, off its main thread.
import { readFile } from 'node:fs/promises';
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { budgetedInflater as inflater, InflateBudgetError } from '../dicom/inflate-budget.ts';
import { encapsulatedFrame, FrameLayoutError } from './encapsulated-frames.ts';
import { CodecError, COMPRESSED_SYNTAXES, decodeCompressedFrame, type DecodedFrame } from './pixel-codecs.ts';

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

function parse(bytes: Uint8Array, file: string): DataSet {
  try {
    return dicomParser.parseDicom(bytes, { inflater });
  } catch (first) {
    // A bomb is refused, not retried as a raw data set (that would inflate it again).
    if (first instanceof InflateBudgetError) throw new SlicePixelError('unsupported', file, first.message);
    // dicom-parser throws { exception, dataSet } with what it read so far. Bytes after the
    // Pixel Data that do not parse (SC_rgb_jpeg.dcm ends that way) leave the image intact;
    // pixel data that is itself cut short is caught by the frame checks.
    const partial = (first as { dataSet?: DataSet } | null)?.dataSet;
    if (partial?.elements.x7fe00010) return partial;
    // Files without a Part 10 preamble: a raw data set, implicit little endian by default.
    try {
      return dicomParser.parseDicom(bytes, { TransferSyntaxUID: IMPLICIT_LITTLE, inflater });
    } catch {
      const reason = (first as { exception?: string } | null)?.exception ?? (first as Error)?.message ?? String(first);
      throw new SlicePixelError('malformed', file, `not a readable DICOM file (${reason})`);
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

type Colour = 'mono' | 'rgb' | 'ybr';

const PHOTOMETRIC_COLOUR: Record<string, Colour> = {
  MONOCHROME1: 'mono',
  MONOCHROME2: 'mono',
  RGB: 'rgb',
  YBR_FULL: 'ybr',
  YBR_FULL_422: 'ybr',
  // Only JPEG 2000 / HTJ2K carry these; their codecs undo the transform.
  YBR_RCT: 'rgb',
  YBR_ICT: 'rgb',
};

/** Stored values of one frame, sign-corrected, and how to read them as pixels. */
interface FrameSamples {
  value: (index: number) => number;
  components: number;
  planar: boolean;
  colour: Colour;
  /** Who turned the stored colour space into RGB, when not this module. */
  rgbBy?: string;
}

const LUMINANCE = 'luminance (0.299 R + 0.587 G + 0.114 B)';

/** YBR_FULL to RGB as pydicom and the viewer compute it: PS3.3 C.7.6.3.1.2, rounded, clipped. */
function ybrToRgb(y: number, cb: number, cr: number, half: number, max: number): [number, number, number] {
  const b1 = cb - half;
  const r1 = cr - half;
  const clip = (v: number) => Math.min(max, Math.max(0, Math.floor(v + 0.5)));
  return [clip(y + 1.402 * r1), clip(y - ((0.114 * 1.772) / 0.587) * b1 - ((0.299 * 1.402) / 0.587) * r1), clip(y + 1.772 * b1)];
}

/** Decodes frame `frame` (0-based) of the DICOM file held in `bytes`. */
export async function decodeSlice(bytes: Uint8Array, frame: number, file = '(bytes)'): Promise<SlicePixels> {
  const dataSet = parse(bytes, file);
  const syntax = (dataSet.string('x00020010') ?? IMPLICIT_LITTLE).replace(/\0/g, '').trim();
  const native = NATIVE_SYNTAXES.has(syntax);
  if (!native && !COMPRESSED_SYNTAXES.has(syntax)) {
    throw new SlicePixelError(
      'unsupported',
      file,
      `pixel data in transfer syntax ${syntax} cannot be decoded: the host decodes native pixel data, RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K and JPEG XL — convert the series (e.g. dcmdjpeg/gdcmconv --raw) or open a copy in one of those`,
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
  const colour = PHOTOMETRIC_COLOUR[photometric];
  if (!colour || (colour === 'mono') !== (samples === 1) || (colour !== 'mono' && samples !== 3)) {
    throw new SlicePixelError('unsupported', file, `photometric interpretation ${photometric} with ${samples} sample(s) per pixel is not supported`);
  }
  const pixelCount = rows * columns;
  const source = dataSet.byteArray;
  const { slope, intercept, windowCenter, windowWidth } = frameTransform(dataSet, frame);
  if (bitsAllocated === 1) {
    if (!native) throw new SlicePixelError('unsupported', file, `1-bit pixel data in ${COMPRESSED_SYNTAXES.get(syntax)} (${syntax}) is not supported`);
    // Bit-packed (segmentations): frames follow each other bit by bit, least significant bit first.
    if (samples !== 1) throw new SlicePixelError('unsupported', file, '1-bit pixel data with several samples per pixel is not supported');
    const firstBit = frame * pixelCount;
    const lastByte = pixelElement.dataOffset + Math.ceil((firstBit + pixelCount) / 8);
    if (lastByte > source.length) throw new SlicePixelError('malformed', file, `pixel data ends early: frame ${frame} needs ${lastByte} bytes, the file has ${source.length}`);
    const pixels = new Float32Array(pixelCount);
    for (let i = 0; i < pixelCount; i++) {
      const bit = firstBit + i;
      pixels[i] = ((source[pixelElement.dataOffset + (bit >> 3)]! >> (bit & 7)) & 1) * slope + intercept;
    }
    return { width: columns, height: rows, pixels, invert: photometric === 'MONOCHROME1', conversionNote: null };
  }
  const frameSamples = native
    ? nativeFrame(dataSet, pixelElement, { syntax, frame, rows, columns, bitsAllocated, bitsStored, signed, samples, planar, photometric, colour, file })
    : await compressedFrame(dataSet, pixelElement, { syntax, frame, frames, rows, columns, bitsAllocated, bitsStored, signed, samples, photometric, colour, file });

  const pixels = new Float32Array(pixelCount);
  let conversionNote: string | null = null;
  const { value, components } = frameSamples;
  if (frameSamples.colour === 'mono') {
    for (let i = 0; i < pixelCount; i++) pixels[i] = value(i) * slope + intercept;
  } else {
    const at = frameSamples.planar ? (i: number, c: number) => value(c * pixelCount + i) : (i: number, c: number) => value(i * components + c);
    if (frameSamples.colour === 'rgb') {
      conversionNote = frameSamples.rgbBy ? `${photometric} (decoded to RGB by ${frameSamples.rgbBy}) converted to ${LUMINANCE}` : `RGB converted to ${LUMINANCE}`;
      for (let i = 0; i < pixelCount; i++) pixels[i] = 0.299 * at(i, 0) + 0.587 * at(i, 1) + 0.114 * at(i, 2);
    } else {
      conversionNote = `${photometric} converted to RGB, then to ${LUMINANCE}`;
      const half = 2 ** (bitsStored - 1);
      const max = 2 ** bitsStored - 1;
      for (let i = 0; i < pixelCount; i++) {
        const [r, g, b] = ybrToRgb(at(i, 0), at(i, 1), at(i, 2), half, max);
        pixels[i] = 0.299 * r + 0.587 * g + 0.114 * b;
      }
    }
  }
  const result: SlicePixels = { width: columns, height: rows, pixels, invert: photometric === 'MONOCHROME1', conversionNote };
  if (windowCenter !== undefined && windowWidth !== undefined) {
    result.windowCenter = windowCenter;
    result.windowWidth = windowWidth;
  }
  return result;
}

interface FrameContext {
  syntax: string;
  frame: number;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  samples: number;
  photometric: string;
  colour: Colour;
  file: string;
}

/** Sign extension from BitsStored, as the viewer applies it to decoded frames. */
function signExtender(bitsStored: number): (v: number) => number {
  const shift = 32 - Math.min(32, bitsStored);
  return (v) => (v << shift) >> shift;
}

function nativeFrame(dataSet: DataSet, pixelElement: Element, c: FrameContext & { planar: boolean }): FrameSamples {
  const pixelCount = c.rows * c.columns;
  const source = dataSet.byteArray;
  // YBR_FULL_422 stores two luma samples per Cb Cr pair: Y1 Y2 Cb Cr.
  const subsampled = c.photometric === 'YBR_FULL_422';
  if (subsampled && c.columns % 2 !== 0) throw new SlicePixelError('malformed', c.file, `YBR_FULL_422 needs an even number of columns, the image has ${c.columns}`);
  const bytesPerSample = c.bitsAllocated / 8;
  const storedSamples = subsampled ? pixelCount * 2 : pixelCount * c.samples;
  const frameBytes = storedSamples * bytesPerSample;
  const start = pixelElement.dataOffset + c.frame * frameBytes;
  if (start + frameBytes > source.length || start + frameBytes > pixelElement.dataOffset + pixelElement.length) {
    throw new SlicePixelError('malformed', c.file, `pixel data ends early: frame ${c.frame} needs bytes ${start}..${start + frameBytes}, the file has ${Math.min(source.length, pixelElement.dataOffset + pixelElement.length)}`);
  }
  const view = new DataView(source.buffer, source.byteOffset + start, frameBytes);
  const little = c.syntax !== EXPLICIT_BIG;
  const mask = c.bitsStored >= 32 ? 0xffffffff : 2 ** c.bitsStored - 1;
  const readSample = (index: number): number => {
    let raw: number;
    if (c.bitsAllocated === 8) raw = view.getUint8(index);
    else if (c.bitsAllocated === 16) raw = view.getUint16(index * 2, little);
    else raw = view.getUint32(index * 4, little);
    if (c.bitsStored < c.bitsAllocated) raw = raw & mask; // high bits may hold overlays
    if (c.signed) {
      // Sign-extend from BitsStored.
      if (c.bitsStored >= 32) raw = raw | 0;
      else if (raw >= 2 ** (c.bitsStored - 1)) raw -= 2 ** c.bitsStored;
    }
    return raw;
  };
  if (subsampled) {
    const value = (index: number): number => {
      const pixel = Math.floor(index / 3);
      const component = index % 3;
      const pair = pixel >> 1;
      return component === 0 ? readSample(pair * 4 + (pixel & 1)) : readSample(pair * 4 + 1 + component);
    };
    return { value, components: 3, planar: false, colour: c.colour };
  }
  return { value: readSample, components: c.samples, planar: c.planar, colour: c.colour };
}

async function compressedFrame(dataSet: DataSet, pixelElement: Element, c: FrameContext & { frames: number }): Promise<FrameSamples> {
  const name = `${COMPRESSED_SYNTAXES.get(c.syntax)} (${c.syntax})`;
  let encoded: Uint8Array;
  try {
    encoded = encapsulatedFrame(dataSet, pixelElement, c.frame, c.frames);
  } catch (error) {
    if (error instanceof FrameLayoutError) throw new SlicePixelError('malformed', c.file, `${name} pixel data, frame ${c.frame}: ${error.message}`);
    throw error;
  }
  let decoded: DecodedFrame;
  try {
    decoded = await decodeCompressedFrame(c.syntax, encoded, { rows: c.rows, columns: c.columns, samplesPerPixel: c.samples, bitsAllocated: c.bitsAllocated, photometric: c.photometric });
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    if (error.stage === 'load') throw new SlicePixelError('unsupported', c.file, `${name} pixel data: ${error.message}`);
    throw new SlicePixelError('malformed', c.file, `${name} pixel data, frame ${c.frame} (${encoded.length} bytes): ${error.codec} could not decode it: ${error.message}`);
  }
  if (decoded.width !== c.columns || decoded.height !== c.rows || decoded.components !== c.samples) {
    throw new SlicePixelError(
      'malformed',
      c.file,
      `${name} frame ${c.frame} decodes to ${decoded.width}×${decoded.height} with ${decoded.components} component(s); the header says ${c.columns}×${c.rows} with ${c.samples}`,
    );
  }
  const stored = decoded.samples;
  const mask = c.bitsStored >= 32 ? 0xffffffff : 2 ** c.bitsStored - 1;
  // RLE carries whole words (bits above BitsStored may be set); codecs return BitsStored-wide values.
  const masked = decoded.rawWords && c.bitsStored < c.bitsAllocated;
  const extend = signExtender(c.bitsStored);
  let value: (index: number) => number;
  if (c.signed) value = masked ? (i) => extend(stored[i]! & mask) : (i) => extend(stored[i]!);
  else if (masked) value = (i) => stored[i]! & mask;
  else value = (i) => stored[i]!;
  const colour = decoded.toRgbByCodec && c.colour !== 'mono' ? 'rgb' : c.colour;
  const samples: FrameSamples = { value, components: decoded.components, planar: decoded.planar, colour };
  if (decoded.toRgbByCodec && c.colour !== 'mono' && c.photometric !== 'RGB') samples.rgbBy = decoded.codec;
  return samples;
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
