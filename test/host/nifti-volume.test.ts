// The NIfTI-1 reader the evaluation on real anatomy uses: header fields, scaling, both byte
// orders, gzip, MRIcron's label-name text after the header, and the files Debian ships.
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { parseLabelTable, parseNifti, readNifti } from '../../electron/host/inference/nifti-volume.ts';
import { MRICRON_TEMPLATES } from '../../electron/host/inference/atlas-segmentation-eval.ts';

function nifti(values: number[], sizes: [number, number, number], little: boolean, extension = ''): Uint8Array {
  const ext = new TextEncoder().encode(extension);
  const offset = 352 + ext.length;
  const bytes = new Uint8Array(offset + values.length * 2);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, little);
  view.setInt16(40, 3, little);
  sizes.forEach((n, i) => view.setInt16(42 + 2 * i, n, little));
  view.setInt16(70, 4, little); // int16
  view.setInt16(72, 16, little);
  [0.5, 0.5, 2].forEach((d, i) => view.setFloat32(80 + 4 * i, d, little));
  view.setFloat32(108, offset, little);
  view.setFloat32(112, 2, little); // scl_slope
  view.setFloat32(116, -1, little); // scl_inter
  bytes.set(ext, 352);
  values.forEach((v, i) => view.setInt16(offset + 2 * i, v, little));
  return bytes;
}

describe('parseNifti', () => {
  const values = [0, 1, -3, 7, 100, 2, 5, 9, 11, 13, 17, 19];
  test.each([true, false])('reads sizes, spacing and scaled voxels (little endian: %s), gzipped or not', (little) => {
    for (const bytes of [nifti(values, [3, 2, 2], little), gzipSync(nifti(values, [3, 2, 2], little))]) {
      const volume = parseNifti(new Uint8Array(bytes));
      expect(volume.sizes).toEqual([3, 2, 2]);
      expect(volume.spacing).toEqual([0.5, 0.5, 2]);
      expect(Array.from(volume.values)).toEqual(values.map((v) => v * 2 - 1));
    }
  });

  test('takes label names from the text after the header', () => {
    const volume = parseNifti(nifti(values, [3, 2, 2], true, '1\tl_caudate\n2\tr_putamen\n'));
    expect(volume.labelNames.get(1)).toBe('l_caudate');
    expect(volume.labelNames.get(2)).toBe('r_putamen');
  });

  test('refuses what is not NIfTI-1, naming why', () => {
    expect(() => parseNifti(new Uint8Array(400))).toThrow(/sizeof_hdr/);
  });

  test('reads the Colin27 T1 and its AAL atlas from Debian mricron-data on one voxel grid', async () => {
    const [image, labels] = await Promise.all([readNifti(`${MRICRON_TEMPLATES}/ch2.nii.gz`), readNifti(`${MRICRON_TEMPLATES}/aal.nii.gz`)]);
    expect(image.sizes).toEqual(labels.sizes);
    const names = parseLabelTable('37 Hippocampus_L 4101\n38 Hippocampus_R 4102\n');
    expect(names.get(37)).toBe('Hippocampus_L');
    expect(labels.values.some((v) => v === 37)).toBe(true);
  });
});
