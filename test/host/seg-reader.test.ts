// DICOM-SEG import: our SEGs come back exactly; pydicom's liver_1frame.dcm (a real SEG
// with known flaws: no NumberOfFrames, three per-frame items for one frame, retired SRT
// codes) lands on the right slice of its source series; frames are placed by position
// when the referenced instances are not in the series; a SEG whose source series is
// not loaded, or is on another grid, is refused with a message that says so.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLabelmap } from '../../electron/common/contract-seg.ts';
import { DicomIndex } from '../../electron/host/dicom/dicom-index.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { HostError } from '../../electron/host/dispatch.ts';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { alignSegToSource } from '../../electron/host/seg/seg-import.ts';
import { parseSeg, SegReadError } from '../../electron/host/seg/seg-reader.ts';
import { SegService } from '../../electron/host/seg/seg-service.ts';
import { encodeSegBytes } from '../../electron/host/seg/seg-writer.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { sourceSeriesFromHost } from '../../electron/host/seg/source-from-index.ts';
import { SourceSeries } from '../../electron/host/seg/source-series.ts';
import { ctSlice, writeDicom } from './fixtures-dicom.ts';
import { PYDICOM_TEST_FILES, requireDir } from './real-parts.ts';
import { importImageSeries, readSegWithPydicom, runPydicom, tempDir, writeOddSeries, type OddSeries } from './seg-fixtures.ts';
import { cornerstoneExport, cornerstoneImport, EXPLICIT_LITTLE, RLE_LOSSLESS } from './seg-peer-adapters.ts';

const LIVER = path.join(PYDICOM_TEST_FILES, 'liver_1frame.dcm');
// What liver_1frame.dcm says about its source (read with dcmdump): three CT slices,
// 512 × 512, 0.810547 mm pixels, 1 mm apart; its one frame is the slice at z = -128.69.
const LIVER_SOURCE = {
  studyUid: '1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1',
  seriesUid: '1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1',
  frameOfReference: '1.2.392.200103.20080913.113635.3.2009.6.22.21.44.34.23882.1',
  sop: (n: number) => `1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.${n}.1`,
};

const scratch = tempDir('seg-reader');
let odd: OddSeries;
afterAll(() => scratch.remove());
beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files (python3-pydicom)");
  odd = await writeOddSeries(path.join(scratch.path, 'odd'));
});

/**
 * The liver SEG's source as real files: its three referenced slices plus one below and
 * one above with other UIDs, so slice order differs from the SEG's frame order.
 */
function writeLiverSource(dir: string, { otherUids = false, seriesUid = LIVER_SOURCE.seriesUid } = {}): void {
  const slices = [
    { z: -129.69, sop: '1.2.826.0.1.3680043.8.498.9001' },
    { z: -128.69, sop: LIVER_SOURCE.sop(23433) },
    { z: -127.69, sop: LIVER_SOURCE.sop(23432) },
    { z: -126.69, sop: LIVER_SOURCE.sop(23431) },
    { z: -125.69, sop: '1.2.826.0.1.3680043.8.498.9002' },
  ];
  slices.forEach((s, k) => {
    const dataset = ctSlice({
      studyUid: LIVER_SOURCE.studyUid,
      seriesUid,
      sopUid: otherUids ? `1.2.826.0.1.3680043.8.498.9100.${k + 1}` : s.sop,
      instanceNumber: 10 - k,
      position: [-235.2, -226.8, s.z],
      orientation: [1, 0, 0, 0, 1, 0],
      rows: 512,
      columns: 512,
    });
    dataset.FrameOfReferenceUID = LIVER_SOURCE.frameOfReference;
    dataset.PixelSpacing = ['0.810547', '0.810547'];
    dataset.SliceThickness = '1';
    writeDicom(path.join(dir, `liver-src-${k}.dcm`), dataset);
  });
}

/** pydicom's pixels of the liver SEG's one frame, as the indices of its set pixels. */
function liverPixelsByPydicom(): number[] {
  return runPydicom<number[]>(
    String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pydicom
ds = pydicom.dcmread(json.load(sys.stdin)["path"])
a = ds.pixel_array
print(json.dumps(np.flatnonzero(a.reshape(-1)).tolist()))
`,
    { path: LIVER },
  );
}

describe("pydicom's liver_1frame.dcm", () => {
  it('is read leniently, each leniency said in words', () => {
    const parsed = parseSeg(new Uint8Array(readFileSync(LIVER)), 'liver_1frame.dcm');
    expect(parsed.segmentationType).toBe('BINARY');
    expect(parsed.frames).toHaveLength(1);
    expect(parsed.warnings.join('\n')).toMatch(/NumberOfFrames is missing; the pixel data holds 1 frame/);
    expect(parsed.warnings.join('\n')).toMatch(/PerFrameFunctionalGroupsSequence has 3 items for 1 frames/);
    expect(parsed.warnings.join('\n')).toMatch(/retired SRT scheme/);
    expect(parsed.segments[0]).toMatchObject({ number: 1, label: 'Liver', algorithmType: 'SEMIAUTOMATIC', algorithmName: 'SlicerEditor', color: [221, 130, 101] });
  });

  it.each([
    ['in the host worker', false],
    ['inline', true],
  ])('imports onto the right slice and geometry of its loaded source series (%s)', async (_, inline) => {
    const dir = path.join(scratch.path, `liver-source-${inline ? 'inline' : 'worker'}`);
    mkdirSync(dir, { recursive: true });
    writeLiverSource(dir);
    const index = new DicomIndex();
    index.merge(await importDicom({ paths: [dir] }));
    const service = new SegService({ index, dataDir: path.join(scratch.path, 'data'), inline });
    const result = await service.importSeg({ path: LIVER });
    const host = index.hostSeries(result.seriesKey)!;
    expect(host.summary.seriesInstanceUid).toBe(LIVER_SOURCE.seriesUid);
    // Slice order is by position: the frame's slice is index 1, at z = -128.69.
    expect(host.slices.map((s) => s.position![2])).toEqual([-129.69, -128.69, -127.69, -126.69, -125.69]);
    const labelmap = decodeLabelmap(result.labelmap);
    const perSlice = 512 * 512;
    const set: number[] = [];
    labelmap.forEach((v, i) => {
      if (v !== 0) set.push(i);
    });
    expect(set.every((i) => Math.floor(i / perSlice) === 1)).toBe(true);
    expect(set.map((i) => i - perSlice)).toEqual(liverPixelsByPydicom());
    expect(result.segments).toEqual([
      expect.objectContaining({ number: 1, originalNumber: 1, label: 'Liver', algorithmType: 'SEMIAUTOMATIC', algorithmName: 'SlicerEditor', type: { value: 'T-62000', scheme: 'SRT', meaning: 'Liver' } }),
    ]);
    expect(result.warnings.join('\n')).toMatch(/NumberOfFrames is missing/);
  });

  it('is placed by ImagePositionPatient when its referenced instances are not in the series', async () => {
    const dir = path.join(scratch.path, 'liver-other-uids');
    mkdirSync(dir, { recursive: true });
    writeLiverSource(dir, { otherUids: true, seriesUid: '1.2.826.0.1.3680043.8.498.9200' });
    const source = await sourceSeriesFromHost(await importImageSeries(dir));
    const parsed = parseSeg(new Uint8Array(readFileSync(LIVER)), 'liver_1frame.dcm');
    const imported = alignSegToSource(parsed, source);
    expect(imported.warnings.join('\n')).toMatch(/1 frame were placed by ImagePositionPatient/);
    const counts = imported.segmentation.frameContents.segmentsBySlice.map((s) => s.length);
    expect(counts).toEqual([0, 1, 0, 0, 0]);
    expect(imported.segmentation.frameContents.voxelCounts[1]).toBe(liverPixelsByPydicom().length);
  });

  it('is refused when its source series is not loaded, naming the series', async () => {
    const service = new SegService({ index: new DicomIndex(), dataDir: path.join(scratch.path, 'data-empty'), inline: true });
    const error = await service.importSeg({ path: LIVER }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).code).toBe('not-found');
    expect((error as HostError).message).toBe(
      `The SEG's source series is not loaded: it references series ${LIVER_SOURCE.seriesUid} (study ${LIVER_SOURCE.studyUid}). Import the source series first, then import the SEG again.`,
    );
  });

  it('is refused on a series with another grid', () => {
    const parsed = parseSeg(new Uint8Array(readFileSync(LIVER)), 'liver_1frame.dcm');
    expect(() => alignSegToSource(parsed, odd.source)).toThrow(
      `The SEG's frames are 512 × 512; series ${odd.source.seriesKey} is 13 × 7: the SEG is not on this series' grid`,
    );
  });
});

describe('our SEGs read back by our reader', () => {
  function segmentation(): Segmentation {
    const { source } = odd;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    for (let i = 0; i < labelmap.length; i++) labelmap[i] = (i * 37) % 5 === 0 ? 1 + (i % 3) : 0;
    return new Segmentation({
      source,
      labelmap,
      segments: [
        { number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } },
        { number: 2, label: 'Mass', color: [255, 220, 0], category: CATEGORY.morphologicallyAbnormalStructure, type: FINDING.mass, anatomicRegion: STRUCTURE.liver, provenance: { source: 'ai', models: [{ name: 'MedSAM', version: '1' }] } },
        { number: 3, label: 'Kidney', color: [185, 102, 83], category: CATEGORY.anatomicalStructure, type: STRUCTURE.leftKidney, provenance: { source: 'ai-edited', models: [{ name: 'nnU-Net', version: '2' }] } },
      ],
    });
  }

  it.each(['BINARY', 'LABELMAP'] as const)('%s: the same labelmap and segments', (type) => {
    const original = segmentation();
    const { bytes } = encodeSegBytes(original, { type });
    const imported = alignSegToSource(parseSeg(bytes), odd.source);
    expect(imported.warnings).toEqual([]);
    expect(Array.from(imported.segmentation.labelmap)).toEqual(Array.from(original.labelmap));
    expect(imported.segmentation.segments.map((s) => [s.label, s.type.value, s.algorithmType, s.algorithmName, s.color, s.anatomicRegion?.value ?? null])).toEqual(
      original.segments.map((s) => [s.label, s.type.value, s.algorithmType, s.algorithmName, s.color, s.anatomicRegion?.value ?? null]),
    );
  });

  it('keeps the later segment where BINARY segments overlap, and says so', () => {
    const original = segmentation();
    const parsed = parseSeg(encodeSegBytes(original).bytes);
    // Another writer's SEG where segment 2 also claims every voxel of segment 1: segment 1's
    // frames appended again, as segment 2's.
    const segment1Frames = parsed.frames.flatMap((f, i) => (f.segmentNumber === 1 ? [i] : []));
    const n = parsed.frames.length;
    const overlapping = {
      ...parsed,
      frames: [...parsed.frames, ...segment1Frames.map((i) => ({ ...parsed.frames[i]!, segmentNumber: 2 }))],
      packedFrame: (f: number) => parsed.packedFrame(f < n ? f : segment1Frames[f - n]!),
      decodeFrame: (f: number) => parsed.decodeFrame(f < n ? f : segment1Frames[f - n]!),
    };
    const imported = alignSegToSource(overlapping, odd.source);
    const counts = original.frameContents.voxelCounts;
    expect(imported.segmentation.frameContents.voxelCounts[1]).toBe(0);
    expect(imported.segmentation.frameContents.voxelCounts[2]).toBe(counts[1]! + counts[2]!);
    expect(imported.warnings).toContain(
      `Segments 1 and 2 overlap on ${counts[1]} voxels; a labelmap holds one segment per voxel, so the one written last was kept there.`,
    );
  });

  it('refuses a file that is not a SEG', () => {
    const ct = readFileSync(path.join(odd.dir, 'odd-0.dcm'));
    expect(() => parseSeg(new Uint8Array(ct), 'odd-0.dcm')).toThrow(SegReadError);
    expect(() => parseSeg(new Uint8Array(ct), 'odd-0.dcm')).toThrow('odd-0.dcm is not a DICOM-SEG: its SOP Class is 1.2.840.10008.5.1.4.1.1.2, modality CT');
    expect(() => parseSeg(new Uint8Array([1, 2, 3]), 'junk.bin')).toThrow(/^junk\.bin is not a readable DICOM file: /);
  });

  it('reports a SEG cut short', () => {
    const { bytes } = encodeSegBytes(segmentation());
    expect(() => parseSeg(bytes.subarray(0, bytes.length - 40), 'cut.dcm')).toThrow(/^cut\.dcm: \d+ frames of 7 × 13 at 1 bit need \d+ bytes of pixel data; the file has \d+$/);
  });

  it('works on a SourceSeries built in memory too', () => {
    const copy = new SourceSeries(odd.source.toInit());
    const { bytes } = encodeSegBytes(segmentation(), { type: 'LABELMAP' });
    expect(alignSegToSource(parseSeg(bytes), copy).segmentation.labelmap).toEqual(segmentation().labelmap);
  });
});

describe("another writer's SEGs: @cornerstonejs/adapters", () => {
  let even: OddSeries;
  beforeAll(async () => {
    even = await writeOddSeries(path.join(scratch.path, 'even'), { rows: 8, columns: 16, slices: 5 });
  });

  function peerSegmentation(on: OddSeries): Segmentation {
    const { source } = on;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    for (let i = 0; i < labelmap.length; i++) labelmap[i] = i % 11 === 0 ? 1 : i % 7 === 0 ? 2 : 0;
    return new Segmentation({
      source,
      labelmap,
      segments: [
        { number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } },
        { number: 2, label: 'Spleen', color: [157, 108, 162], category: CATEGORY.anatomicalStructure, type: STRUCTURE.spleen, provenance: { source: 'ai', models: [{ name: 'TotalSegmentator', version: '2' }] } },
      ],
    });
  }

  it.each([
    ['BINARY', EXPLICIT_LITTLE],
    ['LABELMAP', EXPLICIT_LITTLE],
    ['LABELMAP', RLE_LOSSLESS],
  ] as const)('%s in %s reads back exactly', (type, transferSyntaxUid) => {
    const original = peerSegmentation(even);
    const bytes = cornerstoneExport(even.source, original.segments, original.labelmap, { type, transferSyntaxUid });
    const parsed = parseSeg(bytes, 'cornerstone.dcm');
    expect(parsed.transferSyntaxUid).toBe(transferSyntaxUid);
    const imported = alignSegToSource(parsed, even.source);
    expect(Array.from(imported.segmentation.labelmap)).toEqual(Array.from(original.labelmap));
    expect(imported.segmentation.segments.map((s) => [s.label, s.type.value, s.algorithmType])).toEqual([
      ['Liver', '10200004', 'MANUAL'],
      ['Spleen', '78961009', 'AUTOMATIC'],
    ]);
  });

  it('odd matrix BINARY: the adapters pad each frame to whole bytes; we read the file as the standard (and pydicom) do', () => {
    const original = peerSegmentation(odd);
    const bytes = cornerstoneExport(odd.source, original.segments, original.labelmap, { type: 'BINARY' });
    const file = path.join(scratch.path, 'cornerstone-odd-binary.dcm');
    writeFileSync(file, bytes);
    const parsed = parseSeg(bytes, 'cornerstone-odd-binary.dcm');
    const ours = alignSegToSource(parsed, odd.source).segmentation.labelmap;
    const py = readSegWithPydicom(file, odd.source.slices.map((s) => s.sopInstanceUid), scratch.path);
    // pydicom maps overlapping frames the same way (later segment wins).
    expect(Array.from(ours)).toEqual(Array.from(py.volume));
    expect(Array.from(ours)).not.toEqual(Array.from(original.labelmap));
  });

  it.each(['BINARY', 'LABELMAP'] as const)("Cornerstone's importer reads our %s SEG exactly", async (type) => {
    const original = peerSegmentation(even);
    const { bytes } = encodeSegBytes(original, { type });
    expect(Array.from(await cornerstoneImport(even.source, bytes))).toEqual(Array.from(original.labelmap));
  });
});
