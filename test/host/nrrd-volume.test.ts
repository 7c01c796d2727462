// The NRRD reader behind the labelled-CT evaluation (pyradiomics' lung cases): header
// fields, raw and gzip data, byte order, spacing from space directions, and the errors a
// file it cannot read gets. The files are written here from values the test chose.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseNrrd } from '../../electron/host/inference/nrrd-volume.ts';

function nrrd(header: string[], data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`NRRD0004\n# written by the test\n${header.join('\n')}\n\n`);
  const bytes = new Uint8Array(head.length + data.length);
  bytes.set(head);
  bytes.set(data, head.length);
  return bytes;
}

const sizes = [3, 2, 2];
const values = Array.from({ length: 12 }, (_, i) => (i - 6) * 300); // −1800 … 1500: signed 16-bit CT-like values

function int16(littleEndian: boolean): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 2));
  values.forEach((v, i) => view.setInt16(i * 2, v, littleEndian));
  return new Uint8Array(view.buffer);
}

describe('parseNrrd', () => {
  it('reads a gzip-encoded little-endian short volume with its spacing', () => {
    const volume = parseNrrd(nrrd(['type: short', 'dimension: 3', 'space: left-posterior-superior', `sizes: ${sizes.join(' ')}`, 'space directions: (0.5,0,0) (0,0.5,0) (0,0,5)', 'endian: little', 'encoding: gzip'], gzipSync(int16(true))));
    expect(volume.sizes).toEqual(sizes);
    expect(volume.spacing).toEqual([0.5, 0.5, 5]);
    expect(Array.from(volume.values)).toEqual(values);
  });

  it('reads raw big-endian data and the plain spacings field', () => {
    const volume = parseNrrd(nrrd(['type: int16', 'dimension: 3', `sizes: ${sizes.join(' ')}`, 'spacings: 1 2 3', 'endian: big', 'encoding: raw'], int16(false)));
    expect(volume.spacing).toEqual([1, 2, 3]);
    expect(Array.from(volume.values)).toEqual(values);
  });

  it('says what it cannot read', () => {
    expect(() => parseNrrd(new TextEncoder().encode('P5 not an nrrd'))).toThrow(/not an NRRD file/);
    expect(() => parseNrrd(nrrd(['type: short', 'dimension: 3', 'sizes: 3 2 2', 'encoding: bzip2'], new Uint8Array(24)))).toThrow(/encoding "bzip2" is not supported/);
    expect(() => parseNrrd(nrrd(['type: short', 'dimension: 4', 'sizes: 3 2 2 1', 'encoding: raw'], new Uint8Array(24)))).toThrow(/not a 3-D scalar volume/);
    expect(() => parseNrrd(nrrd(['type: short', 'dimension: 3', 'sizes: 3 2 2', 'encoding: raw'], new Uint8Array(10)))).toThrow(/holds 10 bytes, the header says 24/);
    expect(() => parseNrrd(nrrd(['type: block', 'dimension: 3', 'sizes: 3 2 2', 'encoding: raw'], new Uint8Array(24)))).toThrow(/type "block" is not supported/);
  });
});
