// A DICOMDIR whose Directory Record Sequence is slightly malformed (an item length that
// overruns the file, as written by careless editors) still lists files worth importing:
// read its items leniently, as far as the bytes allow. Only used for that sequence.
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, ByteStream, DataSet, Element } from 'dicom-parser';

const UNDEFINED_LENGTH = 0xffffffff;

type DataSetConstructor = new (parser: ByteArrayParser, byteArray: Uint8Array, elements: Record<string, Element>) => DataSet;
type ByteStreamConstructor = new (parser: ByteArrayParser, byteArray: Uint8Array, position: number) => ByteStream;
const DataSetClass = (dicomParser as unknown as { DataSet: DataSetConstructor }).DataSet;
const ByteStreamClass = dicomParser.ByteStream as unknown as ByteStreamConstructor;

export interface SalvagedSequence {
  element: Element;
  /** Where reading can go on after the sequence. */
  next: number;
  itemsRead: number;
}

export function salvageSequence(
  bytes: Uint8Array,
  header: { tag: string; vr: string | undefined; length: number; dataOffset: number },
  explicit: boolean,
  parser: ByteArrayParser,
): SalvagedSequence {
  const end = bytes.length;
  const sequenceEnd = header.length === UNDEFINED_LENGTH ? end : Math.min(end, header.dataOffset + header.length);
  const items: Element[] = [];
  let at = header.dataOffset;
  while (at + 8 <= sequenceEnd) {
    const group = parser.readUint16(bytes, at);
    const element = parser.readUint16(bytes, at + 2);
    const length = parser.readUint32(bytes, at + 4);
    if (group !== 0xfffe || element !== 0xe000 || length === UNDEFINED_LENGTH) break;
    const itemStart = at + 8;
    const itemEnd = Math.min(sequenceEnd, itemStart + length);
    const dataSet = new DataSetClass(parser, bytes, {});
    const stream = new ByteStreamClass(parser, bytes, itemStart);
    let complete = true;
    try {
      if (explicit) dicomParser.parseDicomDataSetExplicit(dataSet, stream, itemEnd);
      else dicomParser.parseDicomDataSetImplicit(dataSet, stream, itemEnd);
    } catch {
      complete = false; // keep the elements read before the break
    }
    items.push({ tag: 'xfffee000', length: itemEnd - itemStart, dataOffset: itemStart, dataSet } as Element);
    if (!complete) break;
    at = itemStart + length;
  }
  return {
    element: { tag: header.tag, vr: header.vr ?? 'SQ', length: sequenceEnd - header.dataOffset, dataOffset: header.dataOffset, items },
    next: header.length === UNDEFINED_LENGTH ? end : Math.min(end, header.dataOffset + header.length),
    itemsRead: items.length,
  };
}
