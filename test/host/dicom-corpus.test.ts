// The import on pydicom's real test corpus: every file accounted for exactly once, and
// what we read checked against pydicom (an independent reader), not against ourselves.
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { FileProblem, PatientSummary, SeriesSummary, SliceRef } from '../../electron/common/dicom-model.ts';
import { readHeader } from '../../electron/host/dicom/header-reader.ts';
import type { FileOutcome, ImportOutcome } from '../../electron/host/dicom/import-types.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import type { InstanceRecord } from '../../electron/host/dicom/instance-record.ts';
import { listFilesRecursively, PYDICOM_TEST_FILES, pydicomFacts, type PydicomFacts } from './fixtures-dicom.ts';

const file = (name: string) => join(PYDICOM_TEST_FILES, name);

/** Files pydicom reads without complaint that are nevertheless broken, and how. */
const KNOWN_BROKEN: Record<string, FileProblem['reason']> = {
  'MR_truncated.dcm': 'truncated', // Pixel Data announces 8192 bytes, fewer remain
  'rtplan_truncated.dcm': 'truncated', // ends inside a sequence (pydicom reads lazily)
  'badVR.dcm': 'invalid-value', // Number of Frames "1A"
};

let files: string[];
let facts: Map<string, PydicomFacts>;
let outcome: ImportOutcome;
let outcomeByPath: Map<string, FileOutcome>;
let records: Map<string, InstanceRecord>;

beforeAll(async () => {
  files = listFilesRecursively(PYDICOM_TEST_FILES);
  if (files.length < 150) throw new Error(`pydicom's test corpus looks incomplete at ${PYDICOM_TEST_FILES} (${files.length} files)`);
  facts = pydicomFacts(files);
  outcome = await importDicom({ paths: [PYDICOM_TEST_FILES] });
  outcomeByPath = new Map(outcome.files.map((f) => [f.path, f]));
  records = new Map();
  for (const path of files) {
    const result = readHeader(path);
    if (result.ok) records.set(path, result.record);
  }
});

function factsOf(path: string): PydicomFacts {
  const f = facts.get(path);
  if (!f) throw new Error(`no pydicom facts for ${path}`);
  return f;
}

function outcomeOf(path: string): FileOutcome {
  const o = outcomeByPath.get(path);
  if (!o) throw new Error(`the import did not list ${path}`);
  return o;
}

const isDicomdir = (f: PydicomFacts) => f.mediaStorageSopClassUid === '1.2.840.10008.1.3.10';
/** TINY_ALPHA's files: CT Image Storage objects with no Image Pixel module (its README says they are not conformant). */
const isPixellessCt = (f: PydicomFacts) => f.sopClassUid === '1.2.840.10008.5.1.4.1.1.2' && !f.hasPixelData;
const hasIdentifiers = (f: PydicomFacts) => Boolean(f.sopInstanceUid && f.seriesInstanceUid && f.studyInstanceUid);

describe('pydicom test corpus', () => {
  test('every file is accounted for exactly once, and nothing else is listed', () => {
    const listed = outcome.files.map((f) => f.path);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...files].sort());
    expect(outcome.cancelled).toBe(false);
  });

  test('files pydicom cannot read as DICOM are problems, never instances', () => {
    const unreadable = files.filter((p) => {
      const f = factsOf(p);
      return !f.readable || (!f.strict && !hasIdentifiers(f));
    });
    expect(unreadable.length).toBeGreaterThan(5); // README, JSON, gzip, dumps, no_meta.dcm
    for (const path of unreadable) {
      const o = outcomeOf(path);
      expect(o.outcome, path).toBe('problem');
      if (o.outcome === 'problem') expect(['not-dicom', 'truncated'], path).toContain(o.reason);
    }
    for (const name of ['README.txt', 'zipMR.gz', 'test1.json', 'rtplan.dump', 'no_meta.dcm']) {
      expect(outcomeOf(file(name))).toMatchObject({ outcome: 'problem', reason: 'not-dicom' });
    }
  });

  test('DICOM files without the identifiers the index needs are missing-attribute, naming what is missing', () => {
    const lacking = files.filter((p) => {
      const f = factsOf(p);
      return f.readable && f.strict && !isDicomdir(f) && !hasIdentifiers(f);
    });
    expect(lacking.length).toBeGreaterThan(3);
    for (const path of lacking) {
      const f = factsOf(path);
      const o = outcomeOf(path);
      expect(o, path).toMatchObject({ outcome: 'problem', reason: 'missing-attribute' });
      if (o.outcome !== 'problem') continue;
      if (!f.sopInstanceUid) expect(o.detail).toContain('SOP Instance UID');
      if (!f.seriesInstanceUid) expect(o.detail).toContain('Series Instance UID');
      if (!f.studyInstanceUid) expect(o.detail).toContain('Study Instance UID');
    }
  });

  test('CT images without pixel data are missing-attribute, not silently listed', () => {
    const pixelless = files.filter((p) => factsOf(p).readable && isPixellessCt(factsOf(p)));
    expect(pixelless.length).toBe(50);
    for (const path of pixelless) {
      const o = outcomeOf(path);
      expect(o, path).toMatchObject({ outcome: 'problem', reason: 'missing-attribute' });
      expect(o.outcome === 'problem' && o.detail).toContain('Pixel Data');
    }
  });

  test('known broken files get their specific reason', () => {
    for (const [name, reason] of Object.entries(KNOWN_BROKEN)) {
      expect(outcomeOf(file(name)), name).toMatchObject({ outcome: 'problem', reason });
    }
    const badVr = outcomeOf(file('badVR.dcm'));
    expect(badVr.outcome === 'problem' && badVr.detail).toContain('Number of Frames');
  });

  test('each SOP Instance UID is indexed once; the other files holding it are duplicate-instance problems', () => {
    const byUid = new Map<string, string[]>();
    for (const path of files) {
      const f = factsOf(path);
      if (!f.readable || !hasIdentifiers(f) || isDicomdir(f) || isPixellessCt(f) || KNOWN_BROKEN[basename(path)]) continue;
      byUid.set(f.sopInstanceUid!, [...(byUid.get(f.sopInstanceUid!) ?? []), path]);
    }
    expect(byUid.size).toBeGreaterThan(40);
    for (const [uid, paths] of byUid) {
      const indexed = paths.filter((p) => outcomeOf(p).outcome !== 'problem');
      expect(indexed, uid).toHaveLength(1);
      for (const other of paths.filter((p) => p !== indexed[0])) {
        const o = outcomeOf(other);
        expect(o, other).toMatchObject({ outcome: 'problem', reason: 'duplicate-instance' });
        expect(o.outcome === 'problem' && o.detail).toContain(indexed[0]!);
      }
    }
    // The MR_small family is one image in many transfer syntaxes: one instance, the rest duplicates.
    const mrSmall = files.filter((p) => /^MR_small.*\.dcm$/.test(basename(p)));
    expect(mrSmall.filter((p) => outcomeOf(p).outcome === 'instance')).toHaveLength(1);
  });

  test('headers agree with pydicom: identifiers, SOP class, size, frames, orientation and position', () => {
    let compared = 0;
    for (const [path, record] of records) {
      const f = factsOf(path);
      if (isDicomdir(f)) continue;
      compared++;
      expect(record.sopInstanceUid, path).toBe(f.sopInstanceUid);
      expect(record.seriesInstanceUid, path).toBe(f.seriesInstanceUid);
      expect(record.studyInstanceUid, path).toBe(f.studyInstanceUid);
      expect(record.sopClassUid, path).toBe(f.sopClassUid);
      expect(record.modality, path).toBe(f.modality ?? '');
      expect(record.rows, path).toBe(f.rows);
      expect(record.columns, path).toBe(f.columns);
      expect(record.numberOfFrames, path).toBe(f.numberOfFrames ? Number(f.numberOfFrames) : 1);
      expect(record.hasPixelData, path).toBe(f.hasPixelData);
      if (f.strict && f.transferSyntaxUid) expect(record.transferSyntaxUid, path).toBe(f.transferSyntaxUid);
      expectClose(record.imagePositionPatient, f.imagePositionPatient, path);
      expectClose(record.imageOrientationPatient, f.imageOrientationPatient, path);
    }
    expect(compared).toBeGreaterThan(80);
  });

  test('CT_small.dcm is a 128×128 CT image; the MR_small files are one 64×64 MR in different transfer syntaxes', () => {
    expect(records.get(file('CT_small.dcm'))).toMatchObject({ kind: 'image', modality: 'CT', rows: 128, columns: 128 });
    const mrSmall = files.filter((p) => /^MR_small.*\.dcm$/.test(basename(p)));
    expect(mrSmall.length).toBeGreaterThanOrEqual(8);
    const syntaxes = new Set<string>();
    for (const path of mrSmall) {
      const record = records.get(path);
      expect(record, path).toMatchObject({ kind: 'image', modality: 'MR', rows: 64, columns: 64 });
      expect(record!.sopInstanceUid).toBe(factsOf(file('MR_small.dcm')).sopInstanceUid);
      syntaxes.add(record!.transferSyntaxUid);
      expect(record!.transferSyntaxUid).toBe(factsOf(path).transferSyntaxUid);
    }
    // explicit LE, implicit LE, big endian, RLE, JPEG 2000, JPEG-LS
    expect(syntaxes.size).toBeGreaterThanOrEqual(6);
  });

  test('headers without a meta header, deflated and big endian files are read', () => {
    expect(records.get(file('ExplVR_BigEndNoMeta.dcm'))).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2.2', kind: 'RTPLAN' });
    expect(records.get(file('ExplVR_LitEndNoMeta.dcm'))).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2.1', kind: 'RTPLAN' });
    expect(records.get(file('rtstruct.dcm'))).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2', kind: 'RTSTRUCT' });
    expect(records.get(file('rtstruct.dcm'))!.encodingNote).toContain('No meta header');
    expect(records.get(file('image_dfl.dcm'))).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2.1.99', rows: 512, columns: 512 });
    expect(records.get(file('ExplVR_BigEnd.dcm'))).toMatchObject({ transferSyntaxUid: '1.2.840.10008.1.2.2', rows: 60, columns: 80 });
  });

  test('rtdose.dcm is an RTDOSE series with one slice per frame, placed along its grid offsets', () => {
    const f = factsOf(file('rtdose.dcm'));
    const series = outcome.series.find((s) => s.instances.some((i) => i.path === file('rtdose.dcm')));
    expect(series?.summary.kind).toBe('RTDOSE');
    const frames = Number(f.numberOfFrames);
    expect(frames).toBe(15);
    expect(series!.summary.sliceCount).toBe(frames);
    expect(series!.slices.map((s) => s.frame)).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
    // IOP is axial here, so frame k lies at IPP + offset[k] along z.
    expect(f.imageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0]);
    series!.slices.forEach((slice, k) => {
      const offset = f.gridFrameOffsetVector![k]! - f.gridFrameOffsetVector![0]!;
      expectClose(slice.position, [f.imagePositionPatient![0]!, f.imagePositionPatient![1]!, f.imagePositionPatient![2]! + offset], `frame ${k + 1}`);
    });
    expect(series!.summary.geometry?.sliceSpacing).toBeCloseTo(f.gridFrameOffsetVector![1]! - f.gridFrameOffsetVector![0]!, 6);
  });

  test('a series mixing image sizes is split into parts with a mixed-size warning', () => {
    const sizesBySeries = new Map<string, Set<string>>();
    for (const path of files) {
      const o = outcomeOf(path);
      if (o.outcome !== 'instance') continue;
      const f = factsOf(path);
      const sizes = sizesBySeries.get(f.seriesInstanceUid!) ?? new Set<string>();
      sizes.add(`${f.rows}x${f.columns}`);
      sizesBySeries.set(f.seriesInstanceUid!, sizes);
    }
    const mixed = [...sizesBySeries].filter(([, sizes]) => sizes.size > 1);
    expect(mixed.length).toBeGreaterThan(0); // the SC_rgb files: 100×100 and 3×3
    for (const [uid, sizes] of mixed) {
      const parts = outcome.series.filter((s) => s.summary.seriesInstanceUid === uid && s.summary.kind === 'image');
      expect(parts.length).toBeGreaterThanOrEqual(sizes.size);
      expect(parts.map((p) => p.summary.seriesKey)).toContain(uid);
      expect(parts.map((p) => p.summary.seriesKey)).toContain(`${uid}#2`);
      for (const part of parts) {
        expect(part.summary.splitFrom).toBe(uid);
        expect(part.summary.geometry?.warnings.map((w) => w.code)).toContain('mixed-size');
      }
    }
  });

  test('DICOMDIRs are listed as DICOMDIR and every file they reference is indexed or has a reason', () => {
    const dicomdirs = files.filter((p) => isDicomdir(factsOf(p)));
    expect(dicomdirs.length).toBe(8);
    for (const path of dicomdirs) {
      expect(outcomeOf(path), path).toMatchObject({ outcome: 'non-image', kind: 'DICOMDIR', seriesKey: null });
      const expected = factsOf(path).referencedFiles!;
      expect(new Set(records.get(path)!.referencedFiles), path).toEqual(new Set(expected));
      for (const referenced of expected) {
        const o = outcomeOf(referenced);
        if (isPixellessCt(factsOf(referenced))) expect(o, referenced).toMatchObject({ reason: 'missing-attribute' });
        else expect(o.outcome, referenced).not.toBe('problem');
      }
    }
  });

  test('importing only a DICOMDIR indexes exactly the DICOMDIR and the files it references', async () => {
    const dicomdir = file('dicomdirtests/DICOMDIR');
    const only = await importDicom({ paths: [dicomdir] });
    const expected = [dicomdir, ...factsOf(dicomdir).referencedFiles!];
    expect(expected.length).toBe(32);
    expect(only.files.map((f) => f.path).sort()).toEqual([...expected].sort());
    expect(only.files.filter((f) => f.outcome === 'problem')).toEqual([]);
    for (const referenced of factsOf(dicomdir).referencedFiles!) expect(dirname(referenced).startsWith(dirname(dicomdir))).toBe(true);
  });

  test('non-image objects are listed under their kind, without geometry', () => {
    const expectedKinds: Record<string, string> = {
      'test-SR.dcm': 'SR',
      'reportsi.dcm': 'SR',
      'rtstruct.dcm': 'RTSTRUCT',
      'rtplan.dcm': 'RTPLAN',
      'waveform_ecg.dcm': 'ECG',
      'liver_1frame.dcm': 'SEG',
    };
    for (const [name, kind] of Object.entries(expectedKinds)) {
      const o = outcomeOf(file(name));
      expect(o, name).toMatchObject({ outcome: 'non-image', kind });
      const series = outcome.series.find((s) => o.outcome === 'non-image' && s.summary.seriesKey === o.seriesKey);
      expect(series?.summary).toMatchObject({ kind, geometry: null, sliceCount: 0, instanceCount: 1 });
    }
  });

  test('the outcome conforms to the shared schemas', () => {
    PatientSummary.array().parse(outcome.patients);
    for (const series of outcome.series) {
      SeriesSummary.parse(series.summary);
      for (const slice of series.slices) SliceRef.parse(slice);
    }
    FileProblem.array().parse(outcome.problems);
    expect(outcome.problems.length).toBe(outcome.files.filter((f) => f.outcome === 'problem').length);
  });
});

function expectClose(actual: readonly number[] | null, expected: readonly number[] | null, label: string): void {
  if (expected === null) {
    expect(actual, label).toBeNull();
    return;
  }
  expect(actual, label).not.toBeNull();
  expect(actual!.length, label).toBe(expected.length);
  actual!.forEach((v, i) => expect(v, `${label} [${i}]`).toBeCloseTo(expected[i]!, 4));
}
