// Test fixtures for the DICOM import: files written with dcmjs (an independent writer),
// facts about real files read with pydicom (an independent reader), temp folders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const PYTHON_WITH_PYDICOM = '/usr/bin/python3';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';

interface DcmjsData {
  DicomDict: new (meta: unknown) => { dict: unknown; write(options?: unknown): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): unknown };
  DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { dict: Record<string, unknown> } };
}
export const dcmjs = createRequire(import.meta.url)('dcmjs') as { data: DcmjsData };

export type Dataset = Record<string, unknown>;

/** Writes a Part 10 file with dcmjs; the meta header follows the data set's SOP UIDs. */
export function writeDicom(path: string, dataset: Dataset, transferSyntaxUid = EXPLICIT_LE): Buffer {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID ?? CT_IMAGE_STORAGE,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID ?? '1.2.3.4.5.6.7',
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: '1.2.826.0.1.3680043.8.498.1',
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  const bytes = Buffer.from(dict.write());
  writeFileSync(path, bytes);
  return bytes;
}

export interface SliceSpec {
  studyUid?: string;
  seriesUid: string;
  sopUid: string;
  instanceNumber?: number;
  position?: [number, number, number];
  orientation?: [number, number, number, number, number, number];
  rows?: number;
  columns?: number;
  patientId?: string;
}

/** An 8×8 (by default) 16-bit CT slice with the given geometry. */
export function ctSlice(spec: SliceSpec): Dataset {
  const rows = spec.rows ?? 8;
  const columns = spec.columns ?? 8;
  const dataset: Dataset = {
    SOPClassUID: CT_IMAGE_STORAGE,
    SOPInstanceUID: spec.sopUid,
    StudyInstanceUID: spec.studyUid ?? '1.2.826.0.1.3680043.8.498.100',
    SeriesInstanceUID: spec.seriesUid,
    FrameOfReferenceUID: '1.2.826.0.1.3680043.8.498.200',
    Modality: 'CT',
    PatientID: spec.patientId ?? 'TEST-1',
    PatientName: 'Test^Patient',
    StudyDate: '20240102',
    StudyTime: '101500',
    SeriesNumber: '3',
    SeriesDescription: 'synthetic',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 0,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    PixelSpacing: [0.7, 0.7],
    SliceThickness: '2.5',
    PixelData: [new Uint16Array(rows * columns).buffer],
    _vrMap: { PixelData: 'OW' },
  };
  if (spec.instanceNumber !== undefined) dataset.InstanceNumber = String(spec.instanceNumber);
  if (spec.position) dataset.ImagePositionPatient = spec.position;
  if (spec.orientation) dataset.ImageOrientationPatient = spec.orientation;
  return dataset;
}

export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `medreasoner-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every regular file under a folder, as absolute paths (an independent walk for "every file once"). */
export function listFilesRecursively(root: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const stat = statSync(path);
    if (stat.isDirectory()) files.push(...listFilesRecursively(path));
    else if (stat.isFile()) files.push(path);
  }
  return files;
}

/** What pydicom says about one file. `strict` is false when it needed force=True (no DICM preamble). */
export interface PydicomFacts {
  path: string;
  readable: boolean;
  strict: boolean;
  error: string | null;
  transferSyntaxUid: string | null;
  mediaStorageSopClassUid: string | null;
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  seriesInstanceUid: string | null;
  studyInstanceUid: string | null;
  modality: string | null;
  rows: number | null;
  columns: number | null;
  numberOfFrames: string | null;
  hasPixelData: boolean;
  imagePositionPatient: number[] | null;
  imageOrientationPatient: number[] | null;
  gridFrameOffsetVector: number[] | null;
  referencedFiles: string[] | null;
}

const PYDICOM_FACTS_SCRIPT = String.raw`
import json, os, sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.errors import InvalidDicomError

def floats(value):
    if value is None:
        return None
    try:
        return [float(v) for v in value]
    except Exception:
        return None

def facts(path):
    out = {"path": path, "readable": False, "strict": True, "error": None}
    try:
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError:
            out["strict"] = False
            ds = pydicom.dcmread(path, force=True)
        ds.get("SOPInstanceUID")  # force decoding of the first elements
    except Exception as e:
        out["error"] = type(e).__name__ + ": " + str(e)[:200]
        return out
    meta = getattr(ds, "file_meta", None)
    def get(name, source=ds):
        try:
            value = source.get(name) if source is not None else None
        except Exception:
            return None
        return None if value is None else str(value)
    out.update({
        "readable": True,
        "transferSyntaxUid": get("TransferSyntaxUID", meta),
        "mediaStorageSopClassUid": get("MediaStorageSOPClassUID", meta),
        "sopClassUid": get("SOPClassUID"),
        "sopInstanceUid": get("SOPInstanceUID"),
        "seriesInstanceUid": get("SeriesInstanceUID"),
        "studyInstanceUid": get("StudyInstanceUID"),
        "modality": get("Modality"),
        "rows": int(ds.Rows) if "Rows" in ds else None,
        "columns": int(ds.Columns) if "Columns" in ds else None,
        "numberOfFrames": get("NumberOfFrames"),
        "hasPixelData": "PixelData" in ds,
        "imagePositionPatient": floats(ds.get("ImagePositionPatient")),
        "imageOrientationPatient": floats(ds.get("ImageOrientationPatient")),
        "gridFrameOffsetVector": floats(ds.get("GridFrameOffsetVector")),
        "referencedFiles": None,
    })
    if "DirectoryRecordSequence" in ds:
        base = os.path.dirname(path)
        refs = []
        for record in ds.DirectoryRecordSequence:
            ref = record.get("ReferencedFileID")
            if ref is None:
                continue
            parts = [ref] if isinstance(ref, str) else list(ref)
            refs.append(os.path.join(base, *parts))
        out["referencedFiles"] = refs
    return out

print(json.dumps([facts(p) for p in json.load(sys.stdin)]))
`;

export function pydicomFacts(paths: readonly string[]): Map<string, PydicomFacts> {
  const stdout = execFileSync(PYTHON_WITH_PYDICOM, ['-c', PYDICOM_FACTS_SCRIPT], {
    input: JSON.stringify(paths),
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  const list = JSON.parse(stdout) as PydicomFacts[];
  return new Map(list.map((f) => [f.path, f]));
}

/** Deterministic pseudo-random bytes (xorshift), so a failing case can be reproduced. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Offset of a tag in explicit or implicit little endian bytes (first match after the preamble). */
export function findTag(bytes: Buffer, group: number, element: number, from = 132): number {
  const needle = Buffer.alloc(4);
  needle.writeUInt16LE(group, 0);
  needle.writeUInt16LE(element, 2);
  const at = bytes.indexOf(needle, from);
  if (at < 0) throw new Error(`tag (${group.toString(16)},${element.toString(16)}) not found in the test file`);
  return at;
}
