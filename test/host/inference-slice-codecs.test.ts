// Compressed slices decoded in the host, held against pydicom (Debian's python3-pydicom,
// which decodes JPEG / JPEG-LS / JPEG 2000 through python3-gdcm and RLE itself): every
// file of pydicom's corpus in every compressed transfer syntax the viewer decodes, every
// frame. Lossless syntaxes must give pydicom's values exactly; lossy ones may differ by
// what two conforming decoders may differ by (see LOSSY_TOLERANCE).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { isDecodableSyntax, isNativePixelSyntax, transferSyntaxName } from '../../electron/host/dicom/transfer-syntaxes.ts';
import { loadSlice, SlicePixelError } from '../../electron/host/inference/slice-pixels.ts';
import { corpus, LOSSLESS, pydicomFrames, type CorpusFile } from './pydicom-corpus.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDebianPythonModule, requireDir, requireExecutable } from './real-parts.ts';

requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom');
requireDebianPythonModule('pydicom', 'python3-pydicom');
// pydicom 2.3 decodes JPEG, JPEG-LS and JPEG 2000 only through a plug-in: GDCM's.
requireDebianPythonModule('gdcm', 'python3-gdcm');

/**
 * Lossy syntaxes leave the inverse transform's arithmetic to the decoder: JPEG's IDCT only
 * has to be accurate to one level per sample (ISO/IEC 10918-2, the IEEE 1180 peak error),
 * and its colour conversion is the decoder's own; JPEG 2000's 9/7 wavelet is floating point.
 * So: at most one stored level apart per pixel, and few pixels that far (mean ≤ 0.15 level).
 * Measured: libjpeg-turbo and OpenJPEG give GDCM's values exactly; dicom-image-loader's
 * jpeg.js (12-bit, and RGB streams left as stored) is one level off on 9% of the pixels of
 * JPGExtended.dcm. A wrong level shift or colour transform is off by tens of levels (the
 * 12-bit fix in electron/common/jpeg12-level-shift.ts was 15).
 */
const LOSSY_TOLERANCE = { maxLevels: 1, meanLevels: 0.15 };
/** The host's pixels are Float32: luminance near 255 carries about 1e-5 of rounding. */
const FLOAT32_SLACK = 1e-4;

/**
 * Files the host refuses with a specific SlicePixelError, and why pydicom is no judge there.
 */
const REFUSED: Record<string, RegExp> = {
  // Its only fragment holds 250 bytes of a 1024×256 16-bit codestream (pydicom's own fragment
  // reader agrees), cut off after the main header: GDCM fills the rest with memory garbage
  // (values −32668..32753, a quarter of them equal to JPEG2000.dcm, of which it is a copy).
  'JPEG2000-embedded-sequence-delimiter.dcm': /JPEG 2000 \(1\.2\.840\.10008\.1\.2\.4\.91\) pixel data, frame 0 \(250 bytes\): OpenJPEG could not decode it/,
  // Implicit VR data set under an explicit-VR transfer syntax, with the JPEG as one defined-
  // length value instead of fragments: pydicom guesses its way through, dicom-parser (the
  // viewer's parser as well) stops.
  'SC_rgb_jpeg.dcm': /not a readable DICOM file \(dicomParser:parseDicomDataSetExplicit: buffer overrun\)/,
};

const files = corpus();
const compressed = files.filter((f) => !isNativePixelSyntax(f.syntax) && isDecodableSyntax(f.syntax));
const judged = compressed.filter((f) => !(path.basename(f.path) in REFUSED));
const references = pydicomFrames(judged.map((f) => f.path));

describe('the corpus covers the compressed syntaxes', () => {
  test('pydicom has files in several compressed transfer syntaxes, each judged here', () => {
    const syntaxes = new Set(compressed.map((f) => f.syntax));
    // RLE, JPEG baseline/extended/lossless SV1, JPEG-LS lossless, JPEG 2000 (lossless, lossy) in pydicom 2.3's corpus.
    expect(syntaxes.size).toBeGreaterThanOrEqual(7);
    for (const syntax of syntaxes) expect(judged.some((f) => f.syntax === syntax), `${syntax} has a file pydicom decodes`).toBe(true);
  });
});

const bySyntax = new Map<string, CorpusFile[]>();
for (const f of judged) bySyntax.set(f.syntax, [...(bySyntax.get(f.syntax) ?? []), f]);

for (const [syntax, group] of [...bySyntax].sort(([a], [b]) => a.localeCompare(b))) {
  const lossless = LOSSLESS.has(syntax);
  describe(`${transferSyntaxName(syntax)} (${syntax}) against pydicom, ${lossless ? 'exactly' : 'within decoder tolerance'}`, () => {
    for (const file of group) {
      const name = path.relative(PYDICOM_TEST_FILES, file.path);
      test(`${name}: ${file.frames} frame${file.frames === 1 ? '' : 's'}, ${file.photometric}`, async () => {
        const reference = references.get(file.path);
        if (!reference || 'error' in reference) throw new Error(`pydicom could not decode ${name}: ${reference && 'error' in reference ? reference.error : 'no answer'}`);
        expect(reference.frames).toHaveLength(file.frames);
        // Tolerances count the file's own steps: one stored level is RescaleSlope modality units.
        const level = Math.abs(file.rescaleSlope) || 1;
        for (let frame = 0; frame < file.frames; frame++) {
          const actual = await loadSlice(file.path, frame);
          const expected = reference.frames[frame]!;
          expect([actual.width, actual.height]).toEqual([reference.columns, reference.rows]);
          expect(actual.conversionNote === null).toBe(file.samplesPerPixel === 1);
          if (lossless) {
            // Same arithmetic on the same stored values: the host's Float32 is pydicom's float64, rounded.
            let mismatches = 0;
            let first = '';
            for (let i = 0; i < expected.length; i++) {
              if (actual.pixels[i] !== Math.fround(expected[i]!)) {
                if (mismatches++ === 0) first = `pixel ${i}: host ${actual.pixels[i]}, pydicom ${expected[i]}`;
              }
            }
            expect(mismatches, `${name} frame ${frame}: pixels unlike pydicom's (${first})`).toBe(0);
          } else {
            let worst = 0;
            let sum = 0;
            for (let i = 0; i < expected.length; i++) {
              const d = Math.abs(actual.pixels[i]! - expected[i]!) / level;
              worst = Math.max(worst, d);
              sum += d;
            }
            const mean = sum / expected.length;
            expect(worst, `${name} frame ${frame}: largest difference from pydicom, in stored levels (mean ${mean.toFixed(3)})`).toBeLessThanOrEqual(LOSSY_TOLERANCE.maxLevels + FLOAT32_SLACK);
            expect(mean, `${name} frame ${frame}: mean difference from pydicom, in stored levels`).toBeLessThanOrEqual(LOSSY_TOLERANCE.meanLevels);
          }
        }
      });
    }
  });
}

describe('compressed files the host refuses, with the reason', () => {
  for (const [name, message] of Object.entries(REFUSED)) {
    test(`${name} fails with a SlicePixelError that says why`, async () => {
      const file = compressed.find((f) => path.basename(f.path) === name);
      expect(file, `${name} is in the corpus`).toBeDefined();
      const error = (await loadSlice(file!.path).catch((e: unknown) => e)) as SlicePixelError;
      expect(error).toBeInstanceOf(SlicePixelError);
      expect(error.problem).toBe('malformed');
      expect(error.message).toMatch(message);
    });
  }
});

/**
 * Multi-frame encapsulation as PACS send it, made by pydicom from two different JPEG frames of
 * the corpus (frames A, B, A): with a Basic Offset Table or an empty one, one fragment per
 * frame or each frame split in three, and with an Extended Offset Table.
 */
const LAYOUT_SCRIPT = String.raw`
import sys, copy, pydicom
from pydicom.encaps import encapsulate, encapsulate_extended, generate_pixel_data_frame
a, b = (pydicom.dcmread(p) for p in sys.argv[1:3])
fa, fb = (next(generate_pixel_data_frame(d.PixelData)) for d in (a, b))
frames = [fa, fb, fa]
layouts = {
    "bot": lambda: encapsulate(frames, 1, True),
    "no-bot": lambda: encapsulate(frames, 1, False),
    "no-bot-split": lambda: encapsulate(frames, 3, False),
    "bot-split": lambda: encapsulate(frames, 3, True),
}
for name, make in list(layouts.items()) + [("eot", None)]:
    ds = copy.deepcopy(a)
    ds.NumberOfFrames = 3
    if make is None:
        data, offsets, lengths = encapsulate_extended(frames)
        ds.PixelData = data
        # OB, not the standard OV: dicom-parser 1.8.21 (the viewer's parser too) does not know
        # OV and overruns; the offsets are the same bytes either way.
        ds.add_new(0x7FE00001, "OB", offsets)
        ds.add_new(0x7FE00002, "OB", lengths)
    else:
        ds.PixelData = make()
    ds["PixelData"].is_undefined_length = True
    ds.save_as(f"{sys.argv[3]}/{name}.dcm")
`;

describe('multi-frame fragments', () => {
  const sources = ['SC_rgb_dcmtk_+eb+cy+n1.dcm', 'SC_rgb_jpeg_dcmtk.dcm'].map((name) => path.join(PYDICOM_TEST_FILES, name));

  test('offset tables, none, split frames: every frame is its own', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mr-fragments-'));
    try {
      execFileSync(DEBIAN_PYTHON, ['-c', LAYOUT_SCRIPT, ...sources, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      const [a, b] = await Promise.all(sources.map((file) => loadSlice(file)));
      expect(Buffer.from(a!.pixels.buffer).equals(Buffer.from(b!.pixels.buffer)), 'the two source frames differ').toBe(false);
      for (const layout of ['bot', 'no-bot', 'no-bot-split', 'bot-split', 'eot']) {
        for (const [frame, expected] of [a!, b!, a!].entries()) {
          const actual = await loadSlice(path.join(dir, `${layout}.dcm`), frame);
          expect(Buffer.from(actual.pixels.buffer).equals(Buffer.from(expected.pixels.buffer)), `${layout}, frame ${frame}`).toBe(true);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
