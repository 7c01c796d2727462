// `medreasoner ask` (tiny models) and `medreasoner segment` on pydicom's compressed test
// files: every compressed syntax of the corpus the viewer decodes, each file in a folder of
// its own (the corpus reuses UIDs across files, so a shared folder would be one series).
// Lossless files with an uncompressed twin in the corpus — the same pixels, as pydicom decodes
// both; found here, not named — must give the twin's mask exactly, the same prompts on both.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAskCommand } from '../../electron/cli/commands/ask-command.ts';
import { runSegmentCommand } from '../../electron/cli/commands/segment-command.ts';
import { isDecodableSyntax, isNativePixelSyntax, transferSyntaxName } from '../../electron/host/dicom/transfer-syntaxes.ts';
import { loadSlice } from '../../electron/host/inference/slice-pixels.ts';
import { writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import { corpus, LOSSLESS, pydicomFrames, type CorpusFile } from './pydicom-corpus.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDebianPythonModule, requireDir, requireExecutable } from './real-parts.ts';

requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom');
requireDebianPythonModule('gdcm', 'python3-gdcm');

const files = corpus();
/** The compressed files the host decodes (the refused ones are inference-slice-codecs.test.ts's subject). */
const compressed: CorpusFile[] = [];
for (const f of files.filter((f) => !isNativePixelSyntax(f.syntax) && isDecodableSyntax(f.syntax))) {
  if (await loadSlice(f.path).then(() => true, () => false)) compressed.push(f);
}
const bySyntax = new Map<string, CorpusFile[]>();
for (const f of compressed) bySyntax.set(f.syntax, [...(bySyntax.get(f.syntax) ?? []), f]);

/** Each lossless compressed file and the first native file (by path) pydicom decodes to the same values. */
function twins(): Array<{ compressed: CorpusFile; native: CorpusFile }> {
  const natives = files.filter((f) => isNativePixelSyntax(f.syntax));
  const lossless = compressed.filter((f) => LOSSLESS.has(f.syntax));
  const decoded = pydicomFrames([...natives, ...lossless].map((f) => f.path));
  const key = (file: CorpusFile): string | null => {
    const r = decoded.get(file.path);
    if (!r || 'error' in r) return null;
    return `${r.rows}x${r.columns}:${r.frames.map((frame) => Buffer.from(frame.buffer).toString('base64')).join('|')}`;
  };
  const nativeByPixels = new Map<string, CorpusFile>();
  for (const n of [...natives].sort((a, b) => a.path.localeCompare(b.path))) {
    const k = key(n);
    if (k && !nativeByPixels.has(k)) nativeByPixels.set(k, n);
  }
  return lossless.flatMap((c) => {
    const k = key(c);
    const native = k ? nativeByPixels.get(k) : undefined;
    return native ? [{ compressed: c, native }] : [];
  });
}
const pairs = twins();

let root: string;
let modelsDir: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'mr-cli-compressed-'));
  modelsDir = path.join(root, 'models');
  // The corpus has 3×3 to 1024×256 images; the smallest picture the processor makes is
  // 56×56 (min_pixels), so the tiny CRM's scripted box lies inside every picture it sees.
  await writeTinyModels(modelsDir, {
    crm: { answer: "<think>A small structure near the centre.</think><answer>{'bbox': [8, 10, 44, 46], 'points_1': [20, 24], 'points_2': [30, 34]}</answer>" },
  });
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

/** A folder holding only `file`: one series. */
function folderOf(file: string, tag: string): string {
  const dir = path.join(root, 'series', `${tag}-${path.basename(file)}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(file, path.join(dir, path.basename(file)));
  return dir;
}

/** The middle slice (frame) and a box over the middle half of the image, with a positive point at its centre. */
async function prompts(file: CorpusFile): Promise<{ slice: number; box: string; point: string }> {
  const slice = Math.floor(file.frames / 2);
  const { width, height } = await loadSlice(file.path, slice);
  const x0 = Math.floor(width / 4);
  const y0 = Math.floor(height / 4);
  const x1 = Math.max(x0, Math.ceil((3 * width) / 4) - 1);
  const y1 = Math.max(y0, Math.ceil((3 * height) / 4) - 1);
  return { slice, box: `${x0},${y0},${x1},${y1}`, point: `${Math.floor(width / 2)},${Math.floor(height / 2)}` };
}

async function segment(file: CorpusFile, tag: string): Promise<{ mask: Uint8Array; json: { mask: { width: number; height: number; area: number } } }> {
  const { slice, box, point } = await prompts(file);
  const png = path.join(root, `${tag}-${path.basename(file.path)}.png`);
  const c = capture();
  const code = await runSegmentCommand(['--series', folderOf(file.path, tag), '--slice', String(slice), '--box', box, '--point', point, '--out', png, '--json', '--models', path.join(root, 'no-models')], c.io);
  expect(c.err.join('\n')).toBe('');
  expect(code).toBe(0);
  const image = decode(readFileSync(png));
  return { mask: Uint8Array.from(image.data as Uint8Array, (v) => (v > 0 ? 1 : 0)), json: JSON.parse(c.out.join('')) };
}

describe('medreasoner segment on compressed series', () => {
  test('the corpus has compressed files to run on, and twins for the lossless ones', () => {
    expect(bySyntax.size).toBeGreaterThanOrEqual(7);
    expect(pairs.length).toBeGreaterThanOrEqual(3);
  });

  // One file per syntax (the first by path): that every file decodes is inference-slice-codecs.test.ts's.
  for (const [syntax, group] of [...bySyntax].sort(([a], [b]) => a.localeCompare(b))) {
    const file = group[0]!;
    test(`${transferSyntaxName(syntax)} (${syntax}): ${path.basename(file.path)} gives a mask`, async () => {
      const { mask, json } = await segment(file, 'seg');
      const { width, height } = await loadSlice(file.path, Math.floor(file.frames / 2));
      expect([json.mask.width, json.mask.height]).toEqual([width, height]);
      expect(mask.reduce((a, b) => a + b, 0)).toBe(json.mask.area);
      expect(json.mask.area).toBeGreaterThan(0);
    });
  }

  for (const { compressed: c, native: n } of pairs) {
    test(`${path.basename(c.path)} (${transferSyntaxName(c.syntax)}) gives the mask of its uncompressed twin ${path.basename(n.path)}`, async () => {
      const fromCompressed = await segment(c, 'twin-c');
      const fromNative = await segment(n, 'twin-n');
      const { width, height, area } = fromNative.json.mask;
      expect(fromCompressed.json.mask).toMatchObject({ width, height, area });
      expect(Buffer.from(fromCompressed.mask).equals(Buffer.from(fromNative.mask))).toBe(true);
    });
  }
});

describe('medreasoner ask on compressed series (tiny models)', () => {
  for (const [syntax, group] of [...bySyntax].sort(([a], [b]) => a.localeCompare(b))) {
    const file = group[0]!;
    test(`${transferSyntaxName(syntax)} (${syntax}): ${path.basename(file.path)} gets an answer and a mask`, async () => {
      const c = capture();
      const code = await runAskCommand(['--series', folderOf(file.path, 'ask'), '--slice', String(Math.floor(file.frames / 2)), '--question', 'Where is the largest structure?', '--json', '--models', modelsDir], c.io);
      expect(c.err.join('\n')).toBe('');
      expect(code, c.out.join('').slice(0, 600)).toBe(0);
      const json = JSON.parse(c.out.join(''));
      expect(json.status, JSON.stringify(json).slice(0, 400)).toBe('ok');
      expect(json.mask.area).toBeGreaterThan(0);
    });
  }
});

describe('a compressed file the host cannot decode', () => {
  test('segment exits 1 with the decoder\'s reason, passed on from the slice worker', async () => {
    // The corpus's truncated JPEG 2000 (inference-slice-codecs.test.ts says why it is refused).
    const file = files.find((f) => path.basename(f.path) === 'JPEG2000-embedded-sequence-delimiter.dcm');
    expect(file, 'the truncated JPEG 2000 file is in the corpus').toBeDefined();
    const c = capture();
    const code = await runSegmentCommand(['--series', folderOf(file!.path, 'bad'), '--slice', '0', '--box', '10,10,100,100', '--models', path.join(root, 'no-models')], c.io);
    expect(code).toBe(1);
    expect(c.err.join('\n')).toMatch(/^medreasoner segment: .*JPEG2000-embedded-sequence-delimiter\.dcm: JPEG 2000 \(1\.2\.840\.10008\.1\.2\.4\.91\) pixel data, frame 0 \(250 bytes\): OpenJPEG could not decode it/);
  });
});

describe('the medreasoner command itself', () => {
  test('segment on a JPEG 2000 series, as a separate process through bin/medreasoner.js', async () => {
    const file = bySyntax.get('1.2.840.10008.1.2.4.90')?.[0] ?? bySyntax.get('1.2.840.10008.1.2.4.91')?.[0];
    expect(file, 'a JPEG 2000 file in the corpus').toBeDefined();
    const { slice, box } = await prompts(file!);
    const bin = path.resolve(import.meta.dirname, '../../bin/medreasoner.js');
    const result = spawnSync(process.execPath, [bin, 'segment', '--series', folderOf(file!.path, 'bin'), '--slice', String(slice), '--box', box, '--json', '--models', path.join(root, 'no-models')], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).mask.area).toBeGreaterThan(0);
  });
});
