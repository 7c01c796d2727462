// Part 10 files from a dcmjs-encoded header plus pixel data appended as raw parts.
// Why not let dcmjs write the pixels too: it copies them into its growing write
// buffer, so a 30 MB frame set costs its size twice or more; appending the
// (7FE0,0010) element ourselves keeps LABELMAP frames zero-copy (bench/seg-roundtrip.ts
// measures both). Pixel Data is the last element of the data set, so appending keeps
// tags in ascending order.
import { dcmjs, type NaturalDataset } from './dcmjs-module.ts';
import { IMPLEMENTATION_CLASS_UID } from '../sample/sample-identity.ts';
import { TransferSyntax } from './seg-enums.ts';

/** Identifies this writer in File Meta Information (the app's one implementation class UID). */
export const IMPLEMENTATION_VERSION_NAME = 'MEDREASONER_SEG1';

/** A Part 10 file as a list of byte parts (header first), so large pixel data is never concatenated. */
export interface Part10Parts {
  parts: Uint8Array[];
  byteLength: number;
}

/** Explicit VR Little Endian Part 10 bytes of a naturalized dcmjs data set (its PixelData included, if any). */
export function encodeWithDcmjs(dataset: NaturalDataset, transferSyntaxUid: string = TransferSyntax.explicitLittle): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write({ allowInvalidVRLength: false }));
}

/**
 * The header (everything but Pixel Data) encoded by dcmjs, then the Pixel Data element
 * (explicit VR, 32-bit length) and its value parts, padded to an even length.
 */
export function withPixelData(dataset: NaturalDataset, vr: 'OB' | 'OW', pixelParts: Uint8Array[]): Part10Parts {
  const header = encodeWithDcmjs(dataset);
  const valueLength = pixelParts.reduce((n, p) => n + p.length, 0);
  const padded = valueLength + (valueLength & 1);
  if (padded > 0xfffffffe) throw new RangeError(`pixel data of ${valueLength} bytes does not fit one DICOM element`);
  const element = new Uint8Array(12);
  const view = new DataView(element.buffer);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  element[4] = vr.charCodeAt(0);
  element[5] = vr.charCodeAt(1);
  view.setUint32(8, padded, true);
  const parts = [header, element, ...pixelParts];
  if (padded !== valueLength) parts.push(new Uint8Array(1));
  return { parts, byteLength: parts.reduce((n, p) => n + p.length, 0) };
}

/** The header (dcmjs, explicit VR little endian as RLE requires) and pre-built encapsulated Pixel Data parts. */
export function withEncapsulatedPixelData(dataset: NaturalDataset, transferSyntaxUid: string, pixelParts: Uint8Array[]): Part10Parts {
  const parts = [encodeWithDcmjs(dataset, transferSyntaxUid), ...pixelParts];
  return { parts, byteLength: parts.reduce((n, p) => n + p.length, 0) };
}

export function concatParts({ parts, byteLength }: Part10Parts): Uint8Array {
  const out = new Uint8Array(byteLength);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
