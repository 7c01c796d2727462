// Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99) compresses the whole
// dataset after the file meta information. dicom-image-loader 5.14's naturalized
// metadata path cannot read it ("no pixel data in NATURALIZED"), so the loader's
// response hook inflates such files into plain Explicit VR Little Endian before
// parsing. Every other file passes through untouched.
// pako, not DecompressionStream: writers pad the deflate stream to an even length
// (and some add more), and DecompressionStream rejects any byte after the stream's end.
import { inflateRaw } from 'pako';

const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR. */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

type MetaElement = { element: number; start: number; end: number; valueStart: number; valueLength: number };

/** The file meta group (0002), always explicit VR little endian, right after "DICM". */
function readFileMeta(bytes: Uint8Array): { elements: MetaElement[]; end: number } | null {
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: MetaElement[] = [];
  let offset = 132;
  while (offset + 8 <= bytes.length && view.getUint16(offset, true) === 0x0002) {
    const element = view.getUint16(offset + 2, true);
    const vr = String.fromCharCode(bytes[offset + 4] ?? 0, bytes[offset + 5] ?? 0);
    const long = LONG_LENGTH_VRS.has(vr);
    if (long && offset + 12 > bytes.length) return null;
    const valueLength = long ? view.getUint32(offset + 8, true) : view.getUint16(offset + 6, true);
    const valueStart = offset + (long ? 12 : 8);
    const end = valueStart + valueLength;
    if (end > bytes.length) return null;
    elements.push({ element, start: offset, end, valueStart, valueLength });
    offset = end;
  }
  return { elements, end: offset };
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes).replace(/[\0 ]+$/, '');
}

/** Returns the file as Explicit VR Little Endian when it is deflated; otherwise the very same buffer. */
export async function inflateDeflatedPart10(buffer: ArrayBuffer): Promise<ArrayBuffer> {
  return inflateDeflatedPart10Sync(buffer);
}

function inflateDeflatedPart10Sync(buffer: ArrayBuffer): ArrayBuffer {
  const bytes = new Uint8Array(buffer);
  const meta = readFileMeta(bytes);
  const syntax = meta?.elements.find((e) => e.element === 0x0010);
  if (!meta || !syntax || ascii(bytes.subarray(syntax.valueStart, syntax.valueStart + syntax.valueLength)) !== DEFLATED_EXPLICIT_LE) return buffer;

  const dataset = inflateRaw(bytes.subarray(meta.end));
  // EXPLICIT_LE has 19 characters: one NUL pads it to an even length.
  const newSyntax = new Uint8Array(8 + 20);
  const syntaxView = new DataView(newSyntax.buffer);
  syntaxView.setUint16(0, 0x0002, true);
  syntaxView.setUint16(2, 0x0010, true);
  newSyntax.set([0x55, 0x49], 4); // "UI"
  syntaxView.setUint16(6, 20, true);
  for (let i = 0; i < EXPLICIT_LE.length; i++) newSyntax[8 + i] = EXPLICIT_LE.charCodeAt(i);

  const parts: Uint8Array[] = [bytes.subarray(0, 132)];
  let groupLengthValueAt = -1;
  let length = 132;
  for (const element of meta.elements) {
    const part = element.element === 0x0010 ? newSyntax : bytes.subarray(element.start, element.end);
    if (element.element === 0x0000 && element.valueLength === 4) groupLengthValueAt = length + part.length - 4;
    parts.push(part);
    length += part.length;
  }
  const out = new Uint8Array(length + dataset.length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out.set(dataset, offset);
  // (0002,0000) counts the bytes of the group after itself: it changed with the syntax UID.
  if (groupLengthValueAt >= 0) new DataView(out.buffer).setUint32(groupLengthValueAt, length - (groupLengthValueAt + 4), true);
  return out.buffer;
}
