// The DICOM Part 10 envelope: 128-byte preamble, "DICM", then the File Meta
// Information group (0002,xxxx) in Explicit VR Little Endian, then the data set in
// the transfer syntax the meta header names. DIMSE carries data sets without the
// envelope, DICOMweb and files carry it; we keep data set bytes untouched and only
// add or strip the envelope, so what a PACS sent is what lands on disk.
import { IMPLEMENTATION_CLASS_UID } from '../sample/sample-identity.ts';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const MEDREASONER_IMPLEMENTATION_CLASS_UID = IMPLEMENTATION_CLASS_UID;
export const MEDREASONER_IMPLEMENTATION_VERSION = 'MEDREASONER';

const PREAMBLE_LENGTH = 128;
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export interface Part10Header {
  transferSyntaxUid: string;
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  sourceAet: string;
  /** Where the data set begins (after the meta group). */
  datasetOffset: number;
}

export class NotPart10Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotPart10Error';
  }
}

/** Reads the meta group by walking its elements (the group length element is optional in practice). */
export function readPart10Header(bytes: Uint8Array): Part10Header {
  if (bytes.length < PREAMBLE_LENGTH + 4 || ascii(bytes, PREAMBLE_LENGTH, 4) !== 'DICM') {
    throw new NotPart10Error('not a DICOM Part 10 file (no "DICM" after the 128-byte preamble)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, string>();
  let offset = PREAMBLE_LENGTH + 4;
  while (offset + 8 <= bytes.length && view.getUint16(offset, true) === 0x0002) {
    const element = view.getUint16(offset + 2, true);
    const vr = ascii(bytes, offset + 4, 2);
    let length: number;
    let valueOffset: number;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (offset + 12 > bytes.length) break;
      length = view.getUint32(offset + 8, true);
      valueOffset = offset + 12;
    } else {
      length = view.getUint16(offset + 6, true);
      valueOffset = offset + 8;
    }
    if (length === 0xffffffff || valueOffset + length > bytes.length) {
      throw new NotPart10Error('the File Meta Information is truncated or has an undefined length');
    }
    if (vr === 'UI' || vr === 'AE' || vr === 'SH') values.set(element, ascii(bytes, valueOffset, length).replace(/[\0 ]+$/, '').trim());
    offset = valueOffset + length;
  }
  const transferSyntaxUid = values.get(0x0010);
  if (!transferSyntaxUid) throw new NotPart10Error('the File Meta Information has no Transfer Syntax UID (0002,0010)');
  return {
    transferSyntaxUid,
    mediaStorageSopClassUid: values.get(0x0002) ?? '',
    mediaStorageSopInstanceUid: values.get(0x0003) ?? '',
    sourceAet: values.get(0x0016) ?? '',
    datasetOffset: offset,
  };
}

export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The AE that sent us the data set (Source Application Entity Title). */
  sourceAet?: string;
}

/** Preamble, "DICM" and a meta group for a data set received without one (DIMSE). */
export function encodeFileMeta(fields: FileMetaFields): Buffer {
  const elements: Buffer[] = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uidValue(fields.sopClassUid)),
    element(0x0003, 'UI', uidValue(fields.sopInstanceUid)),
    element(0x0010, 'UI', uidValue(fields.transferSyntaxUid)),
    element(0x0012, 'UI', uidValue(MEDREASONER_IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', textValue(MEDREASONER_IMPLEMENTATION_VERSION)),
  ];
  if (fields.sourceAet) elements.push(element(0x0016, 'AE', textValue(fields.sourceAet)));
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(PREAMBLE_LENGTH), Buffer.from('DICM', 'ascii'), element(0x0000, 'UL', groupLength), body]);
}

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  if (LONG_LENGTH_VRS.has(vr)) {
    const header = Buffer.alloc(12);
    header.writeUInt16LE(0x0002, 0);
    header.writeUInt16LE(elementNumber, 2);
    header.write(vr, 4, 'ascii');
    header.writeUInt32LE(value.length, 8);
    return Buffer.concat([header, value]);
  }
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'ascii');
  header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function uidValue(uid: string): Buffer {
  return Buffer.from(uid.length % 2 === 1 ? `${uid}\0` : uid, 'ascii');
}

function textValue(text: string): Buffer {
  return Buffer.from(text.length % 2 === 1 ? `${text} ` : text, 'ascii');
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(length, bytes.length - offset)).toString('latin1');
}

/** UIDs become folder and file names: only digits and dots, so a hostile PACS cannot walk out of the store. */
export function isPathSafeUid(uid: string): boolean {
  return /^[0-9]+(\.[0-9]+)*$/.test(uid) && uid.length <= 64;
}
