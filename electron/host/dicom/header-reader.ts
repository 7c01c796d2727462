// Reads one file's header (never its pixels) into an InstanceRecord, or says precisely
// why the file cannot be indexed. Reads a prefix first and more only when the header
// is longer; the whole file only for deflate or when a prefix cannot settle the answer.
import { resolve } from 'node:path';
import type { FileProblem, Vec3 } from '../../common/dicom-model.ts';
import { parseHeader, type ParsedHeader } from './dataset-parser.ts';
import {
  readDecimal,
  readDecimals,
  readInteger,
  readIntegerString,
  readString,
  readText,
  readUint16,
} from './dataset-values.ts';
import { dicomdirReferences, isDicomdirDataSet } from './dicomdir.ts';
import { openFileSource, type ByteSource, type OpenedFile } from './file-source.ts';
import { doseGridFrames, functionalGroupFrames } from './frame-geometry.ts';
import { HeaderProblem, NeedMoreBytes } from './header-problem.ts';
import { fileKeyForPath, type FrameGeometry, type InstanceRecord, type Orientation, type PixelSpacing } from './instance-record.ts';
import { objectLinks } from './object-links.ts';
import { isImageStorageClass, MEDIA_STORAGE_DIRECTORY, objectKindFor } from './object-kinds.ts';
import { checkPixelData, type PixelLayout } from './pixel-data-checks.ts';
import { decoderLabelFor } from './text-decoding.ts';
import { isDecodableSyntax, transferSyntaxName } from './transfer-syntaxes.ts';

/**
 * First read. bench/index-throughput.ts: 4–32 KiB are about equally fast for CT-like headers
 * (a few KiB), 64 KiB slightly slower, 256 KiB 2–3× slower (copying bytes nobody parses).
 * Longer headers (vendor private data such as Siemens CSA, enhanced multi-frame) are read
 * again at 8× the size: 16 KiB → 128 KiB covers most of them.
 */
export const DEFAULT_INITIAL_READ_BYTES = 16 * 1024;
const GROWTH_FACTOR = 8;
/** A header (everything before Pixel Data) longer than this is not plausible: stop reading. */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;

export type HeaderResult = { ok: true; record: InstanceRecord } | { ok: false; problem: FileProblem };

export interface ReadHeaderOptions {
  initialReadBytes?: number;
}

export function readHeader(path: string, options: ReadHeaderOptions = {}): HeaderResult {
  const absolutePath = resolve(path);
  let file: OpenedFile;
  try {
    file = openFileSource(absolutePath);
  } catch (error) {
    return { ok: false, problem: toProblem(absolutePath, error) };
  }
  try {
    return { ok: true, record: readRecord(file, options) };
  } catch (error) {
    return { ok: false, problem: toProblem(absolutePath, error) };
  } finally {
    file.close();
  }
}

/** Throws HeaderProblem when the file cannot be indexed. `source.path` must be absolute. */
export function readRecord(source: ByteSource, options: ReadHeaderOptions = {}): InstanceRecord {
  if (source.size === 0) throw new HeaderProblem('empty-file', 'The file is empty (0 bytes).');
  const parsed = parseGrowing(source, options.initialReadBytes ?? DEFAULT_INITIAL_READ_BYTES);
  return buildRecord(parsed, source);
}

function parseGrowing(source: ByteSource, initial: number): ParsedHeader {
  let length = Math.min(source.size, Math.max(256, initial));
  for (;;) {
    const bytes = source.read(0, length);
    // A file that shrank while we read it is judged by what is there now.
    const size = bytes.length < length ? bytes.length : source.size;
    try {
      return parseHeader(bytes, size);
    } catch (error) {
      if (!(error instanceof NeedMoreBytes)) throw error;
      if (length >= size) throw new HeaderProblem('invalid-value', 'The header could not be read even with the whole file in memory.');
      if (length >= MAX_HEADER_BYTES) {
        throw new HeaderProblem(
          'invalid-value',
          `No Pixel Data and no end of the data set within the first ${MAX_HEADER_BYTES / 1024 / 1024} MiB of this ${size}-byte file: the header is implausibly long or corrupt.`,
        );
      }
      length = Math.min(size, MAX_HEADER_BYTES, error.wholeFile ? size : length * GROWTH_FACTOR);
    }
  }
}

function buildRecord(parsed: ParsedHeader, source: ByteSource): InstanceRecord {
  const ds = parsed.dataSet;
  const path = source.path;
  const charset = decoderLabelFor(readString(ds, 'x00080005'));
  const sopClassUid = readString(ds, 'x00080016') || readString(ds, 'x00020002');
  const hasPixelData = parsed.pixelData !== null || ds.elements['x7fe00008'] !== undefined || ds.elements['x7fe00009'] !== undefined;
  const rows = readUint16(ds, 'x00280010');
  const columns = readUint16(ds, 'x00280011');

  const base = {
    path,
    fileKey: fileKeyForPath(path),
    size: source.size,
    transferSyntaxUid: parsed.transferSyntaxUid,
    encodingNote: parsed.encodingNote,
    sopClassUid,
    sopInstanceUid: readString(ds, 'x00080018'),
    patientId: readText(ds, 'x00100020', charset),
    patientName: readText(ds, 'x00100010', charset),
    birthDate: readString(ds, 'x00100030'),
    sex: readString(ds, 'x00100040'),
    studyInstanceUid: readString(ds, 'x0020000d'),
    studyDate: readString(ds, 'x00080020'),
    studyTime: readString(ds, 'x00080030'),
    studyDescription: readText(ds, 'x00081030', charset),
    accessionNumber: readText(ds, 'x00080050', charset),
    seriesInstanceUid: readString(ds, 'x0020000e'),
    seriesNumber: readInteger(ds, 'x00200011'),
    seriesDescription: readText(ds, 'x0008103e', charset),
    modality: readString(ds, 'x00080060'),
    instanceNumber: readInteger(ds, 'x00200013'),
  };

  if (sopClassUid === MEDIA_STORAGE_DIRECTORY || isDicomdirDataSet(ds)) {
    const references = dicomdirReferences(ds, path);
    return {
      ...base,
      sopClassUid: MEDIA_STORAGE_DIRECTORY,
      sopInstanceUid: base.sopInstanceUid || readString(ds, 'x00020003'),
      kind: 'DICOMDIR',
      rows: null,
      columns: null,
      numberOfFrames: 1,
      pixelSpacing: null,
      imageOrientationPatient: null,
      imagePositionPatient: null,
      sliceThickness: null,
      frameOfReferenceUid: null,
      hasPixelData: false,
      frames: null,
      referencedFiles: references.files,
      referenceNotes: parsed.salvageNote ? [parsed.salvageNote, ...references.notes] : references.notes,
    };
  }

  requireIdentifiers(base);
  const numberOfFrames = readNumberOfFrames(ds);
  if (hasPixelData) {
    const layout = requirePixelLayout(ds, rows, columns, numberOfFrames);
    if (!isDecodableSyntax(parsed.transferSyntaxUid)) {
      throw new HeaderProblem(
        'unsupported-transfer-syntax',
        `Transfer syntax ${parsed.transferSyntaxUid} (${transferSyntaxName(parsed.transferSyntaxUid)}) has no decoder in this viewer; the pixel data cannot be shown.`,
      );
    }
    if (parsed.pixelData) {
      checkPixelData(parsed.pixelData, parsed.transferSyntaxUid, layout, parsed.deflated ? parsed.dataLength : source.size, parsed.deflated ? null : source);
    }
  } else {
    requireNoMissingPixels(ds, sopClassUid, rows, columns);
  }

  const kind = objectKindFor(sopClassUid, hasPixelData, rows, columns);
  const links = objectLinks(ds, kind);
  const imagePositionPatient = readDecimals(ds, 'x00200032', 3) as Vec3 | null;
  const imageOrientationPatient = readDecimals(ds, 'x00200037', 6) as Orientation | null;
  const pixelSpacing = readDecimals(ds, 'x00280030', 2) as PixelSpacing | null;
  const sliceThickness = readDecimal(ds, 'x00180050');
  let frames: FrameGeometry[] | null = functionalGroupFrames(ds, numberOfFrames);
  if (!frames && kind === 'RTDOSE' && numberOfFrames > 1) {
    frames = doseGridFrames(ds, numberOfFrames, imagePositionPatient, imageOrientationPatient, pixelSpacing, sliceThickness);
  }
  return {
    ...base,
    kind,
    rows,
    columns,
    numberOfFrames,
    pixelSpacing,
    imageOrientationPatient,
    imagePositionPatient,
    sliceThickness,
    frameOfReferenceUid: readString(ds, 'x00200052') || null,
    hasPixelData,
    frames,
    referencedFiles: null,
    referenceNotes: null,
    ...(links ? { links } : {}),
  };
}

function requireIdentifiers(record: { sopInstanceUid: string; seriesInstanceUid: string; studyInstanceUid: string }): void {
  const missing: string[] = [];
  if (!record.sopInstanceUid) missing.push('SOP Instance UID (0008,0018)');
  if (!record.seriesInstanceUid) missing.push('Series Instance UID (0020,000E)');
  if (!record.studyInstanceUid) missing.push('Study Instance UID (0020,000D)');
  if (missing.length > 0) {
    throw new HeaderProblem('missing-attribute', `Missing ${joinWords(missing)}, which the index needs to place the file.`);
  }
}

function readNumberOfFrames(ds: ParsedHeader['dataSet']): number {
  const frames = readIntegerString(ds, 'x00280008');
  if (frames.kind === 'absent') return 1;
  if (frames.kind === 'invalid') throw new HeaderProblem('invalid-value', `Number of Frames (0028,0008) is "${frames.raw}", not an integer.`);
  if (frames.value < 1) throw new HeaderProblem('invalid-value', `Number of Frames (0028,0008) is ${frames.value}; it must be at least 1.`);
  return frames.value;
}

function requirePixelLayout(ds: ParsedHeader['dataSet'], rows: number | null, columns: number | null, frames: number): PixelLayout {
  const bitsAllocated = readUint16(ds, 'x00280100');
  if (rows === null || columns === null || bitsAllocated === null) {
    const missing: string[] = [];
    if (rows === null) missing.push('Rows (0028,0010)');
    if (columns === null) missing.push('Columns (0028,0011)');
    if (bitsAllocated === null) missing.push('Bits Allocated (0028,0100)');
    throw new HeaderProblem('missing-attribute', `The file has pixel data but no ${joinWords(missing)}.`);
  }
  if (rows === 0 || columns === 0) throw new HeaderProblem('invalid-value', `Rows × Columns is ${rows} × ${columns}; an image needs at least one pixel.`);
  if (bitsAllocated === 0 || (bitsAllocated !== 1 && bitsAllocated % 8 !== 0)) {
    throw new HeaderProblem('invalid-value', `Bits Allocated (0028,0100) is ${bitsAllocated}; it must be 1 or a multiple of 8.`);
  }
  const samplesPerPixel = readUint16(ds, 'x00280002') ?? 1;
  if (samplesPerPixel === 0) throw new HeaderProblem('invalid-value', 'Samples per Pixel (0028,0002) is 0.');
  return { rows, columns, frames, samplesPerPixel, bitsAllocated, photometricInterpretation: readString(ds, 'x00280004') };
}

/**
 * An image without pixels cannot be shown, so it is a problem rather than an OTHER object.
 * A header that describes the image (Rows, Columns) but stops before the Pixel Data is a
 * file cut just before its pixels; an image-class object without even that lacks its
 * Image Pixel module. Pixel Data Provider URL (JPIP) objects keep their pixels elsewhere,
 * and MR Spectroscopy has Rows and Columns but no pixels by design (not an image class).
 */
function requireNoMissingPixels(ds: ParsedHeader['dataSet'], sopClassUid: string, rows: number | null, columns: number | null): void {
  if (ds.elements['x00287fe0'] !== undefined) return;
  const imageClass = isImageStorageClass(sopClassUid);
  if (rows !== null && columns !== null && (imageClass || readUint16(ds, 'x00280100') !== null)) {
    throw new HeaderProblem(
      'truncated',
      `The header describes a ${rows} × ${columns} image but the file has no Pixel Data (7FE0,0010): it was probably cut before its pixels.`,
    );
  }
  if (imageClass) {
    throw new HeaderProblem(
      'missing-attribute',
      `The SOP class ${sopClassUid} is an image class, but the file has no Pixel Data (7FE0,0010)${rows === null ? ' and no Rows (0028,0010)' : ''}: there is no image to show.`,
    );
  }
}

function joinWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function toProblem(path: string, error: unknown): FileProblem {
  if (error instanceof HeaderProblem) return { path, reason: error.reason, detail: error.message };
  // A reader bug must still leave a trace in the index, never a silently dropped file.
  const message = error instanceof Error ? error.message : String(error);
  return { path, reason: 'invalid-value', detail: `The header could not be read: ${message}.` };
}
