// Slice order and geometry on synthetic series written with dcmjs: the expected order
// is computed here from the positions we wrote, by the convention (ascending projection
// on row × column), never taken from the implementation.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { DicomIndex } from '../../electron/host/dicom/dicom-index.ts';
import type { HostSeries, ImportOutcome } from '../../electron/host/dicom/import-types.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { ctSlice, ENHANCED_CT_IMAGE_STORAGE, makeTempDir, writeDicom, type SliceSpec } from './fixtures-dicom.ts';

type V3 = [number, number, number];
type Iop = [number, number, number, number, number, number];

const tmp = makeTempDir('geometry');
afterAll(() => tmp.remove());

const round = (v: number) => Math.round(v * 1e6) / 1e6;
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const add = (a: V3, b: V3, s = 1): V3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]];

/** Rotation by `ax` degrees about x, then `az` degrees about z, applied to the patient axes. */
function tilted(ax: number, az: number): { iop: Iop; row: V3; column: V3 } {
  const [a, z] = [(ax * Math.PI) / 180, (az * Math.PI) / 180];
  const rotate = (v: V3): V3 => {
    const x1: V3 = [v[0], v[1] * Math.cos(a) - v[2] * Math.sin(a), v[1] * Math.sin(a) + v[2] * Math.cos(a)];
    return [x1[0] * Math.cos(z) - x1[1] * Math.sin(z), x1[0] * Math.sin(z) + x1[1] * Math.cos(z), x1[2]];
  };
  const row = rotate([1, 0, 0]).map(round) as V3;
  const column = rotate([0, 1, 0]).map(round) as V3;
  return { iop: [...row, ...column] as Iop, row, column };
}

const AXIAL: Iop = [1, 0, 0, 0, 1, 0];

/** A deterministic shuffle so file names never follow slice order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function writeSeries(folder: string, slices: SliceSpec[], seed = 7): string[] {
  mkdirSync(folder, { recursive: true });
  const names = shuffled(slices.map((_, i) => `f${(i * 7919 + 13).toString(36)}.dcm`), seed);
  return slices.map((slice, i) => {
    const path = join(folder, names[i]!);
    writeDicom(path, ctSlice(slice));
    return path;
  });
}

async function indexFolder(folder: string): Promise<ImportOutcome> {
  const outcome = await importDicom({ paths: [folder] });
  const problems = outcome.files.filter((f) => f.outcome === 'problem');
  if (problems.length > 0) throw new Error(`synthetic files did not import: ${JSON.stringify(problems)}`);
  return outcome;
}

function onlySeries(outcome: ImportOutcome): HostSeries {
  expect(outcome.series).toHaveLength(1);
  return outcome.series[0]!;
}

const codes = (series: HostSeries) => series.summary.geometry?.warnings.map((w) => w.code) ?? [];

describe('slice order', () => {
  test('a tilted series is ordered by ascending projection on the normal, not by file name or Instance Number', async () => {
    const { iop, row, column } = tilted(25, 10);
    const normal = cross(row, column);
    const origin: V3 = [-120.5, 33.25, 80];
    const specs: SliceSpec[] = Array.from({ length: 10 }, (_, k) => ({
      seriesUid: '1.2.826.0.1.3680043.8.498.1001',
      sopUid: `1.2.826.0.1.3680043.8.498.1001.${k + 1}`,
      instanceNumber: 10 - k, // reverse of position
      // in-plane jitter must not change the order: only the normal component counts
      position: add(add(origin, normal, 2.5 * k), row, (k % 3) * 4).map(round) as V3,
      orientation: iop,
    }));
    const paths = writeSeries(join(tmp.path, 'tilted'), shuffled(specs, 3), 11);
    const series = onlySeries(await indexFolder(join(tmp.path, 'tilted')));

    const expected = paths
      .map((path, i) => ({ path, along: dot(shuffled(specs, 3)[i]!.position!, normal) }))
      .sort((a, b) => a.along - b.along)
      .map((s) => s.path);
    expect(series.slices.map((s) => s.path)).toEqual(expected);
    expect(series.slices.map((s) => s.instanceNumber)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(series.summary.geometry?.sliceSpacing).toBeCloseTo(2.5, 3);
    series.summary.geometry!.normal!.forEach((v, i) => expect(v).toBeCloseTo(normal[i]!, 5));
    expect(codes(series)).toEqual(['oblique']);
    expect(series.summary).toMatchObject({ sliceCount: 10, instanceCount: 10, splitFrom: null, seriesKey: '1.2.826.0.1.3680043.8.498.1001' });
  });

  test('without positions the order falls back to Instance Number, with a no-position warning', async () => {
    const specs: SliceSpec[] = Array.from({ length: 6 }, (_, k) => ({
      seriesUid: '1.2.826.0.1.3680043.8.498.1002',
      sopUid: `1.2.826.0.1.3680043.8.498.1002.${k + 1}`,
      instanceNumber: [4, 1, 6, 2, 5, 3][k]!,
    }));
    writeSeries(join(tmp.path, 'no-position'), specs);
    const series = onlySeries(await indexFolder(join(tmp.path, 'no-position')));
    expect(series.slices.map((s) => s.instanceNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(codes(series)).toContain('no-position');
    expect(series.summary.geometry?.sliceSpacing).toBeNull();
  });

  test('a multi-frame instance yields one slice per frame, ordered by its per-frame positions', async () => {
    const zs = [10, 0, 40, 20, 30];
    const folder = join(tmp.path, 'multiframe');
    mkdirSync(folder);
    const frame = ctSlice({ seriesUid: '1.2.826.0.1.3680043.8.498.1003', sopUid: '1.2.826.0.1.3680043.8.498.1003.1' });
    writeDicom(join(folder, 'enhanced.dcm'), {
      ...frame,
      SOPClassUID: ENHANCED_CT_IMAGE_STORAGE,
      NumberOfFrames: String(zs.length),
      PixelData: [new Uint16Array(8 * 8 * zs.length).buffer],
      PixelSpacing: undefined,
      SharedFunctionalGroupsSequence: [
        { PlaneOrientationSequence: [{ ImageOrientationPatient: AXIAL }], PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.5], SliceThickness: '10' }] },
      ],
      PerFrameFunctionalGroupsSequence: zs.map((z) => ({ PlanePositionSequence: [{ ImagePositionPatient: [0, 0, z] }] })),
    });
    const series = onlySeries(await indexFolder(folder));
    expect(series.summary).toMatchObject({ instanceCount: 1, sliceCount: 5 });
    const expectedFrames = zs.map((z, i) => ({ z, frame: i + 1 })).sort((a, b) => a.z - b.z);
    expect(series.slices.map((s) => s.frame)).toEqual(expectedFrames.map((f) => f.frame));
    expect(series.slices.map((s) => s.position?.[2])).toEqual([0, 10, 20, 30, 40]);
    expect(series.summary.geometry).toMatchObject({ pixelSpacing: [0.5, 0.5], sliceSpacing: 10, warnings: [] });
  });
});

describe('consistency checks', () => {
  const axialSpecs = (uid: string, zs: number[]): SliceSpec[] =>
    zs.map((z, k) => ({ seriesUid: uid, sopUid: `${uid}.${k + 1}`, instanceNumber: k + 1, position: [0, 0, z], orientation: AXIAL }));

  test('a missing slice is reported as missing-slices', async () => {
    const zs = Array.from({ length: 10 }, (_, k) => k * 2.5).filter((_, k) => k !== 6);
    writeSeries(join(tmp.path, 'gap'), axialSpecs('1.2.826.0.1.3680043.8.498.1004', zs));
    const series = onlySeries(await indexFolder(join(tmp.path, 'gap')));
    expect(codes(series)).toEqual(['missing-slices']);
    expect(series.summary.geometry?.warnings[0]?.message).toContain('5.00 mm');
    expect(series.summary.geometry?.sliceSpacing).toBeCloseTo(2.5, 6);
  });

  test('uneven spacing and duplicate positions are reported', async () => {
    writeSeries(join(tmp.path, 'uneven'), axialSpecs('1.2.826.0.1.3680043.8.498.1005', [0, 2.5, 5, 8, 10.5, 13, 15.5]));
    expect(codes(onlySeries(await indexFolder(join(tmp.path, 'uneven'))))).toEqual(['uneven-spacing']);
    writeSeries(join(tmp.path, 'duplicate'), axialSpecs('1.2.826.0.1.3680043.8.498.1006', [0, 2.5, 2.5, 5, 7.5]));
    const duplicate = onlySeries(await indexFolder(join(tmp.path, 'duplicate')));
    expect(codes(duplicate)).toEqual(['duplicate-position']);
    expect(duplicate.summary.sliceCount).toBe(5);
  });

  test('two orientations split the series: "uid" and "uid#2", each with splitFrom and mixed-orientation', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.1007';
    const axial = axialSpecs(uid, [0, 5, 10, 15]);
    const coronal: SliceSpec[] = [0, 5, 10].map((y, k) => ({ seriesUid: uid, sopUid: `${uid}.c${k}`, instanceNumber: 10 + k, position: [0, y, 0], orientation: [1, 0, 0, 0, 0, -1] }));
    writeSeries(join(tmp.path, 'two-planes'), [...axial, ...coronal]);
    const outcome = await indexFolder(join(tmp.path, 'two-planes'));
    expect(outcome.series.map((s) => s.summary.seriesKey)).toEqual([uid, `${uid}#2`]);
    const [first, second] = outcome.series as [HostSeries, HostSeries];
    expect(first.summary).toMatchObject({ sliceCount: 4, splitFrom: uid });
    expect(second.summary).toMatchObject({ sliceCount: 3, splitFrom: uid });
    expect(codes(first)).toContain('mixed-orientation');
    expect(codes(second)).toContain('mixed-orientation');
    expect(second.summary.geometry?.orientation).toEqual([1, 0, 0, 0, 0, -1]);
    // Every file lands in the part that holds it.
    for (const file of outcome.files) {
      if (file.outcome !== 'instance') throw new Error(`unexpected ${file.outcome}`);
      expect(file.seriesKey).toBe(file.sopInstanceUid.includes('.c') ? `${uid}#2` : uid);
    }
  });

  test('two image sizes split the series with mixed-size', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.1008';
    const specs = axialSpecs(uid, [0, 5, 10]).map((s, k) => ({ ...s, rows: k === 1 ? 16 : 8, columns: k === 1 ? 16 : 8 }));
    writeSeries(join(tmp.path, 'two-sizes'), specs);
    const outcome = await indexFolder(join(tmp.path, 'two-sizes'));
    expect(outcome.series.map((s) => [s.summary.seriesKey, s.summary.sliceCount, s.summary.geometry?.rows])).toEqual([
      [uid, 2, 8],
      [`${uid}#2`, 1, 16],
    ]);
    for (const series of outcome.series) expect(codes(series)).toContain('mixed-size');
  });
});

describe('DicomIndex', () => {
  test('a second import of more slices merges into the same series; a copy of a file is a duplicate-instance', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.1009';
    const zs = [0, 3, 6, 9, 12, 15];
    const specs = zs.map((z, k): SliceSpec => ({ seriesUid: uid, sopUid: `${uid}.${k + 1}`, instanceNumber: k + 1, position: [0, 0, z], orientation: AXIAL }));
    const first = writeSeries(join(tmp.path, 'merge-a'), specs.filter((_, k) => k % 2 === 0));
    writeSeries(join(tmp.path, 'merge-b'), specs.filter((_, k) => k % 2 === 1), 5);
    mkdirSync(join(tmp.path, 'merge-c'));
    const copy = join(tmp.path, 'merge-c', 'copy.dcm');
    copyFileSync(first[0]!, copy);

    const index = new DicomIndex();
    const a = index.merge(await indexFolder(join(tmp.path, 'merge-a')));
    expect(a).toMatchObject({ seriesKeys: [uid], instancesAdded: 3, problems: [] });
    expect(index.seriesDetail(uid)?.series.sliceCount).toBe(3);
    expect(index.seriesDetail(uid)?.series.geometry?.warnings.map((w) => w.code)).toEqual([]);

    const b = index.merge(await indexFolder(join(tmp.path, 'merge-b')));
    expect(b).toMatchObject({ seriesKeys: [uid], instancesAdded: 3, problems: [] });
    const detail = index.seriesDetail(uid)!;
    SeriesDetail.parse(detail);
    expect(detail.slices.map((s) => s.position?.[2])).toEqual(zs);
    expect(detail.series.sliceCount).toBe(6);
    expect(index.patients()).toHaveLength(1);

    const c = index.merge(await indexFolder(join(tmp.path, 'merge-c')));
    expect(c.instancesAdded).toBe(0);
    expect(c.problems).toEqual([expect.objectContaining({ path: copy, reason: 'duplicate-instance' })]);
    expect(index.seriesDetail(uid)?.series.sliceCount).toBe(6);

    // Files are reachable only by the keys the index handed out.
    for (const slice of detail.slices) expect(index.pathForFileKey(slice.fileKey)).toMatch(/merge-[ab]/);
    expect(index.pathForFileKey('0'.repeat(24))).toBeUndefined();
    expect(index.seriesDetail('no-such-series')).toBeUndefined();
    // The renderer never sees paths.
    expect(JSON.stringify(detail)).not.toContain(tmp.path);
  });
});
