// Real DICOM files in every transfer syntax the workstation claims, imported through
// dicom.import and drawn by the viewer in Chromium. Each is held against an independent
// decode (pydicom, or DCMTK for the JPEG family); the MR_small family — one dataset
// saved in six syntaxes — must show the same pixels in every one of them.
// pydicom's corpus reuses SOP Instance UIDs across these files, so each file gets its
// own host (one index) while the browser is shared.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import {
  launchChromium,
  openApp,
  openSeriesFromBrowser,
  sampleImagePixels,
  screenshotViewport,
  startWorkstation,
  viewportState,
  waitForQuietViewport,
  waitForRenderedSlice,
  type SampledImage,
  type SampledPixel,
} from './harness.ts';
import { distanceOutside, expectedDisplayRange, referenceImage, type ReferenceDecoder, type ReferenceImage } from './reference-pixels.ts';

type ImportAnswer = { seriesKeys: string[]; problems: Array<{ path: string; reason: string; detail: string }> };

interface Rendered {
  /** Screen colour at sampled image pixel centres, per frame shown. */
  frames: SampledImage[];
  windowCenter: number;
  windowWidth: number;
  imageCount: number;
  shots: string[];
}

let browser: Browser;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** Imports one file into a fresh workstation, opens it from the study browser and samples every slice. */
async function renderFile(fileName: string, reference: Pick<ReferenceImage, 'rows' | 'columns'>): Promise<Rendered> {
  const workstation = await startWorkstation();
  try {
    const imported = (await workstation.call('dicom.import', { jobId: 'ts', paths: [path.join(PYDICOM_TEST_FILES, fileName)] })) as ImportAnswer;
    expect(imported.problems, `import problems for ${fileName}`).toEqual([]);
    expect(imported.seriesKeys).toHaveLength(1);
    const seriesKey = imported.seriesKeys[0] as string;

    // Large enough that every image here is magnified: pixel centres then show their own value.
    const app = await openApp(browser, workstation.server, { width: 1600, height: 1250 });
    try {
      const first = await openSeriesFromBrowser(app.page, seriesKey);
      const rendered: Rendered = { frames: [], windowCenter: 0, windowWidth: 0, imageCount: first.imageCount, shots: [] };
      await app.page.getByTestId('viewport').focus();
      await app.page.keyboard.press('Home');
      for (let index = 0; index < first.imageCount; index++) {
        if (index > 0) await app.page.keyboard.press('ArrowDown');
        await waitForRenderedSlice(app.page, (state) => state.imageIndex === index, `slice ${index + 1} of ${fileName}`);
        const state = await waitForQuietViewport(app.page);
        const shot = await screenshotViewport(app.page, `ts-${fileName.replace(/\.dcm$/, '')}${first.imageCount > 1 ? `-${index + 1}` : ''}`);
        rendered.shots.push(shot.file);
        rendered.frames.push(await sampleImagePixels(app.page, shot, reference.columns, reference.rows));
        rendered.windowCenter = state.windowCenter ?? Number.NaN;
        rendered.windowWidth = state.windowWidth ?? Number.NaN;
      }
      expect(app.problems.filter((p) => /Refused to|Content Security Policy/i.test(p)), 'CSP violations').toEqual([]);
      expect((await viewportState(app.page)).error).toBeNull();
      return rendered;
    } finally {
      await app.close();
    }
  } finally {
    await workstation.close();
  }
}

interface Agreement {
  meanDistance: number;
  /** Share of sampled pixels more than 8 levels outside what the reference allows. */
  outlierFraction: number;
  outliers: string;
}

/** Screen against reference decode, allowing for sub-pixel interpolation of the magnified image. */
function agreementWithReference(sampled: SampledImage, reference: ReferenceImage, frame: number, windowCenter: number, windowWidth: number): Agreement {
  if (!(sampled.magnification >= 1)) throw new Error(`the image must be magnified on screen for this comparison (magnification ${sampled.magnification})`);
  const reach = 0.5 / sampled.magnification;
  let sum = 0;
  const outliers: string[] = [];
  for (const { column, row, rgb } of sampled.samples) {
    const range = expectedDisplayRange(reference, frame, row, column, windowCenter, windowWidth, reach);
    const distance = distanceOutside(rgb, range);
    sum += distance;
    if (distance > 8) outliers.push(`(${column},${row}) screen ${rgb.join('/')} expected ${range.low.map(Math.round).join('/')}–${range.high.map(Math.round).join('/')}`);
  }
  return { meanDistance: sum / sampled.samples.length, outlierFraction: outliers.length / sampled.samples.length, outliers: outliers.slice(0, 6).join('; ') };
}

/** The rendering must show structure, not a flat or empty field. */
function expectNotBlank(samples: SampledPixel[], what: string): void {
  const greys = samples.map(({ rgb }) => 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]);
  const mean = greys.reduce((a, b) => a + b, 0) / greys.length;
  const stdDev = Math.sqrt(greys.reduce((a, b) => a + (b - mean) ** 2, 0) / greys.length);
  const levels = new Set(greys.map(Math.round)).size;
  expect(stdDev, `${what}: contrast of the rendered image`).toBeGreaterThan(10);
  expect(levels, `${what}: distinct grey levels`).toBeGreaterThan(8);
}

const cases: Array<{ file: string; syntax: string; decoder: ReferenceDecoder | null; /** Largest mean distance from the reference, grey levels. */ tolerance: number }> = [
  { file: 'MR_small.dcm', syntax: 'Explicit VR Little Endian', decoder: 'pydicom', tolerance: 1 },
  { file: 'MR_small_implicit.dcm', syntax: 'Implicit VR Little Endian', decoder: 'pydicom', tolerance: 1 },
  { file: 'MR_small_bigendian.dcm', syntax: 'Explicit VR Big Endian', decoder: 'pydicom', tolerance: 1 },
  { file: 'MR_small_RLE.dcm', syntax: 'RLE Lossless', decoder: 'pydicom', tolerance: 1 },
  { file: 'MR_small_jpeg_ls_lossless.dcm', syntax: 'JPEG-LS Lossless', decoder: 'dcmdjpls', tolerance: 1 },
  // No JPEG 2000 decoder outside the browser here: held against its uncompressed original.
  { file: 'MR_small_jp2klossless.dcm', syntax: 'JPEG 2000 Lossless', decoder: null, tolerance: 1 },
  { file: 'image_dfl.dcm', syntax: 'Deflated Explicit VR Little Endian', decoder: 'pydicom', tolerance: 1 },
  { file: 'JPGExtended.dcm', syntax: 'JPEG Extended 12-bit', decoder: 'dcmdjpeg', tolerance: 2 },
  { file: 'JPEG-lossy.dcm', syntax: 'JPEG Extended 12-bit (malformed SOS)', decoder: 'dcmdjpeg', tolerance: 2 },
  { file: 'SC_rgb_jpeg_dcmtk.dcm', syntax: 'JPEG Baseline, YBR_FULL colour', decoder: 'dcmdjpeg', tolerance: 3 },
  { file: 'SC_rgb_jpeg_gdcm.dcm', syntax: 'JPEG Lossless SV1, RGB', decoder: 'dcmdjpeg', tolerance: 1 },
  { file: 'SC_rgb_rle_2frame.dcm', syntax: 'RLE Lossless, RGB, 2 frames', decoder: 'pydicom', tolerance: 1 },
  { file: 'JPEG2000.dcm', syntax: 'JPEG 2000', decoder: null, tolerance: 0 },
  { file: '693_J2KI.dcm', syntax: 'JPEG 2000 (14-bit CT)', decoder: null, tolerance: 0 },
];

const MR_SMALL_FAMILY = new Set(['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'MR_small_jp2klossless.dcm']);

describe('transfer syntaxes render in the viewer', () => {
  const mrSmallRenders = new Map<string, SampledPixel[]>();
  const mrSmallReference = (): ReferenceImage => referenceImage(path.join(PYDICOM_TEST_FILES, 'MR_small.dcm'), 'pydicom');

  for (const testCase of cases) {
    it(`${testCase.file} (${testCase.syntax})`, async () => {
      const file = path.join(PYDICOM_TEST_FILES, testCase.file);
      const reference = testCase.decoder
        ? referenceImage(file, testCase.decoder)
        : MR_SMALL_FAMILY.has(testCase.file)
          ? mrSmallReference()
          : null;
      // Without a reference the grid still needs the matrix size: take it from the host's index.
      const size = reference ?? matrixSizeOf(file);
      const rendered = await renderFile(testCase.file, size);

      expect(rendered.imageCount).toBe(reference?.frames ?? rendered.imageCount);
      rendered.frames.forEach((sampled, frame) => expectNotBlank(sampled.samples, `${testCase.file} frame ${frame + 1}`));

      if (reference) {
        if (reference.windowCenter !== null && reference.windowWidth !== null) {
          // The file's own window is what the viewer opens with.
          expect(rendered.windowCenter).toBeCloseTo(reference.windowCenter, 3);
          expect(rendered.windowWidth).toBeCloseTo(reference.windowWidth, 3);
        }
        rendered.frames.forEach((sampled, frame) => {
          const result = agreementWithReference(sampled, reference, frame, rendered.windowCenter, rendered.windowWidth);
          expect(result.meanDistance, `${testCase.file} frame ${frame + 1}: mean distance from the reference decode (${rendered.shots[frame]})`).toBeLessThan(testCase.tolerance);
          expect(result.outlierFraction, `${testCase.file} frame ${frame + 1}: pixels far from the reference: ${result.outliers}`).toBeLessThan(0.01);
        });
      }
      if (MR_SMALL_FAMILY.has(testCase.file)) mrSmallRenders.set(testCase.file, rendered.frames[0]?.samples ?? []);
    });
  }

  it('shows the MR_small family identically in all six syntaxes', () => {
    const baseline = mrSmallRenders.get('MR_small.dcm');
    expect(baseline, 'MR_small.dcm must have rendered first').toBeDefined();
    expect([...mrSmallRenders.keys()].sort()).toEqual([...MR_SMALL_FAMILY].sort());
    for (const [file, samples] of mrSmallRenders) {
      expect(samples.length).toBe(baseline?.length);
      const twins = new Map((baseline ?? []).map((sample) => [`${sample.column},${sample.row}`, sample.rgb]));
      let largest = 0;
      for (const { column, row, rgb } of samples) {
        const twin = twins.get(`${column},${row}`);
        if (!twin) throw new Error(`${file}: no MR_small.dcm sample at (${column}, ${row})`);
        largest = Math.max(largest, ...rgb.map((value, channel) => Math.abs(value - (twin[channel] ?? 0))));
      }
      expect(largest, `${file} vs MR_small.dcm: largest screen difference`).toBeLessThanOrEqual(1);
    }
  });
});

/** Rows and columns from the file header, read by pydicom without decoding pixels. */
function matrixSizeOf(file: string): { rows: number; columns: number } {
  const out = execFileSync(DEBIAN_PYTHON, ['-c', 'import sys, pydicom; d = pydicom.dcmread(sys.argv[1], stop_before_pixels=True); print(d.Rows, d.Columns)', file], { encoding: 'utf8' });
  const [rows, columns] = out.trim().split(/\s+/).map(Number);
  if (!rows || !columns) throw new Error(`could not read Rows/Columns of ${file}: ${out}`);
  return { rows, columns };
}
