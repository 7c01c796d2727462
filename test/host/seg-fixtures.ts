// Shared fixtures of the seg tests (not a test file): the independent validators and
// readers (dciodvfy, pydicom, dcmjs), source series on disk, and the sample's organs as
// segments. Missing tools fail loudly with what to install; nothing is skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import type { HostSeries } from '../../electron/host/dicom/import-types.ts';
import { LABEL_TABLE } from '../../electron/host/sample/label-table.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { writeSample, type SampleManifest } from '../../electron/host/sample/sample-store.ts';
import { dcmjs } from '../../electron/host/seg/dcmjs-module.ts';
import type { SegmentInit } from '../../electron/host/seg/segment.ts';
import { sourceSeriesFromHost } from '../../electron/host/seg/source-from-index.ts';
import type { SourceSeries } from '../../electron/host/seg/source-series.ts';
import { ctSlice, writeDicom } from './fixtures-dicom.ts';
import { DEBIAN_PYTHON, requireExecutable } from './real-parts.ts';

export const DCIODVFY = '/usr/bin/dciodvfy';

export function tempDir(prefix: string): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `medreasoner-${prefix}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Validation {
  errors: string[];
  warnings: string[];
  output: string;
}

/** dicom3tools' validator; its verdict lines start with "Error -" or "Warning -". */
export function dciodvfy(file: string): Validation {
  requireExecutable(DCIODVFY, "dicom3tools' dciodvfy (Debian package dicom3tools)");
  const run = spawnSync(DCIODVFY, [file], { encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  const lines = output.split('\n');
  return { errors: lines.filter((l) => l.startsWith('Error')), warnings: lines.filter((l) => l.startsWith('Warning')), output };
}

function requirePydicom(): void {
  requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom (python3-pydicom)');
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import pydicom'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`pydicom is missing from ${DEBIAN_PYTHON}: ${probe.stderr}. Install python3-pydicom.`);
}

/** Runs a Python script with pydicom on JSON input; returns its JSON output. */
export function runPydicom<T>(script: string, input: unknown): T {
  requirePydicom();
  const stdout = execFileSync(DEBIAN_PYTHON, ['-c', script], { input: JSON.stringify(input), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(stdout) as T;
}

/**
 * pydicom's reading of a SEG, mapped onto the source by ReferencedSOPInstanceUID only:
 * the volume (x fastest, then y, then slice) is written raw to `volumeOut`, one byte or
 * two per voxel; BINARY frames put their segment number where pixel_array is 1.
 */
const PYDICOM_SEG_SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import pydicom
args = json.load(sys.stdin)
ds = pydicom.dcmread(args["path"])
index = {uid: k for k, uid in enumerate(args["sopUids"])}
rows, cols, slices = int(ds.Rows), int(ds.Columns), len(args["sopUids"])
pixels = ds.pixel_array
if pixels.ndim == 2:
    pixels = pixels[np.newaxis]
kind = str(ds.SegmentationType)
dtype = np.uint16 if int(ds.BitsAllocated) == 16 else np.uint8
volume = np.zeros((slices, rows, cols), dtype=dtype)
frames = []
overlaps = 0
for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
    src = item.DerivationImageSequence[0].SourceImageSequence[0]
    k = index[str(src.ReferencedSOPInstanceUID)]
    pos = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
    dv = item.FrameContentSequence[0].DimensionIndexValues
    dim = [int(v) for v in dv] if hasattr(dv, "__iter__") else [int(dv)]
    frame = pixels[f]
    if kind == "BINARY":
        number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        hit = frame == 1
        overlaps += int(np.count_nonzero(volume[k][hit]))
        volume[k][hit] = number
    else:
        number = None
        volume[k] = frame
    frames.append({"slice": k, "segment": number, "position": pos, "dimensionIndex": dim,
                   "purpose": str(src.PurposeOfReferenceCodeSequence[0].CodeValue) if "PurposeOfReferenceCodeSequence" in src else None})
volume.tofile(args["volumeOut"])
segments = []
for s in ds.SegmentSequence:
    segments.append({
        "number": int(s.SegmentNumber), "label": str(s.SegmentLabel),
        "algorithmType": str(s.SegmentAlgorithmType),
        "algorithmName": str(s.get("SegmentAlgorithmName", "")) or None,
        "category": [str(s.SegmentedPropertyCategoryCodeSequence[0].CodeValue), str(s.SegmentedPropertyCategoryCodeSequence[0].CodingSchemeDesignator)],
        "type": [str(s.SegmentedPropertyTypeCodeSequence[0].CodeValue), str(s.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator)],
        "lab": [int(v) for v in s.RecommendedDisplayCIELabValue],
    })
shared = ds.SharedFunctionalGroupsSequence[0]
print(json.dumps({
    "sopClassUid": str(ds.SOPClassUID), "type": kind, "frames": int(ds.NumberOfFrames), "rows": rows, "cols": cols,
    "bitsAllocated": int(ds.BitsAllocated), "pixelDataBytes": len(ds.PixelData), "dtype": str(volume.dtype),
    "frameOfReferenceUid": str(ds.FrameOfReferenceUID), "studyInstanceUid": str(ds.StudyInstanceUID),
    "seriesInstanceUid": str(ds.SeriesInstanceUID), "seriesDescription": str(ds.get("SeriesDescription", "")),
    "contentCreatorName": str(ds.get("ContentCreatorName", "")), "patientName": str(ds.get("PatientName", "")),
    "orientation": [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
    "pixelSpacing": [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing],
    "referencedInstances": [str(i.ReferencedSOPInstanceUID) for i in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence],
    "referencedSeries": str(ds.ReferencedSeriesSequence[0].SeriesInstanceUID),
    "dimensionPointers": [[int(d.DimensionIndexPointer), int(d.FunctionalGroupPointer)] for d in ds.DimensionIndexSequence],
    "segments": segments, "frameList": frames, "overlaps": overlaps,
}))
`;

export interface PydicomSeg {
  sopClassUid: string;
  type: string;
  frames: number;
  rows: number;
  cols: number;
  bitsAllocated: number;
  pixelDataBytes: number;
  frameOfReferenceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  seriesDescription: string;
  contentCreatorName: string;
  patientName: string;
  orientation: number[];
  pixelSpacing: number[];
  referencedInstances: string[];
  referencedSeries: string;
  dimensionPointers: Array<[number, number]>;
  segments: Array<{ number: number; label: string; algorithmType: string; algorithmName: string | null; category: [string, string]; type: [string, string]; lab: number[] }>;
  frameList: Array<{ slice: number; segment: number | null; position: number[]; dimensionIndex: number[]; purpose: string | null }>;
  overlaps: number;
  volume: Uint8Array | Uint16Array;
}

export function readSegWithPydicom(file: string, sopUids: readonly string[], scratch: string): PydicomSeg {
  const volumeOut = path.join(scratch, `pydicom-${path.basename(file)}.raw`);
  const result = runPydicom<Omit<PydicomSeg, 'volume'> & { dtype: string }>(PYDICOM_SEG_SCRIPT, { path: file, sopUids, volumeOut });
  const bytes = new Uint8Array(readFileSync(volumeOut));
  const volume = result.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : bytes;
  return { ...result, volume };
}

/**
 * dcmjs's reading of a SEG (its parser and its BitArray.unpack), mapped onto the source
 * by ReferencedSOPInstanceUID: an independent reader in JavaScript.
 */
export function readSegWithDcmjs(bytes: Uint8Array, sopUids: readonly string[]): { volume: Uint8Array | Uint16Array; type: string; frames: number } {
  const { DicomMessage, DicomMetaDictionary, BitArray } = dcmjs.data;
  const dict = DicomMessage.readFile(bytes.slice().buffer);
  const ds = DicomMetaDictionary.naturalizeDataset(dict.dict) as Record<string, any>;
  const rows = ds.Rows as number;
  const cols = ds.Columns as number;
  const perFrame = rows * cols;
  const frames = Number(ds.NumberOfFrames);
  const index = new Map(sopUids.map((uid, k) => [uid, k]));
  const pixelBuffer = new Uint8Array(ds.PixelData[0] as ArrayBuffer);
  const sixteen = ds.BitsAllocated === 16;
  const volume = sixteen ? new Uint16Array(perFrame * sopUids.length) : new Uint8Array(perFrame * sopUids.length);
  const perFrameGroups = ds.PerFrameFunctionalGroupsSequence as Array<Record<string, any>>;
  const bits = ds.SegmentationType === 'BINARY' ? BitArray.unpack(pixelBuffer) : null;
  perFrameGroups.forEach((group, f) => {
    const derivation = [group.DerivationImageSequence].flat()[0];
    const sourceItem = [derivation.SourceImageSequence].flat()[0];
    const k = index.get(sourceItem.ReferencedSOPInstanceUID as string);
    if (k === undefined) throw new Error(`dcmjs: frame ${f + 1} references ${sourceItem.ReferencedSOPInstanceUID}, not in the source`);
    const base = k * perFrame;
    if (bits) {
      const number = [group.SegmentIdentificationSequence].flat()[0].ReferencedSegmentNumber as number;
      for (let i = 0; i < perFrame; i++) if (bits[f * perFrame + i]) volume[base + i] = number;
    } else if (sixteen) {
      const view = new DataView(pixelBuffer.buffer, pixelBuffer.byteOffset + f * perFrame * 2, perFrame * 2);
      for (let i = 0; i < perFrame; i++) volume[base + i] = view.getUint16(i * 2, true);
    } else {
      volume.set(pixelBuffer.subarray(f * perFrame, (f + 1) * perFrame), base);
    }
  });
  return { volume, type: ds.SegmentationType as string, frames };
}

/** Per segment number: voxels in `expected`, and voxels that differ in either direction. */
export function compareBySegment(expected: ArrayLike<number>, actual: ArrayLike<number>, segmentCount: number): Array<{ segment: number; voxels: number; missing: number; extra: number }> {
  if (expected.length !== actual.length) throw new Error(`volumes differ in size: ${expected.length} vs ${actual.length}`);
  const voxels = new Float64Array(segmentCount + 1);
  const missing = new Float64Array(segmentCount + 1);
  const extra = new Float64Array(segmentCount + 1);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    voxels[e]!++;
    if (e !== a) {
      missing[e]!++;
      extra[a]!++;
    }
  }
  return Array.from({ length: segmentCount }, (_, i) => ({ segment: i + 1, voxels: voxels[i + 1]!, missing: missing[i + 1]!, extra: extra[i + 1]! }));
}

/** The first image series of an import. */
export async function importImageSeries(dir: string): Promise<HostSeries> {
  const outcome = await importDicom({ paths: [dir] });
  const series = outcome.series.find((s) => s.summary.kind === 'image');
  if (!series) throw new Error(`no image series in ${dir}: ${JSON.stringify(outcome.problems)}`);
  return series;
}

export interface OddSeries {
  dir: string;
  host: HostSeries;
  source: SourceSeries;
}

/** A small CT series with an odd matrix (Rows × Columns not a multiple of 8), written by dcmjs. */
export async function writeOddSeries(dir: string, { rows = 7, columns = 13, slices = 6 } = {}): Promise<OddSeries> {
  const seriesUid = '1.2.826.0.1.3680043.8.498.7001';
  mkdirSync(dir, { recursive: true });
  for (let k = 0; k < slices; k++) {
    // Positions descend with the file number: the reader must order by position.
    writeDicom(
      path.join(dir, `odd-${k}.dcm`),
      ctSlice({
        seriesUid,
        sopUid: `${seriesUid}.${k + 1}`,
        instanceNumber: slices - k,
        position: [-10, -20, 50 - 2.5 * k],
        orientation: [1, 0, 0, 0, 1, 0],
        rows,
        columns,
      }),
    );
  }
  const host = await importImageSeries(dir);
  return { dir, host, source: await sourceSeriesFromHost(host) };
}

export interface SampleFixture {
  manifest: SampleManifest;
  host: HostSeries;
  source: SourceSeries;
  truth: GroundTruth;
  /** The ground truth's labels as segments 1…12 (label value = segment number). */
  segments: SegmentInit[];
}

export async function writeSampleFixture(dir: string): Promise<SampleFixture> {
  const manifest = await writeSample(dir);
  const host = await importImageSeries(manifest.seriesDir);
  const source = await sourceSeriesFromHost(host);
  const truth = await readGroundTruth(dir);
  const segments = LABEL_TABLE.map((entry): SegmentInit => {
    if (entry.value !== LABEL_TABLE.indexOf(entry) + 1) throw new Error('the sample label values are no longer 1…n: renumber here');
    const ai = entry.category === LABEL_TABLE.find((e) => e.name === 'liver_lesion')!.category;
    const segment: SegmentInit = {
      number: entry.value,
      label: entry.name,
      color: entry.color,
      category: entry.category,
      type: entry.type,
      provenance: ai ? { source: 'ai', models: [{ name: 'MedSAM', version: '1.0' }], question: `Segment the ${entry.name.replace('_', ' ')}` } : { source: 'manual' },
    };
    if (entry.anatomicRegion) segment.anatomicRegion = entry.anatomicRegion;
    return segment;
  });
  return { manifest, host, source, truth, segments };
}

export function assertFileExists(file: string): void {
  if (!existsSync(file)) throw new Error(`expected ${file} to exist`);
}

/** Element-wise equality of two large typed arrays (vitest's deep equality is slow on millions of voxels). */
export function sameVoxels(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `lengths differ: ${a.length} vs ${b.length}`;
  let differing = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (first < 0) first = i;
      differing++;
    }
  }
  return differing === 0 ? 'same' : `${differing} voxels differ, the first at ${first} (${a[first]} vs ${b[first]})`;
}
