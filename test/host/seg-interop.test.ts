// Every SEG flavour we write — BINARY, LABELMAP, LABELMAP with RLE Lossless — read by
// independent readers with the same voxels: pydicom (Debian's), highdicom's segread (the
// project's Python), dcmjs (native frames) and the Cornerstone adapters' import (RLE
// included, what OHIF runs), and our own reader. Odd matrix sizes (frames start
// mid-byte), a one-frame SEG and a 200-frame SEG.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { SopClass, TransferSyntax } from '../../electron/host/seg/seg-enums.ts';
import { alignSegToSource } from '../../electron/host/seg/seg-import.ts';
import { parseSeg } from '../../electron/host/seg/seg-reader.ts';
import { encodeSegBytes, type SegCompression } from '../../electron/host/seg/seg-writer.ts';
import type { SegmentInit } from '../../electron/host/seg/segment.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { compareBySegment, dciodvfy, readSegWithDcmjs, readSegWithPydicom, sameVoxels, tempDir, writeOddSeries, type OddSeries } from './seg-fixtures.ts';
import { runHighdicom } from './seg-highdicom.ts';
import { cornerstoneImport } from './seg-peer-adapters.ts';

const scratch = tempDir('seg-interop');
let one: OddSeries;
let many: OddSeries;
let large: OddSeries;
beforeAll(async () => {
  large = await writeOddSeries(path.join(scratch.path, 'large'), { rows: 61, columns: 67, slices: 12 });
  one = await writeOddSeries(path.join(scratch.path, 'one'), { rows: 5, columns: 3, slices: 1 });
  many = await writeOddSeries(path.join(scratch.path, 'many'), { rows: 9, columns: 11, slices: 200 });
});
afterAll(() => scratch.remove());

/** highdicom: segread, then the labelmap on the referenced source instances (segment numbers as values). */
const HIGHDICOM_SEG_SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, highdicom as hd
args = json.load(sys.stdin)
seg = hd.seg.segread(args["path"])
uids = args["sopUids"]
referenced = {str(u[2]) for u in seg.get_source_image_uids()}
volume = np.zeros((len(uids), int(seg.Rows), int(seg.Columns)), dtype=np.uint8)
used = [u for u in uids if u in referenced]
pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=used, combine_segments=True, skip_overlap_checks=True)
for u, frame in zip(used, pixels):
    volume[uids.index(u)] = frame
volume.tofile(args["volumeOut"])
print(json.dumps({"type": str(seg.segmentation_type.value), "segments": [int(s.SegmentNumber) for s in seg.SegmentSequence],
                  "transferSyntax": str(seg.file_meta.TransferSyntaxUID), "frames": int(seg.NumberOfFrames)}))
`;

function readWithHighdicom(file: string, sopUids: string[]): { volume: Uint8Array; type: string; transferSyntax: string; frames: number } {
  const volumeOut = `${file}.highdicom.raw`;
  const result = runHighdicom<{ type: string; transferSyntax: string; frames: number }>(HIGHDICOM_SEG_SCRIPT, { path: file, sopUids, volumeOut });
  return { ...result, volume: new Uint8Array(readFileSync(volumeOut)) };
}

function segmentation(fixture: OddSeries, segmentCount: number): Segmentation {
  const { source } = fixture;
  const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
  for (let i = 0; i < labelmap.length; i++) {
    const slice = Math.floor(i / source.pixelsPerSlice);
    // Runs and noise both: RLE meets replicate runs and literals.
    const v = slice % 7 === 3 ? 0 : i % 17 < 9 ? 1 + (slice % segmentCount) : (i * 7919 + slice * 31) % (segmentCount + 2);
    labelmap[i] = v <= segmentCount ? v : 0;
  }
  const segments: SegmentInit[] = Array.from({ length: segmentCount }, (_, i) => ({
    number: i + 1,
    label: `Region ${i + 1}`,
    color: [(i * 60) % 256, 120, 200],
    category: i % 2 ? CATEGORY.anatomicalStructure : CATEGORY.morphologicallyAbnormalStructure,
    type: i % 2 ? STRUCTURE.liver : FINDING.nodule,
    provenance: { source: 'manual' },
  }));
  return new Segmentation({ source, segments, labelmap });
}

const FLAVOURS: Array<[string, 'BINARY' | 'LABELMAP', SegCompression]> = [
  ['BINARY', 'BINARY', 'none'],
  ['LABELMAP', 'LABELMAP', 'none'],
  ['LABELMAP+RLE', 'LABELMAP', 'rle'],
];

describe.each([
  ['one slice of 3 × 5 (1 frame)', () => one, 1],
  ['200 slices of 11 × 9 (200 frames)', () => many, 1],
  ['200 slices of 11 × 9, 3 segments', () => many, 3],
] as const)('%s', (_name, fixture, segmentCount) => {
  it.each(FLAVOURS)('%s: pydicom, highdicom, dcmjs / the adapters and our reader read the same voxels', async (flavour, type, compression) => {
    const f = fixture();
    const seg = segmentation(f, segmentCount);
    const { bytes, seg: encoded } = encodeSegBytes(seg, { type, compression });
    const file = path.join(scratch.path, `${f.source.sliceCount}-${segmentCount}-${flavour}.dcm`);
    writeFileSync(file, bytes);
    const uids = f.source.slices.map((s) => s.sopInstanceUid);
    const nonEmpty = new Set<number>();
    seg.labelmap.forEach((v, i) => v !== 0 && nonEmpty.add(Math.floor(i / f.source.pixelsPerSlice)));
    if (type === 'LABELMAP') expect(encoded.frames).toBe(nonEmpty.size);
    expect(encoded.transferSyntaxUid).toBe(compression === 'rle' ? TransferSyntax.rleLossless : TransferSyntax.explicitLittle);

    const py = readSegWithPydicom(file, uids, scratch.path);
    expect(py.sopClassUid).toBe(type === 'BINARY' ? SopClass.segmentation : SopClass.labelMapSegmentation);
    expect(py.frames).toBe(encoded.frames);
    for (const row of compareBySegment(seg.labelmap, py.volume, segmentCount)) expect(row.missing + row.extra, `pydicom segment ${row.segment}`).toBe(0);

    const hd = readWithHighdicom(file, uids);
    expect(hd.type).toBe(type);
    expect(hd.transferSyntax).toBe(encoded.transferSyntaxUid);
    expect(sameVoxels(seg.labelmap, hd.volume)).toBe('same');

    if (compression === 'none') {
      const js = readSegWithDcmjs(bytes, uids);
      expect(sameVoxels(seg.labelmap, js.volume)).toBe('same');
    }
    // The adapters refuse 1-bit pixel data whose bit count is odd once padded to the even
    // length DICOM requires (99-pixel frames), so they judge the LABELMAP flavours here.
    if (type === 'LABELMAP') expect(sameVoxels(seg.labelmap, await cornerstoneImport(f.source, bytes))).toBe('same');

    const ours = alignSegToSource(parseSeg(bytes), f.source);
    expect(sameVoxels(seg.labelmap, ours.segmentation.labelmap)).toBe('same');
    if (type === 'BINARY') expect(dciodvfy(file).errors).toEqual([]);
  });
});

it('RLE makes a mostly empty LABELMAP several times smaller', async () => {
  const { source } = large;
  const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
  for (let k = 2; k < 10; k++) labelmap.fill(1 + (k % 2), k * source.pixelsPerSlice + 300, k * source.pixelsPerSlice + 900);
  const seg = new Segmentation({ source, labelmap, segments: segmentation(large, 2).segments.map((s) => s.toInit()) });
  const plain = encodeSegBytes(seg, { type: 'LABELMAP' }).bytes.length;
  const rle = encodeSegBytes(seg, { type: 'LABELMAP', compression: 'rle' }).bytes.length;
  expect(rle).toBeLessThan(plain / 5);
});

it('refuses RLE for BINARY, with the reason', () => {
  expect(() => encodeSegBytes(segmentation(one, 1), { type: 'BINARY', compression: 'rle' })).toThrow('RLE compression is for LABELMAP SEGs');
});
