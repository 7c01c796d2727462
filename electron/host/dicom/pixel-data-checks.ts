// Does the pixel data the header announces fit in the file? Checked without reading
// the pixels: native data by its length, encapsulated data by walking item headers.
import type { Element } from 'dicom-parser';
import type { ByteSource } from './file-source.ts';
import { HeaderProblem } from './header-problem.ts';
import { isNativePixelSyntax } from './transfer-syntaxes.ts';

const UNDEFINED_LENGTH = 0xffffffff;
const ABSURD_LENGTH = 0x80000000;

/**
 * Encapsulated fragments may hold at most this many times what the pixels need
 * uncompressed, plus ENCAPSULATED_FRAME_SLACK per frame: lossless codecs expand random
 * data by a few percent at worst (RLE's PackBits by 1/128), and per-frame headers, JPEG
 * tables and ICC profiles are kilobytes. Past that (or past the hard cap whatever the
 * layout) the fragments are not this image's pixels, and a reader that allocates by them
 * would be told to allocate what the file says.
 */
export const ENCAPSULATED_FACTOR = 2;
export const ENCAPSULATED_FRAME_SLACK = 64 * 1024;
export const ENCAPSULATED_HARD_CAP = 4 * 1024 * 1024 * 1024;

/** The most encapsulated pixel data (fragment bytes, offset table included) a layout may have. */
export function maxEncapsulatedLength(layout: PixelLayout): number {
  return Math.min(ENCAPSULATED_HARD_CAP, ENCAPSULATED_FACTOR * expectedNativeLength(layout) + ENCAPSULATED_FRAME_SLACK * layout.frames);
}

export interface PixelLayout {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometricInterpretation: string;
}

/** Bytes that native pixel data of this layout needs; YBR_FULL_422 stores two samples per pixel. */
export function expectedNativeLength(layout: PixelLayout): number {
  const pixels = layout.rows * layout.columns * layout.frames;
  const samples = layout.photometricInterpretation === 'YBR_FULL_422' ? 2 : layout.samplesPerPixel;
  if (layout.bitsAllocated === 1) return Math.ceil((pixels * samples) / 8);
  return pixels * samples * Math.ceil(layout.bitsAllocated / 8);
}

/**
 * @param end the offset where the bytes the element's offsets refer to end: the file size,
 *   or the inflated length of a deflated data set
 * @param source where to read encapsulated item headers (null when the data was inflated)
 */
export function checkPixelData(pixelData: Element, transferSyntaxUid: string, layout: PixelLayout | null, end: number, source: ByteSource | null): void {
  if (pixelData.length === UNDEFINED_LENGTH) {
    if (source) {
      const fragmentBytes = checkEncapsulated(source, pixelData.dataOffset, end, layout ? maxEncapsulatedLength(layout) : null);
      if (layout && fragmentBytes > maxEncapsulatedLength(layout)) {
        throw new HeaderProblem(
          'invalid-value',
          `Encapsulated Pixel Data (7FE0,0010) holds ${fragmentBytes} bytes of fragments, more than the ${maxEncapsulatedLength(layout)} that ${describeLayout(layout)} could need (${ENCAPSULATED_FACTOR} × ${expectedNativeLength(layout)} uncompressed + ${ENCAPSULATED_FRAME_SLACK} per frame, at most ${ENCAPSULATED_HARD_CAP}); the file is skipped.`,
        );
      }
    }
    return;
  }
  if (pixelData.length >= ABSURD_LENGTH) {
    throw new HeaderProblem('invalid-value', `Pixel Data (7FE0,0010) at byte ${pixelData.dataOffset} has an absurd length of ${pixelData.length} bytes; the file has ${end}.`);
  }
  const available = end - pixelData.dataOffset;
  if (pixelData.length > available) {
    throw new HeaderProblem(
      'truncated',
      `Pixel Data (7FE0,0010) announces ${pixelData.length} bytes at byte ${pixelData.dataOffset}, but the file ends after ${Math.max(0, available)} of them.`,
    );
  }
  if (layout && isNativePixelSyntax(transferSyntaxUid)) {
    const expected = expectedNativeLength(layout);
    if (pixelData.length < expected) {
      throw new HeaderProblem(
        'truncated',
        `Pixel Data (7FE0,0010) holds ${pixelData.length} bytes, fewer than the ${expected} that ${layout.rows} rows × ${layout.columns} columns × ${layout.frames} frame(s) × ${layout.samplesPerPixel} sample(s) × ${layout.bitsAllocated} bits need.`,
      );
    }
  }
}

const ITEM = 0xe000;
const SEQUENCE_DELIMITER = 0xe0dd;

function describeLayout(layout: PixelLayout): string {
  return `${layout.rows} rows × ${layout.columns} columns × ${layout.frames} frame(s) × ${layout.samplesPerPixel} sample(s) × ${layout.bitsAllocated} bits`;
}

/**
 * Encapsulated fragments are items (FFFE,E000) closed by a sequence delimiter (FFFE,E0DD).
 * Returns the fragments' total length, or an upper bound of it when that is within `bound`
 * (a file whose remaining bytes fit needs no walk).
 */
function checkEncapsulated(source: ByteSource, start: number, end: number, bound: number | null): number {
  if (end - start >= 8 && (bound === null || end - start <= bound)) {
    const tail = source.read(end - 8, 8);
    if (tail.length === 8 && tail.readUInt16LE(0) === 0xfffe && tail.readUInt16LE(2) === SEQUENCE_DELIMITER && tail.readUInt32LE(4) === 0) return end - start;
  }
  // Something follows the delimiter (trailing padding, signatures) or the file was cut: walk the items.
  let at = start;
  let items = 0;
  let total = 0;
  for (;;) {
    if (at + 8 > end) {
      throw new HeaderProblem(
        'truncated',
        `The file ends inside the encapsulated Pixel Data (7FE0,0010) after ${items} item(s), before its sequence delimiter.`,
      );
    }
    const header = source.read(at, 8);
    const group = header.readUInt16LE(0);
    const element = header.readUInt16LE(2);
    const length = header.readUInt32LE(4);
    if (group === 0xfffe && element === SEQUENCE_DELIMITER) return total;
    if (group !== 0xfffe || element !== ITEM) {
      throw new HeaderProblem(
        'invalid-value',
        `Encapsulated Pixel Data (7FE0,0010) has an unexpected tag (${hex(group)},${hex(element)}) at byte ${at} where a fragment item should be.`,
      );
    }
    if (length === UNDEFINED_LENGTH) {
      throw new HeaderProblem('invalid-value', `Pixel data fragment ${items} at byte ${at} has an undefined length; fragments must have explicit lengths.`);
    }
    if (at + 8 + length > end) {
      throw new HeaderProblem(
        'truncated',
        `Pixel data fragment ${items} at byte ${at} announces ${length} bytes, but the file ends after ${Math.max(0, end - at - 8)} of them.`,
      );
    }
    at += 8 + length;
    total += length;
    items++;
  }
}

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}
