// Encapsulated pixel data gets a size bound at index time: fragments that hold more than
// twice what Rows × Columns × Frames × Samples × bits need uncompressed, plus 64 KiB per
// frame (at most 4 GiB), are not this image's pixels; the file is skipped with the reason.
// The fragments' total is measured by the test's own walk of the items.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readHeader } from '../../electron/host/dicom/header-reader.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { ENCAPSULATED_HARD_CAP, maxEncapsulatedLength } from '../../electron/host/dicom/pixel-data-checks.ts';
import { ctSlice, findTag, makeTempDir, writeDicom } from './fixtures-dicom.ts';

const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
const tmp = makeTempDir('pixel-bounds');
afterAll(() => tmp.remove());

/** Sum of the fragment lengths after the offset table, by walking the items from the Pixel Data element. */
function fragmentTotal(file: Buffer): number {
  let at = findTag(file, 0x7fe0, 0x0010) + 12; // tag, VR, reserved, undefined length
  let total = 0;
  for (;;) {
    const element = file.readUInt16LE(at + 2);
    const length = file.readUInt32LE(at + 4);
    if (element === 0xe0dd) return total;
    total += length;
    at += 8 + length;
  }
}

function rleFile(name: string, fragmentBytes: number): { path: string; bytes: Buffer } {
  const path = join(tmp.path, name);
  const bytes = writeDicom(path, { ...ctSlice({ seriesUid: '1.2.5.1', sopUid: `1.2.5.1.${fragmentBytes}`, rows: 16, columns: 16, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }), PixelData: [new Uint8Array(fragmentBytes).buffer] }, RLE_LOSSLESS);
  return { path, bytes };
}

describe('encapsulated pixel data bound', () => {
  // 16 × 16 pixels, 1 sample, 16 bits: 512 bytes uncompressed.
  const bound = 2 * 16 * 16 * 2 + 64 * 1024;

  test('the bound is 2 × the uncompressed size + 64 KiB per frame, and at most the hard cap', () => {
    const layout = { rows: 16, columns: 16, frames: 1, samplesPerPixel: 1, bitsAllocated: 16, photometricInterpretation: 'MONOCHROME2' };
    expect(maxEncapsulatedLength(layout)).toBe(bound);
    expect(maxEncapsulatedLength({ ...layout, frames: 3 })).toBe(3 * (2 * 512 + 64 * 1024));
    expect(maxEncapsulatedLength({ ...layout, rows: 65535, columns: 65535, frames: 1000 })).toBe(ENCAPSULATED_HARD_CAP);
    expect(ENCAPSULATED_HARD_CAP).toBe(4 * 1024 * 1024 * 1024);
  });

  test('fragments within the bound are indexed; past it the file is skipped with the reason, in the header reader and the import', async () => {
    const fits = rleFile('fits.dcm', 4096);
    expect(fragmentTotal(fits.bytes)).toBeLessThanOrEqual(bound);
    expect(readHeader(fits.path).ok).toBe(true);

    const tooLarge = rleFile('too-large.dcm', bound + 2);
    const total = fragmentTotal(tooLarge.bytes);
    expect(total).toBeGreaterThan(bound);
    const result = readHeader(tooLarge.path);
    if (result.ok) throw new Error('a file whose fragments exceed the bound was indexed');
    expect(result.problem.reason).toBe('invalid-value');
    expect(result.problem.detail).toContain(`holds ${total} bytes of fragments, more than the ${bound} that 16 rows × 16 columns × 1 frame(s) × 1 sample(s) × 16 bits could need`);
    expect(result.problem.detail).toContain('the file is skipped');

    const imported = await importDicom({ paths: [fits.path, tooLarge.path] });
    expect(imported.files.find((file) => file.path === fits.path)).toMatchObject({ outcome: 'instance' });
    expect(imported.files.find((file) => file.path === tooLarge.path)).toMatchObject({ outcome: 'problem', reason: 'invalid-value' });
  });
});
