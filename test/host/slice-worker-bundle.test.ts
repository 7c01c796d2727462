// The Electron bundle's slice worker decodes every compressed syntax on its own: built by
// scripts/build-electron.ts, then copied with its codecs/ folder to a directory outside the
// checkout, where no node_modules can be found, and asked for one file per compressed
// syntax of pydicom's corpus, plus made HTJ2K and JPEG XL files (made-files.ts), the two
// codecs the corpus cannot reach. Its pixels must be the ones the source decodes.
// The same build's inference process entry is forked and answers a segment request on the
// tiny models through the service's channel.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isDecodableSyntax, isNativePixelSyntax, transferSyntaxName } from '../../electron/host/dicom/transfer-syntaxes.ts';
import { CODEC_ASSETS } from '../../electron/host/inference/pixel-codecs.ts';
import { forkInferenceChild } from '../../electron/host/inference/inference-child.ts';
import { InferenceService } from '../../electron/host/inference/inference-service.ts';
import { TINY_ASM_ID, writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import { loadSlice, type SlicePixels } from '../../electron/host/inference/slice-pixels.ts';
import type { SliceWorkerReply } from '../../electron/host/inference/slice-worker-client.ts';
import { htj2k, jpegXlLossless, stored, wrap } from './made-files.ts';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES, requireDir, requireExecutable } from './real-parts.ts';

requireDir(PYDICOM_TEST_FILES, "pydicom's test files");
requireExecutable(DEBIAN_PYTHON, 'Debian python3 with pydicom');

const root = path.resolve(import.meta.dirname, '../..');
let outside: string;
let worker: Worker;

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'scripts/build-electron.ts')], { cwd: root, stdio: 'ignore' });
  outside = mkdtempSync(path.join(tmpdir(), 'mr-bundle-'));
  cpSync(path.join(root, 'dist/electron/slice-worker.js'), path.join(outside, 'slice-worker.js'));
  cpSync(path.join(root, 'dist/electron/codecs'), path.join(outside, 'codecs'), { recursive: true });
  worker = new Worker(path.join(outside, 'slice-worker.js'));
}, 120_000);

afterAll(async () => {
  await worker?.terminate();
  if (outside) rmSync(outside, { recursive: true, force: true });
});

function decodeInBundle(file: string, frame: number): Promise<SlicePixels> {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 1e9);
    const onMessage = (reply: SliceWorkerReply) => {
      if (reply.id !== id) return;
      worker.off('message', onMessage);
      if (reply.ok) resolve(reply.slice);
      else reject(new Error(reply.message));
    };
    worker.on('message', onMessage);
    worker.postMessage({ id, path: file, frame });
  });
}

/** One file per compressed syntax pydicom's corpus has: the first by name that the source decodes. */
async function onePerSyntax(): Promise<Array<{ syntax: string; path: string }>> {
  const out = execFileSync(DEBIAN_PYTHON, [path.join(import.meta.dirname, 'pydicom-frames.py'), '--list', PYDICOM_TEST_FILES], { encoding: 'utf8' });
  const files = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { path: string; syntax: string })
    .filter((f) => !isNativePixelSyntax(f.syntax) && isDecodableSyntax(f.syntax))
    .sort((a, b) => a.path.localeCompare(b.path));
  const chosen = new Map<string, string>();
  for (const f of files) {
    if (!chosen.has(f.syntax) && (await loadSlice(f.path).then(() => true, () => false))) chosen.set(f.syntax, f.path);
  }
  return [...chosen].map(([syntax, file]) => ({ syntax, path: file }));
}

const samples = await onePerSyntax();

describe('the bundled slice worker', () => {
  test('ships every codec asset next to itself', () => {
    for (const name of Object.keys(CODEC_ASSETS)) expect(existsSync(path.join(root, 'dist/electron/codecs', name)), name).toBe(true);
  });

  for (const [syntax, make] of [
    ['1.2.840.10008.1.2.4.201', (image: ReturnType<typeof stored>) => htj2k(image, { progression: 0, colourTransform: false })],
    ['1.2.840.10008.1.2.4.110', jpegXlLossless],
  ] as const) {
    test(`decodes ${transferSyntaxName(syntax)} (${syntax}) outside the checkout: made from MR_small.dcm`, async () => {
      const source = path.join(PYDICOM_TEST_FILES, 'MR_small.dcm');
      const file = wrap(outside, source, await make(stored(outside, source)), syntax, 'MONOCHROME2', `made-${syntax}`);
      const [bundled, fromSource] = await Promise.all([decodeInBundle(file, 0), loadSlice(file, 0)]);
      expect(Buffer.from(bundled.pixels.buffer).equals(Buffer.from(fromSource.pixels.buffer))).toBe(true);
    });
  }

  for (const { syntax, path: file } of samples) {
    test(`decodes ${transferSyntaxName(syntax)} (${syntax}) outside the checkout: ${path.basename(file)}`, async () => {
      const [bundled, source] = await Promise.all([decodeInBundle(file, 0), loadSlice(file, 0)]);
      expect([bundled.width, bundled.height]).toEqual([source.width, source.height]);
      expect(bundled.conversionNote).toBe(source.conversionNote);
      expect(Buffer.from(bundled.pixels.buffer).equals(Buffer.from(source.pixels.buffer))).toBe(true);
    });
  }
});

describe('the bundled inference process', () => {
  test('is its own entry of the build and answers through the same channel', async () => {
    const bundle = pathToFileURL(path.join(root, 'dist/electron/inference-process.js'));
    const modelsDir = path.join(outside, 'models');
    await writeTinyModels(modelsDir);
    const entries: string[] = [];
    const service = new InferenceService({
      models: { dir: modelsDir, source: 'option' },
      provider: { provider: 'cpu', reason: 'tests run on the CPU', probe: { attempted: false, error: null, ms: 0 } },
      launcher: (entry) => {
        entries.push(path.basename(entry.pathname));
        return forkInferenceChild(bundle);
      },
    });
    try {
      const width = 64;
      const pixels = new Float32Array(width * width).map((_, i) => (i % 97) - 40);
      const result = await service.segment({ jobId: 'bundle', slice: { seriesKey: 's', sliceIndex: 0, width, height: width, pixels, invert: false }, box: [4, 4, 40, 40], points: [] });
      expect(result.segmenter).toMatchObject({ id: TINY_ASM_ID });
      expect(result.mask.area).toBeGreaterThan(0);
      // From source the service asks for the .ts entry; the bundle carries the same name.
      expect(entries).toEqual(['inference-process.ts']);
    } finally {
      await service.dispose();
    }
  }, 120_000);
});
