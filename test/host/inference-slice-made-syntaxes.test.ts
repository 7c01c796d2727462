// Compressed syntaxes the viewer decodes that pydicom 2.3's corpus has no file in: HTJ2K
// (1.2.840.10008.1.2.4.201/.202/.203), JPEG XL lossless (.110), JPEG-LS near-lossless (.81)
// and JPEG lossless (.57). Files are made here from corpus images: HTJ2K by OpenJPH's and
// JPEG XL by libjxl's encoder (lossless; pydicom 2.3 decodes neither, so the judge is
// pydicom's decoding of the source image, which a reversible code must give back exactly), JPEG-LS near-lossless by CharLS's encoder (judged
// by pydicom's own decoding of the made file: JPEG-LS decoding is exact by definition), and
// JPEG lossless by relabelling a process-14 selection-value-1 stream, valid under .57 too.
// `medreasoner segment` on the HTJ2K file gives the mask of the uncompressed source.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runSegmentCommand } from '../../electron/cli/commands/segment-command.ts';
import { loadSlice, type SlicePixels } from '../../electron/host/inference/slice-pixels.ts';
import { htj2k, jpegLsNearLossless, jpegXlLossless, SCRIPT, stored, wrap } from './made-files.ts';
import { pydicomFrames } from './pydicom-corpus.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDebianPythonModule, requireDir, requireExecutable } from './real-parts.ts';

requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom');
requireDebianPythonModule('gdcm', 'python3-gdcm');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mr-made-syntaxes-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** pydicom's values of `file`, frame 0, as the host's Float32. */
function judge(file: string): Float32Array {
  const reference = pydicomFrames([file]).get(file);
  if (!reference || 'error' in reference) throw new Error(`pydicom could not decode ${file}: ${reference && 'error' in reference ? reference.error : 'no answer'}`);
  return Float32Array.from(reference.frames[0]!);
}

function expectExactly(actual: SlicePixels, expected: Float32Array, what: string): void {
  expect(actual.pixels.length).toBe(expected.length);
  let mismatches = 0;
  for (let i = 0; i < expected.length; i++) if (actual.pixels[i] !== expected[i]) mismatches++;
  expect(mismatches, `${what}: pixels unlike pydicom's`).toBe(0);
}

const MR = path.join(PYDICOM_TEST_FILES, 'MR_small.dcm');
const RGB = path.join(PYDICOM_TEST_FILES, 'SC_rgb_rle.dcm');

describe('HTJ2K, made by OpenJPH, lossless: the source image exactly', () => {
  for (const [syntax, progression, label] of [
    ['1.2.840.10008.1.2.4.201', 0, 'HTJ2K Lossless (LRCP)'],
    ['1.2.840.10008.1.2.4.202', 2, 'HTJ2K Lossless RPCL'],
    ['1.2.840.10008.1.2.4.203', 0, 'HTJ2K (reversible code under the lossy syntax)'],
  ] as const) {
    test(`${label} ${syntax}: MR_small.dcm, signed 16-bit`, async () => {
      const file = wrap(dir, MR, await htj2k(stored(dir, MR), { progression, colourTransform: false }), syntax, 'MONOCHROME2', `mr-${syntax}`);
      expectExactly(await loadSlice(file), judge(MR), `${path.basename(file)}`);
    });
  }

  test('HTJ2K Lossless 1.2.840.10008.1.2.4.201 with the reversible colour transform (YBR_RCT): SC_rgb_rle.dcm', async () => {
    const file = wrap(dir, RGB, await htj2k(stored(dir, RGB), { progression: 0, colourTransform: true }), '1.2.840.10008.1.2.4.201', 'YBR_RCT', 'rgb-rct');
    const slice = await loadSlice(file);
    expect(slice.conversionNote).toMatch(/^YBR_RCT \(decoded to RGB by OpenJPH\)/);
    expectExactly(slice, judge(RGB), 'rgb-rct.dcm');
  });
});

describe('JPEG XL, made by libjxl, lossless: the source image exactly', () => {
  test('JPEG XL Lossless 1.2.840.10008.1.2.4.110: MR_small.dcm', async () => {
    const file = wrap(dir, MR, await jpegXlLossless(stored(dir, MR)), '1.2.840.10008.1.2.4.110', 'MONOCHROME2', 'mr-jxl');
    expectExactly(await loadSlice(file), judge(MR), 'mr-jxl.dcm');
  });
});

describe('medreasoner segment on HTJ2K', () => {
  /** The mask `segment` writes for the one file in a folder of its own, same prompts for every file. */
  async function mask(file: string): Promise<{ png: Buffer; area: number }> {
    const series = path.join(dir, 'series', path.basename(file));
    mkdirSync(series, { recursive: true });
    copyFileSync(file, path.join(series, path.basename(file)));
    const png = path.join(dir, `${path.basename(file)}.png`);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSegmentCommand(['--series', series, '--slice', '0', '--box', '16,16,47,47', '--point', '32,32', '--out', png, '--json', '--models', path.join(dir, 'no-models')], { out: (s) => out.push(s), err: (s) => err.push(s) });
    expect(err.join('\n')).toBe('');
    expect(code).toBe(0);
    return { png: readFileSync(png), area: JSON.parse(out.join('')).mask.area };
  }

  test('1.2.840.10008.1.2.4.201: the mask of the uncompressed MR_small.dcm', async () => {
    const file = wrap(dir, MR, await htj2k(stored(dir, MR), { progression: 0, colourTransform: false }), '1.2.840.10008.1.2.4.201', 'MONOCHROME2', 'mr-cli-htj2k');
    const [fromHtj2k, fromNative] = [await mask(file), await mask(MR)];
    expect(fromHtj2k.area).toBeGreaterThan(0);
    expect(fromHtj2k.area).toBe(fromNative.area);
    expect(fromHtj2k.png.equals(fromNative.png)).toBe(true);
  });
});

describe('JPEG-LS near-lossless, made by CharLS (NEAR = 3)', () => {
  test('1.2.840.10008.1.2.4.81: MR_small.dcm gives pydicom\'s decoding of the made file exactly, within NEAR of the source', async () => {
    const near = 3;
    const file = wrap(dir, MR, await jpegLsNearLossless(stored(dir, MR), near), '1.2.840.10008.1.2.4.81', 'MONOCHROME2', 'mr-jls-near');
    const slice = await loadSlice(file);
    expectExactly(slice, judge(file), 'mr-jls-near.dcm');
    const source = judge(MR);
    let worst = 0;
    let changed = 0;
    for (let i = 0; i < source.length; i++) {
      const d = Math.abs(slice.pixels[i]! - source[i]!);
      worst = Math.max(worst, d);
      if (d > 0) changed++;
    }
    expect(worst).toBeLessThanOrEqual(near);
    expect(changed, 'near-lossless coding changed some pixels (else the test proves nothing)').toBeGreaterThan(0);
  });
});

describe('JPEG Lossless, process 14 (1.2.840.10008.1.2.4.57)', () => {
  test('SC_rgb_jpeg_gdcm.dcm relabelled from SV1 (.70) to .57: pydicom\'s values exactly', async () => {
    const file = path.join(dir, 'rgb-57.dcm');
    execFileSync(DEBIAN_PYTHON, ['-c', SCRIPT, '--relabel', path.join(PYDICOM_TEST_FILES, 'SC_rgb_jpeg_gdcm.dcm'), file, '1.2.840.10008.1.2.4.57']);
    expectExactly(await loadSlice(file), judge(file), 'rgb-57.dcm');
  });
});
