// dcmjs ships no type declarations. Rather than a global `declare module` (which
// another part of the app may also declare), the members used here are typed locally.
import { createRequire } from 'node:module';

export type DicomElements = Record<string, unknown>;
export type NaturalDataset = Record<string, unknown>;

export interface DcmjsDicomDict {
  dict: DicomElements;
  meta: DicomElements;
  write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
}

export interface DcmjsData {
  DicomDict: new (meta: DicomElements) => DcmjsDicomDict;
  DicomMessage: {
    readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DcmjsDicomDict;
  };
  DicomMetaDictionary: {
    denaturalizeDataset(dataset: NaturalDataset): DicomElements;
    naturalizeDataset(dataset: DicomElements): NaturalDataset;
    nameMap: Record<string, { tag: string; vr: string }>;
  };
  BitArray: { unpack(packed: ArrayBuffer | Uint8Array): Uint8Array };
}

export const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: DcmjsData };
