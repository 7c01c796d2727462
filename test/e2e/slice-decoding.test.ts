// The slice-batch worker (renderer/src/cornerstone/slice-batch.worker.ts) against the image
// loader it stands in for: each file of pydicom's corpus loaded both ways in the same page,
// through the worker and through dicom-image-loader's own path (its naturalized metadata from
// the file, its decode workers), asked the way the stack view asks (no buffer type) and the way
// a volume asks (its buffer type). A file the worker decodes must give the loader's image
// exactly (every pixel, the value range, rescale, window, the metadata modules), and the values
// an independent decoder reads (pydicom, DCMTK) where there is one; a file it does not cover must
// come back for the loader, with the reason.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult, SeriesDetail } from '../../electron/common/dicom-model.ts';
import type { DecodePathsReport, MrTestGlobal } from '../../renderer/src/test-hook-types.ts';
import { PYDICOM_TEST_FILES, requireDir } from '../host/real-parts.ts';
import { launchChromium, openApp, startWorkstation } from './harness.ts';
import { referenceImage, type ReferenceDecoder } from './reference-pixels.ts';

type Asked = Parameters<NonNullable<NonNullable<MrTestGlobal['__mrTest']>['decodePaths']>>[1];

let browser: Browser;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** Imports one file into a fresh workstation (the corpus reuses UIDs) and loads its first image both ways for each way of asking. */
async function bothWays(fileName: string, asks: Asked[]): Promise<DecodePathsReport[]> {
  const workstation = await startWorkstation();
  try {
    const imported = (await workstation.call('dicom.import', { jobId: 'decode', paths: [path.join(PYDICOM_TEST_FILES, fileName)] })) as ImportResult;
    const seriesKey = imported.seriesKeys[0];
    if (!seriesKey) throw new Error(`${fileName} was not imported`);
    const detail = (await workstation.call('dicom.series', { seriesKey })) as SeriesDetail;
    const fileKey = detail.slices[0]?.fileKey;
    if (!fileKey) throw new Error(`${fileName} has no slice`);
    const app = await openApp(browser, workstation.server);
    try {
      await app.page.waitForFunction(() => (globalThis as MrTestGlobal).__mrTest?.appPhase() === 'ready');
      const reports: DecodePathsReport[] = [];
      for (const asked of asks) {
        reports.push(
          await app.page.evaluate(([key, how]) => {
            const probe = (globalThis as MrTestGlobal).__mrTest?.decodePaths;
            if (!probe) throw new Error('the page has no decodePaths hook');
            return probe(key, how);
          }, [fileKey, asked] as const),
        );
      }
      return reports;
    } finally {
      await app.close();
    }
  } finally {
    await workstation.close();
  }
}

const STACK: Asked = { targetType: null, preScale: true };
const FLOAT_VOLUME: Asked = { targetType: 'Float32Array', preScale: true };

type DecodedCase = {
  file: string;
  syntax: string;
  asks: Asked[];
  /** The independent decoder of this syntax, or null where none runs outside the browser (JPEG 2000). */
  reference: ReferenceDecoder | null;
  /**
   * The file's Pixel Data is longer than its one frame: dicom-image-loader's image keeps the
   * padding as extra pixels (4160 values for 64×64); the worker's holds the frame alone, as
   * pydicom reads it. Judged by pydicom only.
   */
  padded?: boolean;
  /** Lossy JPEG: two conforming decoders may round the inverse DCT apart by a level here and there. */
  lossy?: boolean;
};

const decodedHere: DecodedCase[] = [
  { file: 'CT_small.dcm', syntax: 'Explicit VR Little Endian, CT with a rescale', asks: [STACK, { targetType: 'Int16Array', preScale: true }, FLOAT_VOLUME], reference: 'pydicom' },
  { file: 'MR_small.dcm', syntax: 'Explicit VR Little Endian', asks: [STACK, { targetType: 'Int16Array', preScale: true }, FLOAT_VOLUME], reference: 'pydicom' },
  { file: 'MR_small_implicit.dcm', syntax: 'Implicit VR Little Endian', asks: [STACK, FLOAT_VOLUME], reference: 'pydicom' },
  { file: 'MR_small_bigendian.dcm', syntax: 'Explicit VR Big Endian', asks: [STACK, FLOAT_VOLUME], reference: 'pydicom' },
  { file: 'MR_small_RLE.dcm', syntax: 'RLE Lossless', asks: [STACK, FLOAT_VOLUME], reference: 'pydicom' },
  { file: 'MR_small_jpeg_ls_lossless.dcm', syntax: 'JPEG-LS Lossless', asks: [STACK, FLOAT_VOLUME], reference: 'dcmdjpls' },
  { file: 'MR_small_jp2klossless.dcm', syntax: 'JPEG 2000 Lossless', asks: [STACK, FLOAT_VOLUME], reference: null },
  { file: 'JPGExtended.dcm', syntax: 'JPEG Extended 12-bit', asks: [STACK, FLOAT_VOLUME], reference: 'dcmdjpeg', lossy: true },
  { file: '693_J2KI.dcm', syntax: 'JPEG 2000, 14-bit CT', asks: [STACK, { targetType: 'Int16Array', preScale: true }, FLOAT_VOLUME], reference: null },
  { file: 'MR_small_padded.dcm', syntax: 'Explicit VR Little Endian, Pixel Data longer than the frame', asks: [STACK], reference: 'pydicom', padded: true },
];

/** Sum, minimum and maximum of the first frame's modality values as the independent decoder reads them. */
function referenceValues(file: string, decoder: ReferenceDecoder): { count: number; sum: number; min: number; max: number } {
  const reference = referenceImage(path.join(PYDICOM_TEST_FILES, file), decoder);
  const slope = reference.rescaleSlope ?? 1;
  const intercept = reference.rescaleIntercept ?? 0;
  const result = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  for (const row of reference.pixels[0] as number[][]) {
    for (const stored of row) {
      const value = stored * slope + intercept;
      result.count++;
      result.sum += value;
      result.min = Math.min(result.min, value);
      result.max = Math.max(result.max, value);
    }
  }
  return result;
}

const handedBack: Array<{ file: string; reason: RegExp }> = [
  { file: 'image_dfl.dcm', reason: /deflated/ },
  { file: 'SC_rgb_jpeg_dcmtk.dcm', reason: /not monochrome/ },
  { file: 'SC_rgb_rle_2frame.dcm', reason: /multi-frame/ },
  { file: 'rtdose_1frame.dcm', reason: /RTDOSE scaling/ },
];

describe('slice-batch worker decoding', () => {
  for (const { file, syntax, asks, reference, padded, lossy } of decodedHere) {
    it(`${file} (${syntax}) decodes in the worker to the image loader's own image${reference ? ` and ${reference}'s values` : ''}`, async () => {
      const reports = await bothWays(file, asks);
      const independent = reference ? referenceValues(file, reference) : null;
      reports.forEach((report, index) => {
        const how = `${file}, asked ${JSON.stringify(asks[index])}`;
        expect(report.workerPath, how).toBe('decoded');
        expect(report.loader.length, `${how}: the loader's image has pixels`).toBeGreaterThan(0);
        if (padded) {
          expect(report.loader.length, `${how}: the loader keeps the padding`).toBeGreaterThan(independent?.count ?? 0);
        } else {
          expect(report.worker, how).toEqual(report.loader);
        }
        if (independent && asks[index]?.preScale) {
          const worker = report.worker;
          expect(worker?.length, `${how}: pixels`).toBe(independent.count);
          if (!worker) return;
          const [min, max] = [worker.fields['minPixelValue'] as number, worker.fields['maxPixelValue'] as number];
          if (lossy) {
            expect(Math.abs(worker.sum - independent.sum) / independent.count, `${how}: mean difference from ${reference}`).toBeLessThan(0.5);
            expect(Math.abs(min - independent.min), `${how}: smallest value`).toBeLessThanOrEqual(8);
            expect(Math.abs(max - independent.max), `${how}: largest value`).toBeLessThanOrEqual(8);
          } else {
            expect(worker.sum, `${how}: sum of the values`).toBeCloseTo(independent.sum, 3);
            expect(min, `${how}: smallest value`).toBeCloseTo(independent.min, 3);
            expect(max, `${how}: largest value`).toBeCloseTo(independent.max, 3);
          }
        }
      });
    });
  }

  for (const { file, reason } of handedBack) {
    it(`${file} goes back to the image loader (${reason.source})`, async () => {
      const [report] = await bothWays(file, [STACK]);
      expect(report?.workerPath).toMatch(/^handed back: /);
      expect(report?.workerPath).toMatch(reason);
      expect(report?.worker).toBeNull();
      expect(report?.loader.length).toBeGreaterThan(0);
    });
  }
});
