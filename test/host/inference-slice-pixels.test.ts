// Slice pixels decoded in the host, compared value by value with pydicom (the Debian
// python3-pydicom): modality LUT (rescale) applied, multi-frame, big endian, deflate, RGB,
// YBR_FULL_422; syntaxes without a decoder and truncated files fail with a sentence.
// Compressed syntaxes: inference-slice-codecs.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadSlice, SlicePixelError } from '../../electron/host/inference/slice-pixels.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDir, requireExecutable } from './real-parts.ts';

requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom');

/** pydicom's reading of one frame: modality values (rescale applied) for grey, luminance for RGB. */
function pydicomFrame(file: string, frame: number): { width: number; height: number; values: number[] } {
  const script = `
import json, sys, numpy as np, pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut
ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array
frames = int(getattr(ds, 'NumberOfFrames', 1) or 1)
spp = int(getattr(ds, 'SamplesPerPixel', 1))
if frames > 1: a = a[int(sys.argv[2])]
if spp == 3 and ds.PhotometricInterpretation in ('YBR_FULL', 'YBR_FULL_422'):
    from pydicom.pixel_data_handlers.util import convert_color_space
    a = convert_color_space(a, ds.PhotometricInterpretation, 'RGB')
if spp == 3: v = 0.299 * a[..., 0].astype(float) + 0.587 * a[..., 1] + 0.114 * a[..., 2]
else: v = apply_modality_lut(a, ds).astype(float)
print(json.dumps({'width': int(v.shape[1]), 'height': int(v.shape[0]), 'values': v.ravel().tolist()}))
`;
  return JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', script, file, String(frame)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
}

describe('loadSlice against pydicom', () => {
  for (const [name, frame] of [
    ['CT_small.dcm', 0],
    ['MR_small.dcm', 0],
    ['MR_small_implicit.dcm', 0],
    ['MR_small_bigendian.dcm', 0],
    ['image_dfl.dcm', 0],
    ['rtdose.dcm', 7],
    ['rtdose_expb.dcm', 3],
    ['SC_rgb_small_odd.dcm', 0],
    ['liver_1frame.dcm', 0],
    ['SC_ybr_full_422_uncompressed.dcm', 0],
  ] as const) {
    test(`${name} frame ${frame}`, async () => {
      const file = path.join(PYDICOM_TEST_FILES, name);
      const expected = pydicomFrame(file, frame);
      const actual = await loadSlice(file, frame);
      expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
      expect(actual.pixels.length).toBe(expected.values.length);
      let worst = 0;
      let largest = 1;
      for (let i = 0; i < expected.values.length; i++) {
        worst = Math.max(worst, Math.abs(actual.pixels[i]! - expected.values[i]!));
        largest = Math.max(largest, Math.abs(expected.values[i]!));
      }
      expect(worst).toBeLessThan(1e-3 * largest);
    });
  }

  test('CT_small carries its own window', async () => {
    const ct = await loadSlice(path.join(PYDICOM_TEST_FILES, 'CT_small.dcm'));
    const window = execFileSync(DEBIAN_PYTHON, ['-c', "import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); print(d.get('WindowCenter'), d.get('WindowWidth'))", path.join(PYDICOM_TEST_FILES, 'CT_small.dcm')], { encoding: 'utf8' }).trim();
    expect(window === 'None None' ? [undefined, undefined] : window.split(' ').map(Number)).toEqual([ct.windowCenter, ct.windowWidth]);
  });
});

describe('what the host cannot decode', () => {
  test('a transfer syntax without a decoder is unsupported, with the syntax named', async () => {
    // pydicom's corpus has no MPEG-2 file: MR_small.dcm relabelled as MPEG-2 Main Profile.
    const dir = mkdtempSync(path.join(tmpdir(), 'mr-slice-mpeg-'));
    const file = path.join(dir, 'MR_small_mpeg2.dcm');
    execFileSync(DEBIAN_PYTHON, ['-c', "import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); from pydicom.encaps import encapsulate; d.PixelData=encapsulate([d.PixelData]); d.file_meta.TransferSyntaxUID='1.2.840.10008.1.2.4.100'; d.save_as(sys.argv[2])", path.join(PYDICOM_TEST_FILES, 'MR_small.dcm'), file]);
    try {
      const error = (await loadSlice(file).catch((e: unknown) => e)) as SlicePixelError;
      expect(error).toBeInstanceOf(SlicePixelError);
      expect(error.problem).toBe('unsupported');
      expect(error.message).toMatch(/pixel data in transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 cannot be decoded/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('a truncated file, a frame that does not exist and a missing file fail with their reason', async () => {
    await expect(loadSlice(path.join(PYDICOM_TEST_FILES, 'MR_truncated.dcm'))).rejects.toMatchObject({ problem: 'malformed' });
    await expect(loadSlice(path.join(PYDICOM_TEST_FILES, 'CT_small.dcm'), 1)).rejects.toMatchObject({ problem: 'frame-out-of-range', message: expect.stringContaining('the object has 1 frame') });
    await expect(loadSlice(path.join(PYDICOM_TEST_FILES, 'nope.dcm'))).rejects.toMatchObject({ problem: 'unreadable' });
  });
});
