// The domain objects refuse bad state on construction, with messages that say exactly
// what is wrong; codes are named constants with a searchable pick list; colours and the
// labelmap payload round-trip.
import { describe, expect, it } from 'vitest';
import { decodeLabelmap, encodeLabelmap } from '../../electron/common/contract-seg.ts';
import { ANATOMY } from '../../electron/host/sample/anatomy-codes.ts';
import { dicomLabToRgb, rgbToDicomLab } from '../../electron/host/seg/cielab.ts';
import { CATEGORY, FINDING, searchTerms, STRUCTURE, TERMS } from '../../electron/host/seg/codes.ts';
import { encodeSeg } from '../../electron/host/seg/seg-writer.ts';
import { Segment, type SegmentInit } from '../../electron/host/seg/segment.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { SourceSeries, type SourceSeriesInit } from '../../electron/host/seg/source-series.ts';
import { SegValidationError } from '../../electron/host/seg/validation.ts';

function sourceInit(overrides: Partial<SourceSeriesInit> = {}): SourceSeriesInit {
  return {
    seriesInstanceUid: '1.2.3.4',
    frameOfReferenceUid: '1.2.3.5',
    rows: 4,
    columns: 5,
    pixelSpacing: [0.5, 0.5],
    orientation: [1, 0, 0, 0, 1, 0],
    sliceThickness: 2,
    patientStudy: { patientName: 'A^B', patientId: 'P', patientBirthDate: '', patientSex: 'O', studyInstanceUid: '1.2.3', studyDate: '', studyTime: '', studyId: '', accessionNumber: '', referringPhysicianName: '', studyDescription: '' },
    slices: [0, 1, 2].map((k) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `1.2.3.4.${k + 1}`, frameNumber: null, position: [0, 0, 2 * k] as [number, number, number] })),
    ...overrides,
  };
}

const liver: SegmentInit = { number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } };

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(SegValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a SegValidationError');
}

describe('Segment', () => {
  it('derives SegmentAlgorithmType from provenance and names the algorithm after the models', () => {
    expect(new Segment(liver).algorithmType).toBe('MANUAL');
    const ai = new Segment({ ...liver, provenance: { source: 'ai', models: [{ name: 'MedGemma', version: '4b' }, { name: 'MedSAM', version: '1' }] } });
    expect([ai.algorithmType, ai.algorithmName]).toEqual(['AUTOMATIC', 'MedGemma + MedSAM']);
    const edited = new Segment({ ...liver, algorithmName: 'Paint after MedSAM', provenance: { source: 'ai-edited' } });
    expect([edited.algorithmType, edited.algorithmName]).toEqual(['SEMIAUTOMATIC', 'Paint after MedSAM']);
    expect(Object.isFrozen(edited)).toBe(true);
  });

  it('lists every problem of a bad segment in one message', () => {
    const message = messageOf(
      () =>
        new Segment({
          ...liver,
          number: 0,
          label: '',
          color: [300, 0, 0] as never,
          type: { value: '', scheme: 'SCT', meaning: 'Liver' },
        }),
    );
    expect(message).toBe(
      'Invalid segment 0: number must be an integer 1..65535, got 0; label is empty; color must hold integers 0..255, got [300, 0, 0]; type code has an empty CodeValue',
    );
  });

  it.each([
    [{ algorithmType: 'AUTOMATIC' }, 'Invalid segment 1 "Liver": algorithmType AUTOMATIC contradicts provenance "manual", which is MANUAL'],
    [{ provenance: { source: 'ai' } }, 'Invalid segment 1 "Liver": an AUTOMATIC segment needs an algorithm name: give algorithmName or provenance.models'],
    [{ algorithmName: 'Paint' }, 'Invalid segment 1 "Liver": a MANUAL segment has no algorithm name (SegmentAlgorithmName is for AUTOMATIC and SEMIAUTOMATIC)'],
    [{ provenance: { source: 'robot' } }, 'Invalid segment 1 "Liver": provenance.source must be one of manual, ai, ai-edited, interactive, got "robot"'],
    [{ label: 'a\\b' }, 'Invalid segment 1 "a\\\\b": label contains a backslash or a control character'],
    [{ category: { value: '123037004', scheme: 'S C T', meaning: 'Anatomical Structure' } }, 'Invalid segment 1 "Liver": category code has an invalid CodingSchemeDesignator ("S C T")'],
    [
      { provenance: { source: 'ai', models: [{ name: 'M', version: '' }], prompts: [{ kind: 'box', sliceIndex: 0, x0: 5, y0: 1, x1: 2, y1: 3 }] } },
      'Invalid segment 1 "Liver": prompt 1: box must have x1 > x0 and y1 > y0, got (5, 1)–(2, 3); model 1 version is empty',
    ],
  ] as const)('refuses %j', (change, message) => {
    expect(messageOf(() => new Segment({ ...liver, ...change } as SegmentInit))).toBe(message);
  });
});

describe('SourceSeries', () => {
  it('refuses slices out of order, shared positions, missing Frame of Reference and a skewed orientation', () => {
    const slices = sourceInit().slices;
    expect(messageOf(() => new SourceSeries(sourceInit({ slices: [slices[1]!, slices[0]!, slices[2]!] })))).toBe(
      'Invalid source series "1.2.3.4": slices are not in slice order (ascending along the normal) at index 1',
    );
    expect(messageOf(() => new SourceSeries(sourceInit({ slices: [slices[0]!, { ...slices[1]!, position: [0, 0, 0] }] })))).toBe(
      'Invalid source series "1.2.3.4": slices 0 and 1 share one position: a SEG frame could not say which it belongs to',
    );
    expect(messageOf(() => new SourceSeries(sourceInit({ frameOfReferenceUid: '' })))).toBe(
      `Invalid source series "1.2.3.4": FrameOfReferenceUID "" is not a UID: a SEG needs the source's Frame of Reference`,
    );
    expect(messageOf(() => new SourceSeries(sourceInit({ orientation: [1, 0, 0, 0.5, 1, 0] })))).toBe(
      'Invalid source series "1.2.3.4": orientation 1\\0\\0\\0.5\\1\\0 is not two orthogonal unit vectors',
    );
  });

  it('finds slices by instance and by position (within a quarter of the spacing, same in-plane origin)', () => {
    const source = new SourceSeries(sourceInit());
    expect(source.sliceIndexOf('1.2.3.4.3')).toBe(2);
    expect(source.sliceIndexAt([0, 0, 2.4])).toBe(1);
    expect(source.sliceIndexAt([0, 0, 3])).toBeUndefined();
    expect(source.sliceIndexAt([3, 0, 2])).toBeUndefined();
  });
});

describe('Segmentation', () => {
  const source = new SourceSeries(sourceInit());
  const voxels = 4 * 5 * 3;

  it('refuses a labelmap of the wrong size, naming the grid', () => {
    expect(messageOf(() => new Segmentation({ source, segments: [liver], labelmap: new Uint8Array(59) }))).toBe(
      'Invalid segmentation: labelmap holds 59 voxels; the source series has 5 × 4 × 3 = 60',
    );
  });

  it('refuses a voxel value that is no segment, saying where it is', () => {
    const labelmap = new Uint8Array(voxels);
    labelmap[27] = 2;
    expect(messageOf(() => new Segmentation({ source, segments: [liver], labelmap }))).toBe(
      'Invalid segmentation: labelmap voxel 27 (column 2, row 1, slice 1) holds 2, which is no segment (segments are 1..1)',
    );
  });

  it('refuses segments out of numbering order and prompts off the image', () => {
    const prompted: SegmentInit = { ...liver, number: 2, provenance: { source: 'ai', models: [{ name: 'MedSAM', version: '1' }], prompts: [{ kind: 'point', sliceIndex: 5, x: 1, y: 1, label: 'positive' }, { kind: 'point', sliceIndex: 0, x: 9, y: 1, label: 'negative' }] } };
    expect(messageOf(() => new Segmentation({ source, segments: [prompted], labelmap: new Uint8Array(voxels) }))).toBe(
      'Invalid segmentation: segments must be numbered 1, 2, … in order: item 1 is segment 2; segment 2 prompt 1: sliceIndex 5 is beyond the 3 slices of the source; segment 2 prompt 2 lies outside the 5 × 4 image',
    );
  });

  it('collects the errors of its segments', () => {
    expect(messageOf(() => new Segmentation({ source, segments: [{ ...liver, label: '' }], labelmap: new Uint8Array(voxels) }))).toBe(
      'Invalid segmentation: segment 1: label is empty',
    );
  });

  it('knows which segments each slice holds', () => {
    const labelmap = new Uint8Array(voxels);
    labelmap[3] = 1;
    labelmap[45] = 2;
    labelmap[46] = 1;
    const segmentation = new Segmentation({ source, segments: [liver, { ...liver, number: 2, label: 'Spleen', type: STRUCTURE.spleen }], labelmap });
    expect(segmentation.frameContents.segmentsBySlice.map((s) => Array.from(s))).toEqual([[1], [], [1, 2]]);
    expect(Array.from(segmentation.frameContents.voxelCounts)).toEqual([57, 2, 1]);
  });

  it('cannot be written as a SEG when empty, or with a bad content label', () => {
    const empty = new Segmentation({ source, segments: [liver], labelmap: new Uint8Array(voxels) });
    expect(messageOf(() => encodeSeg(empty))).toBe('Invalid segmentation: every segment is empty: a SEG needs at least one non-empty frame');
    const one = new Segmentation({ source, segments: [liver], labelmap: new Uint8Array(voxels).fill(1, 0, 3) });
    expect(messageOf(() => encodeSeg(one, { contentLabel: 'my label', seriesInstanceUid: '1.02.3' }))).toBe(
      'Invalid SEG options: contentLabel must be 1–16 upper-case letters, digits, spaces or underscores, got "my label"; seriesInstanceUid "1.02.3" is not a valid UID',
    );
  });
});

describe('codes', () => {
  it('reuses the sample table where they overlap', () => {
    expect(STRUCTURE.liver).toBe(ANATOMY.liver);
    expect(FINDING.cyst.value).toBe('441457006');
  });

  it('searches the pick list by words of the meaning, id or code value', () => {
    expect(searchTerms('kidney').map((t) => t.id)).toEqual(['kidney', 'leftKidney', 'rightKidney']);
    expect(searchTerms('left k').map((t) => t.id)).toEqual(['leftKidney']);
    expect(searchTerms('10200004').map((t) => t.type.meaning)).toEqual(['Liver']);
    expect(searchTerms('nodule')[0]).toMatchObject({ category: CATEGORY.morphologicallyAbnormalStructure, type: FINDING.nodule });
    expect(searchTerms('zzz')).toEqual([]);
    expect(new Set(TERMS.map((t) => t.id)).size).toBe(TERMS.length);
  });
});

describe('colours and payloads', () => {
  it('round-trips sRGB through DICOM CIELab within one step', () => {
    for (const rgb of [[0, 0, 0], [255, 255, 255], [221, 130, 101], [0, 220, 255], [128, 0, 128]] as const) {
      const back = dicomLabToRgb(rgbToDicomLab([...rgb]));
      back.forEach((c, i) => expect(Math.abs(c - rgb[i]!)).toBeLessThanOrEqual(1));
    }
    // Slicer's liver (dcmqi writes 41661\\41167\\40792 for 221,130,101).
    rgbToDicomLab([221, 130, 101]).forEach((v, i) => expect(Math.abs(v - [41661, 41167, 40792][i]!)).toBeLessThanOrEqual(3));
  });

  it('round-trips a labelmap through the contract payload and refuses a broken one', () => {
    const labelmap = new Uint16Array(100_000);
    for (let i = 0; i < labelmap.length; i++) labelmap[i] = i % 1000 < 500 ? 0 : 200 + ((i >> 10) % 100);
    const payload = encodeLabelmap(labelmap);
    expect(payload.rle.length).toBeLessThan(labelmap.length);
    expect(decodeLabelmap(payload)).toEqual(labelmap);
    expect(() => decodeLabelmap({ ...payload, length: 99_999 })).toThrow('labelmap payload runs exceed the declared 99999 voxels');
    expect(() => decodeLabelmap({ ...payload, dtype: 'uint8' })).toThrow(/does not fit uint8/);
    expect(() => decodeLabelmap({ ...payload, rle: '!!' })).toThrow('labelmap payload is not valid base64');
  });
});
