// Model management: the models folder, manifests, install from a folder (copied, hashed,
// refused with a sentence naming the file when anything is off), verify, remove, and the
// resumable download behind --from-hub (against a local HTTP server with Range support).
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyModels, TINY_ASM_ID, TINY_CRM_ID } from '../../native-models/tiny/make-tiny-models.ts';
import { downloadFile, installFromHub } from '../../electron/host/models/hub-download.ts';
import { installFromFolder, ModelInstallError, removeModel, verifyInstalled } from '../../electron/host/models/install.ts';
import { readManifest, type ModelManifest } from '../../electron/host/models/manifest.ts';
import { knownManifests, listInstalled, MODELS_DIR_ENV, resolveModelsDir, selectModel } from '../../electron/host/models/registry.ts';
import { qwen25vlSignatures, QWEN25_VL_7B, sam2Signatures, signatureProblems } from '../../electron/host/models/signatures.ts';
import { runModelsCommand } from '../../electron/cli/commands/models-command.ts';

let root: string;
let exportDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'medreasoner-models-'));
  exportDir = path.join(root, 'export');
  await writeTinyModels(exportDir);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the models folder', () => {
  test('--models wins over MEDREASONER_MODELS, which wins over <data dir>/models', () => {
    const env = { [MODELS_DIR_ENV]: '/env/models', MEDREASONER_HOME: '/data' };
    expect(resolveModelsDir('/opt/models', env)).toEqual({ dir: path.resolve('/opt/models'), source: 'option' });
    expect(resolveModelsDir(undefined, env)).toEqual({ dir: path.resolve('/env/models'), source: 'environment' });
    expect(resolveModelsDir(undefined, { MEDREASONER_HOME: '/data' })).toEqual({ dir: path.join('/data', 'models'), source: 'default' });
    expect(resolveModelsDir(undefined, {}, '/host/data')).toEqual({ dir: path.join('/host/data', 'models'), source: 'default' });
  });

  test("the repository's manifests are valid and carry the signatures of the real exports", async () => {
    const known = await knownManifests();
    expect(known.map((m) => m.id).sort()).toEqual(['medreasoner-7b', 'medsam2']);
    const crm = known.find((m) => m.id === 'medreasoner-7b')!;
    expect(crm.sessions).toEqual(qwen25vlSignatures(QWEN25_VL_7B));
    expect(crm.defaultVariant).toEqual({ cpu: 'q4', cuda: 'fp16' });
    expect(crm.files.map((f) => f.path)).toEqual(expect.arrayContaining(['prompt.json', 'tokenizer_config.json', 'onnx/decoder_model_merged_fp16.onnx_data', 'onnx/decoder_model_merged_q4.onnx']));
    expect(known.find((m) => m.id === 'medsam2')!.sessions).toEqual(sam2Signatures(512));
  });

  test('signature check names missing and unexpected tensors', () => {
    const expected = sam2Signatures(512).vision_encoder!;
    expect(signatureProblems('vision_encoder', expected, { inputNames: ['pixel_values'], outputNames: ['image_embeddings.0', 'image_embeddings.1', 'image_embeddings.2'] })).toEqual([]);
    expect(signatureProblems('vision_encoder', expected, { inputNames: ['images'], outputNames: ['image_embeddings.0'] })).toEqual([
      'vision_encoder lacks input(s) pixel_values',
      'vision_encoder has unexpected input(s) images',
      'vision_encoder lacks output(s) image_embeddings.1, image_embeddings.2',
    ]);
  });
});

describe('install, verify, remove', () => {
  test('install copies, verifies and pins every file; the model is then usable and selected', async () => {
    const modelsDir = path.join(root, 'installed');
    const known = await knownManifests();
    const progress: number[] = [];
    const result = await installFromFolder({ id: TINY_CRM_ID, from: path.join(exportDir, TINY_CRM_ID), modelsDir, known, onProgress: (p) => progress.push(p.bytesDone) });
    expect(result.variants).toEqual(['fp32']);
    expect(progress.at(-1)).toBe(result.bytes);
    const installed = await listInstalled(modelsDir);
    expect(installed.map((m) => [m.id, m.usable])).toEqual([[TINY_CRM_ID, true]]);
    expect((await verifyInstalled(path.join(modelsDir, TINY_CRM_ID))).problems).toEqual([]);
    expect(selectModel(installed, 'crm', 'cpu')).toMatchObject({ id: TINY_CRM_ID, variant: 'fp32' });
    expect(selectModel(installed, 'asm', 'cpu')).toBeNull();
    // No staging folders left behind.
    expect((await readdir(modelsDir)).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await removeModel(modelsDir, TINY_CRM_ID)).toBe(true);
    expect(await listInstalled(modelsDir)).toEqual([]);
    expect(await removeModel(modelsDir, TINY_CRM_ID)).toBe(false);
  });

  async function damagedCopy(name: string, damage: (dir: string) => Promise<void>): Promise<string> {
    const dir = path.join(root, name);
    await writeTinyModels(dir);
    await damage(path.join(dir, TINY_ASM_ID));
    return path.join(dir, TINY_ASM_ID);
  }

  test('a missing file: refused, naming it and its expected size', async () => {
    const from = await damagedCopy('missing', (dir) => unlink(path.join(dir, 'onnx', 'vision_encoder.onnx_data')));
    const error = (await installFromFolder({ id: TINY_ASM_ID, from, modelsDir: path.join(root, 'm1'), known: [] }).catch((e: unknown) => e)) as ModelInstallError;
    expect(error).toBeInstanceOf(ModelInstallError);
    expect(error.problems.map((p) => p.kind)).toContain('missing');
    expect(error.message).toMatch(/onnx\/vision_encoder.onnx_data is missing \(expected .*bytes\)/);
  });

  test('a truncated file: refused as truncated', async () => {
    const from = await damagedCopy('truncated', (dir) => truncate(path.join(dir, 'onnx', 'prompt_encoder_mask_decoder.onnx'), 100));
    await expect(installFromFolder({ id: TINY_ASM_ID, from, modelsDir: path.join(root, 'm2'), known: [] })).rejects.toThrow(/prompt_encoder_mask_decoder.onnx is 100 B, expected .*truncated/);
  });

  test('a corrupt file (same size, other bytes): refused by sha256, nothing installed', async () => {
    const from = await damagedCopy('corrupt', async (dir) => {
      const file = path.join(dir, 'config.json');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace('"sam2"', '"samX"'));
    });
    const modelsDir = path.join(root, 'm3');
    await expect(installFromFolder({ id: TINY_ASM_ID, from, modelsDir, known: [] })).rejects.toThrow(/config.json has sha256 [0-9a-f]+, expected [0-9a-f]+: the file is corrupt/);
    expect(await listInstalled(modelsDir)).toEqual([]);
    expect((await readdir(modelsDir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  test('a folder for another model, or pinned differently from the app\u2019s manifest: refused', async () => {
    await expect(installFromFolder({ id: TINY_ASM_ID, from: path.join(exportDir, TINY_CRM_ID), modelsDir: path.join(root, 'm4'), known: [] })).rejects.toThrow(
      /describes model "medreasoner-tiny", not "medsam2-tiny"/,
    );
    const pinned = await readManifest(path.join(exportDir, TINY_ASM_ID, 'manifest.json'));
    const known: ModelManifest[] = [{ ...pinned, files: pinned.files.map((f) => (f.path === 'config.json' ? { ...f, sha256: '0'.repeat(64) } : f)) }];
    await expect(installFromFolder({ id: TINY_ASM_ID, from: path.join(exportDir, TINY_ASM_ID), modelsDir: path.join(root, 'm5'), known })).rejects.toThrow(/config.json .* pinned differently/);
  });

  test('a folder without manifest is installed against the app\u2019s manifest, hashes pinned at install', async () => {
    const from = path.join(root, 'bare');
    await writeTinyModels(from);
    const dir = path.join(from, TINY_ASM_ID);
    const pinned = await readManifest(path.join(dir, 'manifest.json'));
    await unlink(path.join(dir, 'manifest.json'));
    const known: ModelManifest[] = [{ ...pinned, files: pinned.files.map((f) => ({ ...f, sha256: null, size: null })) }];
    const notes: string[] = [];
    const modelsDir = path.join(root, 'm6');
    await installFromFolder({ id: TINY_ASM_ID, from: dir, modelsDir, known, onNote: (n) => notes.push(n) });
    expect(notes.some((n) => /had no sha256 in any manifest: pinned now/.test(n))).toBe(true);
    const installedManifest = await readManifest(path.join(modelsDir, TINY_ASM_ID, 'manifest.json'));
    expect(installedManifest.files.map((f) => f.sha256)).toEqual(pinned.files.map((f) => f.sha256));
  });

  test('verify reports a file corrupted after install; the CLI exits 1 and names it', async () => {
    const modelsDir = path.join(root, 'm7');
    await installFromFolder({ id: TINY_ASM_ID, from: path.join(exportDir, TINY_ASM_ID), modelsDir, known: [] });
    const file = path.join(modelsDir, TINY_ASM_ID, 'onnx', 'vision_encoder.onnx_data');
    const bytes = await readFile(file);
    bytes[5000] = bytes[5000]! ^ 1;
    await writeFile(file, bytes);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runModelsCommand(['verify', '--models', modelsDir], { out: (s) => out.push(s), err: (s) => err.push(s) });
    expect(code).toBe(1);
    expect(out.join('\n')).toMatch(/medsam2-tiny: 1 problem\(s\)\n {2}- onnx\/vision_encoder.onnx_data has sha256/);
  });

  test('models install / list / remove through the CLI', async () => {
    const modelsDir = path.join(root, 'cli');
    const io = () => {
      const lines: string[] = [];
      return { lines, io: { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) } };
    };
    const a = io();
    expect(await runModelsCommand(['install', TINY_ASM_ID, '--from', path.join(exportDir, TINY_ASM_ID), '--models', modelsDir], a.io)).toBe(0);
    expect(a.lines.at(-1)).toMatch(/^Installed medsam2-tiny \(fp32\): 5 files, .* sha256-verified/);
    const b = io();
    expect(await runModelsCommand(['list', '--json', '--models', modelsDir], b.io)).toBe(0);
    const list = JSON.parse(b.lines.join(''));
    expect(list.installed.map((m: { id: string; usable: boolean }) => [m.id, m.usable])).toEqual([[TINY_ASM_ID, true]]);
    expect(list.known.map((m: { id: string }) => m.id)).toEqual(['medreasoner-7b', 'medsam2']);
    const c = io();
    expect(await runModelsCommand(['install', 'medreasoner-7b', '--from-hub', '--models', modelsDir], c.io)).toBe(1);
    expect(c.lines.join('\n')).toMatch(/no published ONNX copy to download. Export it .*export_medreasoner.py/);
    const d = io();
    expect(await runModelsCommand(['install', TINY_ASM_ID, '--models', modelsDir], d.io)).toBe(2);
    const e = io();
    expect(await runModelsCommand(['remove', TINY_ASM_ID, '--models', modelsDir], e.io)).toBe(0);
  });
});

describe('resumable download', () => {
  let server: Server;
  let base: string;
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
  const requests: (string | undefined)[] = [];
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.headers.range);
      const url = new URL(req.url!, 'http://x');
      const body = url.pathname === '/file.bin' ? payload : files.get(decodeURIComponent(url.pathname));
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
        res.end(body.subarray(start));
      } else {
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('an interrupted download continues from its .part file with a Range request', async () => {
    const dest = path.join(root, 'dl', 'file.bin');
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.part`, payload.subarray(0, 123_456));
    requests.length = 0;
    const progress: { resumedFrom: number; bytesDone: number }[] = [];
    await downloadFile(`${base}/file.bin`, dest, { expectedSize: payload.length, onProgress: (p) => progress.push(p) });
    expect(requests).toEqual(['bytes=123456-']);
    expect(progress[0]!.resumedFrom).toBe(123_456);
    expect(Buffer.compare(await readFile(dest), payload)).toBe(0);
  });

  test('--from-hub downloads every file of a published model, then installs and verifies it', async () => {
    const pinned = await readManifest(path.join(exportDir, TINY_ASM_ID, 'manifest.json'));
    for (const f of pinned.files) files.set(`/org/tiny-asm/resolve/main/${f.path}`, await readFile(path.join(exportDir, TINY_ASM_ID, ...f.path.split('/'))));
    const manifest: ModelManifest = { ...pinned, source: { ...pinned.source, hub: { repo: 'org/tiny-asm', revision: 'main' } } };
    const modelsDir = path.join(root, 'hub');
    const result = await installFromHub({ manifest, modelsDir, known: [manifest], hubUrl: base });
    expect(result.id).toBe(TINY_ASM_ID);
    expect((await verifyInstalled(result.dir)).problems).toEqual([]);
    expect((await readdir(modelsDir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
