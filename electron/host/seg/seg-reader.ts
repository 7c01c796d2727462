// DICOM-SEG reader: ours and others'. Parses the header with the DICOM index's own
// lenient parser (explicit/implicit VR, big endian, deflate, no meta header), reads the
// segments and each frame's references, and decodes frames (1-bit BINARY, 8/16-bit
// LABELMAP or FRACTIONAL, native or RLE Lossless). Lenient where writers are sloppy
// (a missing NumberOfFrames, more per-frame items than frames, retired SRT codes): each
// leniency is reported in `warnings`, never silent.
import type { DataSet, Element } from 'dicom-parser';
import type { Vec3 } from '../../common/dicom-model.ts';
import { parseHeader, parserMessage } from '../dicom/dataset-parser.ts';
import { firstItem, readDecimals, readString, readText, readUint16 } from '../dicom/dataset-values.ts';
import { HeaderProblem } from '../dicom/header-problem.ts';
import { segReferencedSeries } from '../dicom/object-links.ts';
import { decoderLabelFor } from '../dicom/text-decoding.ts';
import { dicomLabToRgb, type Rgb } from './cielab.ts';
import type { Code } from './codes.ts';
import { decodeRleFrame } from './rle.ts';
import { SopClass, TransferSyntax } from './seg-enums.ts';
import type { Orientation } from './source-series.ts';

export class SegReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegReadError';
  }
}

export interface ParsedSegment {
  number: number;
  label: string;
  category: Code | null;
  type: Code | null;
  anatomicRegion: Code | null;
  algorithmType: string;
  algorithmName: string | null;
  description: string | null;
  color: Rgb | null;
}

export interface ParsedFrame {
  /** BINARY and FRACTIONAL: the segment this frame belongs to; null for LABELMAP. */
  segmentNumber: number | null;
  referencedSopInstanceUid: string | null;
  referencedFrameNumber: number | null;
  position: Vec3 | null;
  orientation: Orientation | null;
}

export interface ParsedSeg {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  seriesDescription: string;
  contentLabel: string;
  contentCreatorName: string;
  frameOfReferenceUid: string | null;
  segmentationType: 'BINARY' | 'LABELMAP' | 'FRACTIONAL';
  transferSyntaxUid: string;
  rows: number;
  columns: number;
  bitsAllocated: 1 | 8 | 16;
  pixelSpacing: [number, number] | null;
  segments: ParsedSegment[];
  frames: ParsedFrame[];
  /** From the Common Instance Reference module, plus series of frame references not listed there. */
  referencedSeries: Array<{ seriesInstanceUid: string; instanceUids: string[] }>;
  /** Earlier SEGs this one replaces: Segmentation instances in its Common Instance Reference. */
  supersedes: Array<{ sopInstanceUid: string; seriesInstanceUid: string }>;
  warnings: string[];
  /** Frame f (0-based) as one value per pixel (read-only; may be a view of the file's bytes): 0/1 for BINARY, segment numbers for LABELMAP, 0/1 at ≥ 50 % for FRACTIONAL. */
  decodeFrame(f: number): Uint8Array | Uint16Array;
  /** BINARY native frames only: the packed bytes and the bit where frame f starts, for fast scans. */
  packedFrame(f: number): { bytes: Uint8Array; bitOffset: number } | null;
}

const NATIVE_SYNTAXES = new Set<string>([TransferSyntax.implicitLittle, TransferSyntax.explicitLittle, TransferSyntax.deflatedExplicitLittle, TransferSyntax.explicitBig]);
const SEG_SOP_CLASSES = new Set<string>([SopClass.segmentation, SopClass.labelMapSegmentation]);

export function parseSeg(input: Uint8Array, name = 'the file'): ParsedSeg {
  const buffer = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let header;
  try {
    header = parseHeader(buffer, buffer.length);
  } catch (error) {
    const detail = error instanceof HeaderProblem ? error.message : parserMessage(error);
    throw new SegReadError(`${name} is not a readable DICOM file: ${detail}`);
  }
  const { dataSet, transferSyntaxUid } = header;
  const warnings: string[] = [];
  if (header.encodingNote) warnings.push(header.encodingNote);
  const charset = decoderLabelFor(readString(dataSet, 'x00080005'));
  const sopClassUid = readString(dataSet, 'x00080016');
  const modality = readString(dataSet, 'x00080060');
  if (!SEG_SOP_CLASSES.has(sopClassUid)) {
    throw new SegReadError(`${name} is not a DICOM-SEG: its SOP Class is ${sopClassUid || '(missing)'}${modality ? `, modality ${modality}` : ''}`);
  }
  if (modality !== 'SEG') warnings.push(`Modality is "${modality}", not SEG.`);
  const segmentationType = readString(dataSet, 'x00620001');
  if (segmentationType !== 'BINARY' && segmentationType !== 'LABELMAP' && segmentationType !== 'FRACTIONAL') {
    throw new SegReadError(`${name} has SegmentationType "${segmentationType}": BINARY, LABELMAP or FRACTIONAL expected`);
  }
  if ((segmentationType === 'LABELMAP') !== (sopClassUid === SopClass.labelMapSegmentation)) {
    warnings.push(`SegmentationType ${segmentationType} does not match SOP Class ${sopClassUid}; read as ${segmentationType}.`);
  }
  const rows = readUint16(dataSet, 'x00280010') ?? 0;
  const columns = readUint16(dataSet, 'x00280011') ?? 0;
  if (rows < 1 || columns < 1) throw new SegReadError(`${name} has no Rows/Columns`);
  const bitsAllocated = readUint16(dataSet, 'x00280100');
  const expectedBits = segmentationType === 'BINARY' ? [1] : [8, 16];
  if (bitsAllocated === null || !expectedBits.includes(bitsAllocated)) {
    throw new SegReadError(`${name}: a ${segmentationType} SEG needs BitsAllocated ${expectedBits.join(' or ')}, it has ${bitsAllocated ?? '(none)'}`);
  }
  const bits = bitsAllocated as 1 | 8 | 16;
  const encapsulated = !NATIVE_SYNTAXES.has(transferSyntaxUid);
  if (encapsulated && transferSyntaxUid !== TransferSyntax.rleLossless) {
    throw new SegReadError(`${name} is encoded in transfer syntax ${transferSyntaxUid}; this reader decodes native and RLE Lossless SEGs`);
  }
  const pixelElement = header.pixelData;
  if (!pixelElement) throw new SegReadError(`${name} has no Pixel Data`);

  const shared = firstItem(dataSet, 'x52009229');
  const perFrameItems = dataSet.elements['x52009230']?.items ?? [];
  const perPixelBits = rows * columns * bits;

  // Frame count: NumberOfFrames, else what the pixel data holds (liver_1frame.dcm has none).
  const fragments = encapsulated ? readFragments(dataSet.byteArray, pixelElement, name) : null;
  let frameCount = Number(readString(dataSet, 'x00280008'));
  if (!Number.isInteger(frameCount) || frameCount < 1) {
    const available = fragments ? fragments.length : Math.floor((pixelElement.length * 8) / perPixelBits);
    if (available < 1) throw new SegReadError(`${name} has no NumberOfFrames and its pixel data holds no whole frame`);
    warnings.push(`NumberOfFrames is missing; the pixel data holds ${available} frame${available === 1 ? '' : 's'}.`);
    frameCount = available;
  }
  if (fragments && fragments.length < frameCount) {
    throw new SegReadError(`${name}: NumberOfFrames is ${frameCount} but the RLE pixel data has ${fragments.length} fragments`);
  }
  if (!fragments) {
    const needed = Math.ceil((frameCount * perPixelBits) / 8);
    if (pixelElement.length < needed || pixelElement.dataOffset + needed > dataSet.byteArray.length) {
      throw new SegReadError(`${name}: ${frameCount} frames of ${rows} × ${columns} at ${bits} bit need ${needed} bytes of pixel data; the file has ${Math.min(pixelElement.length, dataSet.byteArray.length - pixelElement.dataOffset)}`);
    }
  }
  if (perFrameItems.length !== frameCount) {
    warnings.push(`PerFrameFunctionalGroupsSequence has ${perFrameItems.length} items for ${frameCount} frames; ${perFrameItems.length > frameCount ? `the first ${frameCount} are used` : 'frames without one use the shared groups'}.`);
  }

  const sharedOrientation = orientationOf(firstItem(shared, 'x00209116'));
  const sharedPosition = positionOf(firstItem(shared, 'x00209113'));
  const sharedSegment = readUint16OrNull(firstItem(shared, 'x0062000a'), 'x0062000b');
  const sharedReference = sourceReferenceOf(shared);
  const topLevelSources = dataSet.elements['x00082112']?.items ?? [];
  const frames: ParsedFrame[] = [];
  for (let f = 0; f < frameCount; f++) {
    const item = perFrameItems[f]?.dataSet;
    const reference = sourceReferenceOf(item) ?? sharedReference ?? (topLevelSources.length === frameCount ? referenceOfSourceItem(topLevelSources[f]?.dataSet) : null);
    frames.push({
      segmentNumber: segmentationType === 'LABELMAP' ? null : (readUint16OrNull(firstItem(item, 'x0062000a'), 'x0062000b') ?? sharedSegment),
      referencedSopInstanceUid: reference?.uid ?? null,
      referencedFrameNumber: reference?.frame ?? null,
      position: positionOf(firstItem(item, 'x00209113')) ?? sharedPosition,
      orientation: orientationOf(firstItem(item, 'x00209116')) ?? sharedOrientation,
    });
  }
  if (segmentationType !== 'LABELMAP') {
    const missing = frames.findIndex((fr) => fr.segmentNumber === null);
    if (missing >= 0) throw new SegReadError(`${name}: frame ${missing + 1} does not say which segment it belongs to (SegmentIdentificationSequence)`);
  }

  const segments = readSegments(dataSet, charset, warnings);
  if (segments.length === 0) throw new SegReadError(`${name} has an empty SegmentSequence`);

  const { referencedSeries, supersedes } = segReferencedSeries(dataSet);
  const pixelMeasures = firstItem(shared, 'x00289110') ?? firstItem(perFrameItems[0]?.dataSet, 'x00289110');
  const spacing = readDecimals(pixelMeasures, 'x00280030', 2) as [number, number] | null;
  const byteArray = dataSet.byteArray;
  const bigEndian = transferSyntaxUid === TransferSyntax.explicitBig;
  const perFrame = rows * columns;
  const maxFractional = readUint16(dataSet, 'x00620010') ?? 255;
  if (segmentationType === 'FRACTIONAL') warnings.push(`FRACTIONAL segments were thresholded at 50 % (MaximumFractionalValue ${maxFractional}).`);

  const decodeFrame = (f: number): Uint8Array | Uint16Array => {
    if (f < 0 || f >= frameCount) throw new RangeError(`frame ${f} is outside 0..${frameCount - 1}`);
    let values: Uint8Array | Uint16Array;
    if (fragments) {
      const fragment = fragments[f]!;
      if (bits === 1) {
        const packed = decodeRleFrame(fragment, Math.ceil(perFrame / 8), 1);
        values = unpackBits(packed, 0, perFrame);
      } else {
        const raw = decodeRleFrame(fragment, perFrame, bits === 16 ? 2 : 1);
        values = bits === 16 ? new Uint16Array(raw.buffer, raw.byteOffset, perFrame) : raw;
      }
    } else if (bits === 1) {
      values = unpackBits(byteArray.subarray(pixelElement.dataOffset), f * perFrame, perFrame);
    } else if (bits === 8) {
      // A view, not a copy: callers only read frames.
      values = byteArray.subarray(pixelElement.dataOffset + f * perFrame, pixelElement.dataOffset + (f + 1) * perFrame);
    } else {
      const start = pixelElement.dataOffset + f * perFrame * 2;
      const view = new DataView(byteArray.buffer, byteArray.byteOffset + start, perFrame * 2);
      const out = new Uint16Array(perFrame);
      for (let i = 0; i < perFrame; i++) out[i] = view.getUint16(i * 2, !bigEndian);
      values = out;
    }
    if (segmentationType === 'FRACTIONAL') {
      const out = new Uint8Array(perFrame);
      for (let i = 0; i < perFrame; i++) out[i] = values[i]! * 2 >= maxFractional ? 1 : 0;
      return out;
    }
    return values;
  };
  const packedFrame = (f: number) =>
    bits === 1 && !fragments ? { bytes: byteArray.subarray(pixelElement.dataOffset, pixelElement.dataOffset + pixelElement.length), bitOffset: f * perFrame } : null;

  return {
    sopClassUid,
    sopInstanceUid: readString(dataSet, 'x00080018'),
    seriesInstanceUid: readString(dataSet, 'x0020000e'),
    studyInstanceUid: readString(dataSet, 'x0020000d'),
    seriesDescription: readText(dataSet, 'x0008103e', charset),
    contentLabel: readString(dataSet, 'x00700080'),
    contentCreatorName: readText(dataSet, 'x00700084', charset),
    frameOfReferenceUid: readString(dataSet, 'x00200052') || null,
    segmentationType,
    transferSyntaxUid,
    rows,
    columns,
    bitsAllocated: bits,
    pixelSpacing: spacing,
    segments,
    frames,
    referencedSeries: mergeFrameReferences(referencedSeries, frames),
    supersedes,
    warnings,
    decodeFrame,
    packedFrame,
  };
}

function unpackBits(bytes: Uint8Array, bitStart: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = bitStart + i;
    out[i] = (bytes[bit >>> 3]! >>> (bit & 7)) & 1;
  }
  return out;
}

function readUint16OrNull(dataSet: DataSet | undefined, tag: string): number | null {
  return dataSet ? readUint16(dataSet, tag) : null;
}

function positionOf(item: DataSet | undefined): Vec3 | null {
  return readDecimals(item, 'x00200032', 3) as Vec3 | null;
}

function orientationOf(item: DataSet | undefined): Orientation | null {
  return readDecimals(item, 'x00200037', 6) as Orientation | null;
}

function referenceOfSourceItem(item: DataSet | undefined): { uid: string; frame: number | null } | null {
  if (!item) return null;
  const uid = readString(item, 'x00081155');
  if (!uid) return null;
  const frameText = readString(item, 'x00081160');
  const frame = frameText === '' ? null : Number(frameText.split('\\')[0]);
  return { uid, frame: Number.isInteger(frame) && frame! > 0 ? frame : null };
}

/** DerivationImageSequence → SourceImageSequence of a functional group item. */
function sourceReferenceOf(group: DataSet | undefined): { uid: string; frame: number | null } | null {
  const derivation = firstItem(group, 'x00089124');
  return referenceOfSourceItem(firstItem(derivation, 'x00082112'));
}

function readCode(item: DataSet | undefined, charset: string): Code | null {
  if (!item) return null;
  const value = readString(item, 'x00080100') || readString(item, 'x00080119') || readString(item, 'x00080120');
  const scheme = readString(item, 'x00080102');
  const meaning = readText(item, 'x00080104', charset);
  if (!value && !meaning) return null;
  return { value, scheme, meaning };
}

function readSegments(dataSet: DataSet, charset: string, warnings: string[]): ParsedSegment[] {
  const items = dataSet.elements['x00620002']?.items ?? [];
  const retired = new Set<string>();
  const segments = items.map((entry, i): ParsedSegment => {
    const item = entry.dataSet!;
    const number = readUint16(item, 'x00620004') ?? i + 1;
    const category = readCode(firstItem(item, 'x00620003'), charset);
    const type = readCode(firstItem(item, 'x0062000f'), charset);
    for (const code of [category, type]) if (code?.scheme === 'SRT') retired.add(`${code.value} ${code.meaning}`);
    const lab = item.elements['x0062000d'] && item.elements['x0062000d'].length >= 6 ? ([0, 1, 2].map((k) => item.uint16('x0062000d', k) ?? 0) as [number, number, number]) : null;
    return {
      number,
      label: readText(item, 'x00620005', charset),
      category,
      type,
      anatomicRegion: readCode(firstItem(item, 'x00082218'), charset),
      algorithmType: readString(item, 'x00620008'),
      algorithmName: readText(item, 'x00620009', charset) || null,
      description: readText(item, 'x00620006', charset) || null,
      color: lab ? dicomLabToRgb(lab) : null,
    };
  });
  if (retired.size > 0) warnings.push(`Codes use the retired SRT scheme (read as given): ${[...retired].join(', ')}.`);
  const numbers = segments.map((s) => s.number);
  if (new Set(numbers).size !== numbers.length) throw new SegReadError(`SegmentSequence repeats segment numbers (${numbers.join(', ')})`);
  return segments.sort((a, b) => a.number - b.number);
}

function mergeFrameReferences(series: Array<{ seriesInstanceUid: string; instanceUids: string[] }>, frames: ParsedFrame[]) {
  const listed = new Set(series.flatMap((s) => s.instanceUids));
  const unlisted = [...new Set(frames.map((f) => f.referencedSopInstanceUid).filter((u): u is string => u !== null && !listed.has(u)))];
  if (unlisted.length > 0) series.push({ seriesInstanceUid: '', instanceUids: unlisted });
  return series;
}

/** The fragments of encapsulated Pixel Data, one per frame (RLE puts each frame in one fragment). */
function readFragments(bytes: Uint8Array, element: Element, name: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = element.dataOffset;
  const fragments: Uint8Array[] = [];
  let first = true;
  while (at + 8 <= bytes.length) {
    const group = view.getUint16(at, true);
    const elementNumber = view.getUint16(at + 2, true);
    const length = view.getUint32(at + 4, true);
    at += 8;
    if (group === 0xfffe && elementNumber === 0xe0dd) return fragments;
    if (group !== 0xfffe || elementNumber !== 0xe000) throw new SegReadError(`${name}: encapsulated pixel data holds a non-item element at byte ${at - 8}`);
    if (at + length > bytes.length) throw new SegReadError(`${name}: pixel data fragment at byte ${at - 8} runs past the end of the file`);
    // The first item is the Basic Offset Table, not a frame.
    if (!first) fragments.push(bytes.subarray(at, at + length));
    first = false;
    at += length;
  }
  throw new SegReadError(`${name}: encapsulated pixel data ends without a sequence delimiter`);
}
