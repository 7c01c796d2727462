// Parses the header of one DICOM file from a prefix of its bytes, stopping at the
// top-level Pixel Data element. Handles Part 10 files (with or without a transfer
// syntax in the meta header), raw data sets without preamble, deflate and big endian.
// Throws HeaderProblem for broken files and NeedMoreBytes when the prefix is too short.
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, ByteStream, DataSet, Element } from 'dicom-parser';
import { HeaderProblem, NeedMoreBytes, hexPreview, tagName } from './header-problem.ts';
import { salvageSequence } from './sequence-salvage.ts';
import { InflateBudgetError, inflateWithinBudget } from './inflate-budget.ts';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntaxes.ts';
import {
  chooseEncoding,
  describeEncoding,
  encodingOf,
  peekElementHeader,
  syntaxOf,
  type Encoding,
} from './dataset-encoding.ts';

export const PIXEL_DATA_TAG = 'x7fe00010';
const DIRECTORY_RECORD_SEQUENCE = 'x00041220';
const UNDEFINED_LENGTH = 0xffffffff;
/** Longer than any real element in a file on a workstation disk: a corrupt length, not a cut file. */
const ABSURD_LENGTH = 0x80000000;

export interface ParsedHeader {
  /** Meta header elements and data set elements together, as dicom-parser merges them. */
  dataSet: DataSet;
  transferSyntaxUid: string;
  /** Set when the encoding was guessed (no meta header, or one that lies about the encoding). */
  encodingNote: string | null;
  /** Length of the bytes the element offsets refer to (the inflated length for deflate). */
  dataLength: number;
  /** True when the bytes hold the whole file (offsets beyond dataLength are beyond the end). */
  complete: boolean;
  deflated: boolean;
  /** The top-level Pixel Data element's header; its value is not read. */
  pixelData: Element | null;
  /** Set when a DICOMDIR's malformed Directory Record Sequence was read leniently. */
  salvageNote: string | null;
}

type DataSetConstructor = new (parser: ByteArrayParser, byteArray: Uint8Array, elements: Record<string, Element>) => DataSet;
type ByteStreamConstructor = new (parser: ByteArrayParser, byteArray: Uint8Array, position: number) => ByteStream;
const DataSetClass = (dicomParser as unknown as { DataSet: DataSetConstructor }).DataSet;
const ByteStreamClass = dicomParser.ByteStream as unknown as ByteStreamConstructor;

/**
 * @param bytes the first bytes of the file (possibly all of it)
 * @param fileSize the size of the whole file
 */
export function parseHeader(bytes: Buffer, fileSize: number): ParsedHeader {
  const complete = bytes.length >= fileSize;
  if (fileSize === 0) throw new HeaderProblem('empty-file', 'The file is empty (0 bytes).');

  const part10 = bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM';
  if (!part10 && bytes.length < 132 && !complete) throw new NeedMoreBytes();

  let meta: DataSet | null = null;
  let position = 0;
  let declared: string | null = null;
  if (part10) {
    const header = readMetaHeader(bytes, complete);
    meta = header.meta;
    position = header.end;
    declared = meta.string('x00020010') ?? null;
    if (declared === '') declared = null;
  }

  if (declared === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
    if (!complete) throw new NeedMoreBytes(true);
    const inflated = inflateDataSet(bytes, position);
    return parseDataSet(inflated, position, meta, declared, { explicit: true, bigEndian: false }, null, true, true);
  }

  const declaredEncoding = declared === null ? null : encodingOf(declared);
  const chosen = chooseEncoding(bytes, position, fileSize, declaredEncoding);
  if (!chosen) {
    if (part10) {
      // The meta header was fine; let the declared encoding report where the data set breaks.
      return parseDataSet(bytes, position, meta, declared ?? IMPLICIT_VR_LITTLE_ENDIAN, declaredEncoding ?? { explicit: false, bigEndian: false }, null, complete, false);
    }
    if (!complete && bytes.length < 64) throw new NeedMoreBytes();
    throw new HeaderProblem(
      'not-dicom',
      `No 'DICM' marker at byte 128, and the file does not start with DICOM elements in implicit or explicit VR, little or big endian (first bytes: ${hexPreview(bytes, 0, 12)}).`,
    );
  }
  let note: string | null = null;
  let syntax = declared;
  if (declared === null) {
    syntax = syntaxOf(chosen);
    note = part10
      ? `The meta header has no Transfer Syntax UID (0002,0010); the data set reads as ${describeEncoding(chosen)}.`
      : `No meta header; the data set reads as ${describeEncoding(chosen)}.`;
  } else if (declaredEncoding && (declaredEncoding.explicit !== chosen.explicit || declaredEncoding.bigEndian !== chosen.bigEndian)) {
    note = `The meta header declares ${describeEncoding(declaredEncoding)} but the data set is ${describeEncoding(chosen)}; read as found.`;
  }
  return parseDataSet(bytes, position, meta, syntax ?? IMPLICIT_VR_LITTLE_ENDIAN, chosen, note, complete, false);
}

/**
 * The File Meta Information: explicit VR little endian group 0002 elements after 'DICM'.
 * Walked here rather than by dicom-parser, which also swallows elements of groups 0000
 * and 0001 that belong to the data set (pydicom's nested_priv_SQ.dcm starts with one).
 */
function readMetaHeader(bytes: Buffer, complete: boolean): { meta: DataSet; end: number } {
  const littleExplicit: Encoding = { explicit: true, bigEndian: false };
  let at = 132;
  while (at + 2 <= bytes.length && bytes.readUInt16LE(at) === 0x0002) {
    const header = peekElementHeader(bytes, at, littleExplicit);
    if (!header) {
      if (!complete) throw new NeedMoreBytes();
      throw new HeaderProblem('truncated', `The file ends (at byte ${bytes.length}) inside its File Meta Information header.`);
    }
    if (header.dataOffset + header.length > bytes.length) {
      if (!complete) throw new NeedMoreBytes();
      throw overrunProblem(header, bytes.length);
    }
    at = header.dataOffset + header.length;
  }
  if (at >= bytes.length && complete) {
    throw new HeaderProblem('truncated', `The file ends (at byte ${bytes.length}) after its File Meta Information header, before any data set.`);
  }
  const parser = dicomParser.littleEndianByteArrayParser;
  const meta = new DataSetClass(parser, bytes, {});
  try {
    if (at > 132) dicomParser.parseDicomDataSetExplicit(meta, new ByteStreamClass(parser, bytes, 132), at);
  } catch (error) {
    throw new HeaderProblem('invalid-value', `The File Meta Information header is malformed: ${parserMessage(error)}.`);
  }
  // Meta values are little endian even in a big endian file: pin the parser on each element.
  for (const element of Object.values(meta.elements)) element.parser = parser;
  return { meta, end: at };
}

function inflateDataSet(bytes: Buffer, position: number): Buffer {
  const deflated = bytes.subarray(position);
  let inflated: Buffer;
  try {
    inflated = inflateWithinBudget(deflated);
  } catch (rawError) {
    if (rawError instanceof InflateBudgetError) throw new HeaderProblem('invalid-value', `${capitalised(rawError.message)}.`);
    try {
      // Some writers wrap the stream in a zlib header although the standard says raw deflate.
      inflated = inflateWithinBudget(deflated, true);
    } catch (wrappedError) {
      if (wrappedError instanceof InflateBudgetError) throw new HeaderProblem('invalid-value', `${capitalised(wrappedError.message)}.`);
      const message = parserMessage(rawError);
      const cut = /unexpected end/i.test(message);
      throw new HeaderProblem(
        cut ? 'truncated' : 'invalid-value',
        cut
          ? `The deflated data set ends before its compressed stream does (${deflated.length} compressed bytes after the meta header).`
          : `The deflated data set cannot be inflated: ${message}.`,
      );
    }
  }
  return Buffer.concat([bytes.subarray(0, position), inflated]);
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function parseDataSet(
  bytes: Buffer,
  position: number,
  meta: DataSet | null,
  transferSyntaxUid: string,
  encoding: Encoding,
  encodingNote: string | null,
  complete: boolean,
  deflated: boolean,
): ParsedHeader {
  const parser = encoding.bigEndian ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  const end = bytes.length;
  const elements: Record<string, Element> = {};
  const dataSet = new DataSetClass(parser, bytes, elements);
  let pixelData: Element | null = null;
  const salvage = { note: null as string | null };
  if (position < end) {
    const stream = new ByteStreamClass(parser, bytes, position);
    dataSet.warnings = stream.warnings;
    pixelData = readTopLevelElements(elements, stream, encoding, end, complete, salvage);
    checkParserWarnings(stream.warnings, complete, end);
  } else if (!complete) {
    throw new NeedMoreBytes();
  }
  // Meta elements carry their own little endian parser, so big endian files read them right.
  if (meta) for (const [tag, element] of Object.entries(meta.elements)) elements[tag] = element;
  return { dataSet, transferSyntaxUid, encodingNote, dataLength: end, complete, deflated, pixelData, salvageNote: salvage.note };
}

function readTopLevelElements(
  elements: Record<string, Element>,
  stream: ByteStream,
  encoding: Encoding,
  end: number,
  complete: boolean,
  salvage: { note: string | null },
): Element | null {
  while (stream.position < end) {
    const start = stream.position;
    let element: Element;
    try {
      element = encoding.explicit
        ? dicomParser.readDicomElementExplicit(stream, stream.warnings, PIXEL_DATA_TAG)
        : dicomParser.readDicomElementImplicit(stream, PIXEL_DATA_TAG);
    } catch (error) {
      if (!complete) throw new NeedMoreBytes();
      const header = peekElementHeader(stream.byteArray, start, encoding);
      if (header?.tag === DIRECTORY_RECORD_SEQUENCE) {
        const salvaged = salvageSequence(stream.byteArray, header, encoding.explicit, stream.byteArrayParser);
        elements[header.tag] = salvaged.element;
        salvage.note = `The Directory Record Sequence is malformed (${parserMessage(error)}); ${salvaged.itemsRead} directory records were read as far as the file allows.`;
        stream.position = salvaged.next;
        continue;
      }
      throw elementFailure(stream.byteArray, start, encoding, end, error);
    }
    elements[element.tag] = element;
    if (element.tag === PIXEL_DATA_TAG) return element;
    if (element.length !== UNDEFINED_LENGTH && element.dataOffset + element.length > end) {
      if (!complete) throw new NeedMoreBytes();
      throw overrunProblem(element, end);
    }
  }
  // A prefix that ends without reaching Pixel Data may end inside the header.
  if (!complete) throw new NeedMoreBytes();
  return null;
}

function checkParserWarnings(warnings: string[], complete: boolean, end: number): void {
  // 'eof encountered … in peeking to determine VR' only means the last element ends the file.
  const eof = warnings.find((w) => (/eof encountered/i.test(w) && !/peeking/i.test(w)) || /missing sequence delimiter/i.test(w));
  if (!eof) return;
  if (!complete) throw new NeedMoreBytes();
  throw new HeaderProblem('truncated', `The file ends (at byte ${end}) inside a sequence of undefined length: ${eof}.`);
}

function overrunProblem(element: Pick<Element, 'tag' | 'vr' | 'length' | 'dataOffset'>, end: number): HeaderProblem {
  const name = `${tagName(element.tag)}${element.vr ? ` ${element.vr}` : ''}`;
  if (element.length >= ABSURD_LENGTH) {
    return new HeaderProblem(
      'invalid-value',
      `Element ${name} at byte ${element.dataOffset} has an absurd length of ${element.length} bytes (0x${element.length.toString(16).toUpperCase()}); the file has ${end} bytes.`,
    );
  }
  return new HeaderProblem(
    'truncated',
    `The file ends inside element ${name}: it announces ${element.length} bytes at byte ${element.dataOffset}, but only ${Math.max(0, end - element.dataOffset)} remain.`,
  );
}

/** dicom-parser threw while reading the element at `start`: say which element and why. */
function elementFailure(bytes: Uint8Array, start: number, encoding: Encoding, end: number, error: unknown): HeaderProblem {
  const header = peekElementHeader(bytes, start, encoding);
  const message = parserMessage(error);
  if (!header) return new HeaderProblem('truncated', `The file ends (at byte ${end}) inside the header of the element that starts at byte ${start}.`);
  const name = `${tagName(header.tag)}${header.vr ? ` ${header.vr}` : ''}`;
  if (header.length !== UNDEFINED_LENGTH) {
    if (header.length >= ABSURD_LENGTH || header.dataOffset + header.length > end) {
      return overrunProblem(header, end);
    }
    return new HeaderProblem('invalid-value', `The content of element ${name} at byte ${start} is malformed: ${message}.`);
  }
  const cut = /past end|overread|overrun|maxP ?osition/i.test(message);
  return new HeaderProblem(
    cut ? 'truncated' : 'invalid-value',
    cut
      ? `The file ends (at byte ${end}) inside element ${name} of undefined length that starts at byte ${start}.`
      : `Element ${name} of undefined length at byte ${start} is malformed: ${message}.`,
  );
}

export function parserMessage(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  const wrapped = (error as { exception?: unknown } | null)?.exception;
  if (wrapped !== undefined) return parserMessage(wrapped);
  return String(error);
}
