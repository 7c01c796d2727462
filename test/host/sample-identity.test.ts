// UIDs, numbering and value formatting of the sample's DICOM files.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLE_SPEC } from '../../electron/host/sample/phantom.ts';
import { IMPLEMENTATION_CLASS_UID, nameBasedUid, sampleUids } from '../../electron/host/sample/sample-identity.ts';
import { ctFileName, formatDecimalString, instanceNumberOf } from '../../electron/host/sample/write-ct-series.ts';

describe('sample UIDs', () => {
  it('are 2.25 UIDs of a version-5 UUID, at most 64 characters, without leading zeros', () => {
    for (const uid of [nameBasedUid('a'), nameBasedUid(''), IMPLEMENTATION_CLASS_UID]) {
      expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
      expect(uid.length).toBeLessThanOrEqual(64);
      const hex = BigInt(uid.slice('2.25.'.length)).toString(16).padStart(32, '0');
      expect(hex[12]).toBe('5'); // UUID version nibble
      expect(['8', '9', 'a', 'b']).toContain(hex[16]); // RFC 4122 variant
    }
  });

  it('are the same for the same spec and differ between specs and between roles', () => {
    const a = sampleUids(DEFAULT_SAMPLE_SPEC);
    const b = sampleUids({ ...DEFAULT_SAMPLE_SPEC });
    const c = sampleUids({ ...DEFAULT_SAMPLE_SPEC, slices: 60 });
    expect(b.studyInstanceUid).toBe(a.studyInstanceUid);
    expect(b.sopInstanceUid(5)).toBe(a.sopInstanceUid(5));
    expect(c.seriesInstanceUid).not.toBe(a.seriesInstanceUid);
    const roles = new Set([a.studyInstanceUid, a.seriesInstanceUid, a.frameOfReferenceUid, a.sopInstanceUid(0), a.sopInstanceUid(1)]);
    expect(roles.size).toBe(5);
  });
});

describe('slice numbering', () => {
  it('numbers instances from the top (most superior) slice, and names files by number', () => {
    expect(instanceNumberOf(119, 120)).toBe(1);
    expect(instanceNumberOf(0, 120)).toBe(120);
    expect(ctFileName(1)).toBe('CT000001.dcm');
    expect(ctFileName(120)).toBe('CT000120.dcm');
  });
});

describe('decimal strings', () => {
  it('fit in 16 characters and read back as the same number when they can', () => {
    for (const v of [0, -0, 1.40625, -179.296875, -179.6484375, 0.703125, 2.5, -1024, 360, 1e-7, 123456789.123456789, -0.1 - 0.2]) {
      const text = formatDecimalString(v);
      expect(text.length, text).toBeLessThanOrEqual(16);
      expect(text, text).toMatch(/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/);
      expect(Math.abs(Number(text) - v), text).toBeLessThanOrEqual(Math.abs(v) * 1e-12 + 1e-20);
    }
    expect(formatDecimalString(-179.296875)).toBe('-179.296875');
    expect(() => formatDecimalString(Number.NaN)).toThrow(/NaN/);
  });
});
