// DICOM-SEG export: every SEG we write passes dciodvfy with zero errors, and pydicom and
// dcmjs (independent readers) read back exactly the voxels we wrote, segment by segment:
// the sample's ground-truth organs, and an odd-size series whose frames start mid-byte.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbToDicomLab } from '../../electron/host/seg/cielab.ts';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { SopClass } from '../../electron/host/seg/seg-enums.ts';
import { encodeSegBytes } from '../../electron/host/seg/seg-writer.ts';
import type { SegmentInit } from '../../electron/host/seg/segment.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { SourceSeries } from '../../electron/host/seg/source-series.ts';
import {
  compareBySegment,
  dciodvfy,
  readSegWithDcmjs,
  readSegWithPydicom,
  tempDir,
  writeOddSeries,
  writeSampleFixture,
  type OddSeries,
  type PydicomSeg,
  type SampleFixture,
} from './seg-fixtures.ts';

const scratch = tempDir('seg-writer');
let sample: SampleFixture;
let odd: OddSeries;

beforeAll(async () => {
  sample = await writeSampleFixture(path.join(scratch.path, 'sample'));
  odd = await writeOddSeries(path.join(scratch.path, 'odd'));
});
afterAll(() => scratch.remove());

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(scratch.path, name);
  writeFileSync(file, bytes);
  return file;
}

function sopUids(fixture: { source: { slices: readonly { sopInstanceUid: string }[] } }): string[] {
  return fixture.source.slices.map((s) => s.sopInstanceUid);
}

describe('BINARY SEG of the sample ground truth (12 organs and lesions)', () => {
  let file: string;
  let bytes: Uint8Array;
  let frames: number;
  let read: PydicomSeg;

  beforeAll(() => {
    const segmentation = new Segmentation({ source: sample.source, segments: sample.segments, labelmap: sample.truth.labels });
    const encoded = encodeSegBytes(segmentation, { seriesDescription: 'Sample organs', contentCreatorName: 'Radiologist^Test' });
    bytes = encoded.bytes;
    frames = encoded.seg.frames;
    file = write('sample-binary.dcm', bytes);
    read = readSegWithPydicom(file, sopUids(sample), scratch.path);
  });

  it('passes dciodvfy with zero errors', () => {
    const result = dciodvfy(file);
    expect(result.output).toContain('Segmentation');
    expect(result.errors).toEqual([]);
  });

  it('pydicom reads back exactly the ground-truth voxels of every segment', () => {
    expect(read.overlaps).toBe(0);
    const bySegment = compareBySegment(sample.truth.labels, read.volume, sample.segments.length);
    for (const row of bySegment) {
      expect(row, `segment ${row.segment} ${sample.segments[row.segment - 1]!.label}`).toEqual({ segment: row.segment, voxels: row.voxels, missing: 0, extra: 0 });
    }
    // The ground truth really has voxels in every one of the 12 structures.
    expect(bySegment.every((r) => r.voxels > 0)).toBe(true);
  });

  it('dcmjs reads back exactly the same voxels', () => {
    const read = readSegWithDcmjs(bytes, sopUids(sample));
    expect(read.type).toBe('BINARY');
    for (const row of compareBySegment(sample.truth.labels, read.volume, sample.segments.length)) {
      expect(row.missing + row.extra, `segment ${row.segment}`).toBe(0);
    }
  });

  it('writes only non-empty frames, each referencing its source slice and position', () => {
    const perSlice = sample.source.pixelsPerSlice;
    // Independent count: (segment, slice) pairs that hold at least one voxel.
    const pairs = new Set<string>();
    const labels = sample.truth.labels;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) pairs.add(`${labels[i]}/${Math.floor(i / perSlice)}`);
    expect(read.frames).toBe(pairs.size);
    expect(frames).toBe(pairs.size);
    for (const frame of read.frameList) {
      expect(pairs.has(`${frame.segment}/${frame.slice}`)).toBe(true);
      expect(frame.position).toEqual(sample.source.slices[frame.slice]!.position);
      expect(frame.purpose).toBe('121322');
    }
    expect(read.dimensionPointers).toEqual([
      [0x0062000b, 0x0062000a],
      [0x00200032, 0x00209113],
    ]);
    expect(new Set(read.referencedInstances)).toEqual(new Set(read.frameList.map((f) => sopUids(sample)[f.slice])));
  });

  it('carries the source series, Frame of Reference, coded terms, algorithm and creator', () => {
    expect(read.sopClassUid).toBe(SopClass.segmentation);
    expect(read.frameOfReferenceUid).toBe(sample.truth.info.uids.frameOfReferenceUid);
    expect(read.studyInstanceUid).toBe(sample.truth.info.uids.studyInstanceUid);
    expect(read.referencedSeries).toBe(sample.truth.info.uids.seriesInstanceUid);
    expect(read.seriesInstanceUid).not.toBe(sample.truth.info.uids.seriesInstanceUid);
    expect(read.seriesDescription).toBe('Sample organs');
    expect(read.contentCreatorName).toBe('Radiologist^Test');
    expect(read.orientation).toEqual([1, 0, 0, 0, 1, 0]);
    expect(read.pixelSpacing).toEqual([sample.manifest.spec.pixelSpacing, sample.manifest.spec.pixelSpacing]);
    const liver = read.segments.find((s) => s.label === 'liver')!;
    expect(liver).toMatchObject({ category: ['123037004', 'SCT'], type: ['10200004', 'SCT'], algorithmType: 'MANUAL', algorithmName: null });
    const lesion = read.segments.find((s) => s.label === 'liver_lesion')!;
    expect(lesion).toMatchObject({ category: ['49755003', 'SCT'], type: ['4147007', 'SCT'], algorithmType: 'AUTOMATIC', algorithmName: 'MedSAM' });
    expect(lesion.lab).toEqual(rgbToDicomLab([255, 220, 0]));
  });
});

describe('LABELMAP SEG of the sample ground truth', () => {
  let file: string;
  let bytes: Uint8Array;

  beforeAll(() => {
    const segmentation = new Segmentation({ source: sample.source, segments: sample.segments, labelmap: sample.truth.labels });
    bytes = encodeSegBytes(segmentation, { type: 'LABELMAP' }).bytes;
    file = write('sample-labelmap.dcm', bytes);
  });

  it('pydicom and dcmjs read back exactly the ground-truth labelmap', () => {
    const py = readSegWithPydicom(file, sopUids(sample), scratch.path);
    expect(py.sopClassUid).toBe(SopClass.labelMapSegmentation);
    expect(py.bitsAllocated).toBe(8);
    const perSlice = sample.source.pixelsPerSlice;
    const nonEmptySlices = new Set<number>();
    sample.truth.labels.forEach((v, i) => v !== 0 && nonEmptySlices.add(Math.floor(i / perSlice)));
    expect(py.frames).toBe(nonEmptySlices.size);
    for (const row of compareBySegment(sample.truth.labels, py.volume, 12)) expect(row.missing + row.extra, `pydicom segment ${row.segment}`).toBe(0);
    const js = readSegWithDcmjs(bytes, sopUids(sample));
    for (const row of compareBySegment(sample.truth.labels, js.volume, 12)) expect(row.missing + row.extra, `dcmjs segment ${row.segment}`).toBe(0);
    expect(py.dimensionPointers).toEqual([[0x00200032, 0x00209113]]);
  });

  it('is a valid Segmentation but for what Sup 243 changed (dciodvfy predates LABELMAP)', () => {
    // dicom3tools (2022) does not know SOP Class …66.7. Relabelled as Segmentation Storage,
    // the only errors it may report are the two rules LABELMAP lifts: the LABELMAP
    // enumerated value, and no SegmentIdentificationSequence per frame.
    const relabelled = Buffer.from(bytes);
    const from = Buffer.from(SopClass.labelMapSegmentation);
    for (let at = relabelled.indexOf(from); at >= 0; at = relabelled.indexOf(from, at + 1)) relabelled.write(SopClass.segmentation, at, 'latin1');
    const result = dciodvfy(write('sample-labelmap-as-66.4.dcm', relabelled));
    expect(result.errors.length).toBeGreaterThan(0);
    const unexpected = result.errors.filter(
      (e) => !/Unrecognized enumerated value <LABELMAP>/.test(e) && !/Missing attribute Type 1 Required Element=<SegmentIdentificationSequence>/.test(e),
    );
    expect(unexpected).toEqual([]);
  });
});

describe('odd matrix (7 × 13 = 91 pixels: frames start mid-byte)', () => {
  function oddSegmentation(segmentCount: number): Segmentation {
    const { source } = odd;
    const labelmap = segmentCount > 255 ? new Uint16Array(source.pixelsPerSlice * source.sliceCount) : new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    // A pattern with no symmetry: every segment on several slices, slice 2 left empty.
    for (let i = 0; i < labelmap.length; i++) {
      const slice = Math.floor(i / source.pixelsPerSlice);
      if (slice === 2) continue;
      const v = (i * 7919 + slice * 31) % (segmentCount + 3);
      labelmap[i] = v <= segmentCount ? v : 0;
    }
    const segments: SegmentInit[] = Array.from({ length: segmentCount }, (_, i) => ({
      number: i + 1,
      label: `Region ${i + 1}`,
      color: [(i * 40) % 256, 100, 200],
      category: i % 2 ? CATEGORY.anatomicalStructure : CATEGORY.morphologicallyAbnormalStructure,
      type: i % 2 ? STRUCTURE.liver : FINDING.nodule,
      provenance: i % 3 === 0 ? { source: 'ai-edited', models: [{ name: 'MedSAM', version: '1.0' }] } : { source: 'manual' },
    }));
    return new Segmentation({ source, segments, labelmap });
  }

  it.each([
    ['BINARY', 3],
    ['LABELMAP', 3],
    ['LABELMAP', 300],
  ] as const)('%s with %i segments: pydicom and dcmjs read exactly what was written', (type, count) => {
    const segmentation = oddSegmentation(count);
    const { bytes, seg } = encodeSegBytes(segmentation, { type });
    const file = write(`odd-${type}-${count}.dcm`, bytes);
    if (type === 'BINARY') {
      expect(dciodvfy(file).errors).toEqual([]);
      // 91-bit frames packed without padding: the pixel data is ceil(frames × 91 / 8) bytes, made even.
      const packed = Math.ceil((seg.frames * 91) / 8);
      expect(readSegWithPydicom(file, sopUids(odd), scratch.path).pixelDataBytes).toBe(packed + (packed % 2));
    }
    const py = readSegWithPydicom(file, sopUids(odd), scratch.path);
    expect(py.bitsAllocated).toBe(type === 'BINARY' ? 1 : count > 255 ? 16 : 8);
    for (const row of compareBySegment(segmentation.labelmap, py.volume, count)) expect(row.missing + row.extra, `pydicom segment ${row.segment}`).toBe(0);
    const js = readSegWithDcmjs(bytes, sopUids(odd));
    for (const row of compareBySegment(segmentation.labelmap, js.volume, count)) expect(row.missing + row.extra, `dcmjs segment ${row.segment}`).toBe(0);
    // Slice 2 is empty: no frame references it.
    expect(py.frameList.some((f) => f.slice === 2)).toBe(false);
  });

  it('copies a non-ASCII patient name from the source through UTF-8 (ISO_IR 192)', () => {
    const init = odd.source.toInit();
    const source = new SourceSeries({ ...init, patientStudy: { ...init.patientStudy, patientName: 'Müller^Jürgen' } });
    const base = oddSegmentation(2);
    const { bytes } = encodeSegBytes(new Segmentation({ source, segments: [...base.segments], labelmap: base.labelmap }));
    const file = write('odd-charset.dcm', bytes);
    expect(readSegWithPydicom(file, sopUids(odd), scratch.path).patientName).toBe('Müller^Jürgen');
    expect(readFileSync(file).includes(Buffer.from('ISO_IR 192'))).toBe(true);
    expect(dciodvfy(file).errors).toEqual([]);
  });
});
