// Installing, verifying and removing models in the models folder.
// Install copies a folder (an export, a download, a USB stick) into <models>/<id>/ through
// a hidden staging folder, hashing while copying, and renames it into place only when every
// copied file matches what the manifests pin: a failed install never leaves a half model.
// Pins come from the source folder's manifest.json (written by the export script) and from
// the app's own manifest for that id; a file neither pins is hashed and pinned at install,
// so later corruption is caught by `models verify`.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { checkFiles, type ModelFileProblem } from './file-check.ts';
import { MANIFEST_FILE, readManifest, variantFiles, type ManifestFile, type ModelManifest } from './manifest.ts';
import { inspectModelFolder, type InstalledModel } from './registry.ts';

export class ModelInstallError extends Error {
  readonly problems: ModelFileProblem[];
  constructor(message: string, problems: ModelFileProblem[] = []) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p.message}`).join('\n')}` : message);
    this.name = 'ModelInstallError';
    this.problems = problems;
  }
}

export interface InstallProgress {
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface InstallOptions {
  id: string;
  from: string;
  modelsDir: string;
  /** The app's manifests (native-models/); the one with this id, if any, must agree with the source. */
  known: readonly ModelManifest[];
  onProgress?: (progress: InstallProgress) => void;
  /** Notes for the user (skipped variants, pins made at install). */
  onNote?: (note: string) => void;
}

export interface InstallResult {
  id: string;
  dir: string;
  variants: string[];
  files: number;
  bytes: number;
}

function samePin(a: ManifestFile | undefined, b: ManifestFile | undefined): boolean {
  if (!a || !b) return true;
  if (a.sha256 && b.sha256 && a.sha256 !== b.sha256) return false;
  if (a.size !== null && b.size !== null && a.size !== b.size) return false;
  return true;
}

async function sourceManifest(options: InstallOptions): Promise<ModelManifest> {
  const knownManifest = options.known.find((m) => m.id === options.id);
  let source: ModelManifest | null = null;
  try {
    await stat(path.join(options.from, MANIFEST_FILE));
    source = await readManifest(path.join(options.from, MANIFEST_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!source && !knownManifest) {
    throw new ModelInstallError(
      `Cannot install "${options.id}": ${options.from} has no ${MANIFEST_FILE} and the app knows no model with that id (known: ${options.known.map((m) => m.id).join(', ') || 'none'}).`,
    );
  }
  if (source && source.id !== options.id) {
    throw new ModelInstallError(`${path.join(options.from, MANIFEST_FILE)} describes model "${source.id}", not "${options.id}".`);
  }
  if (source && knownManifest) {
    if (source.role !== knownManifest.role || source.runtime !== knownManifest.runtime) {
      throw new ModelInstallError(`${options.from} is a ${source.role} model for ${source.runtime}, but "${options.id}" is a ${knownManifest.role} model for ${knownManifest.runtime}.`);
    }
    const knownByPath = new Map(knownManifest.files.map((f) => [f.path, f]));
    for (const file of source.files) {
      if (!samePin(file, knownByPath.get(file.path))) {
        throw new ModelInstallError(`${file.path} in ${options.from} is pinned differently from the app's manifest for "${options.id}": a different export or version.`);
      }
    }
  }
  return source ?? knownManifest!;
}

/** Copies `from` to `to`, returning the sha256 of the bytes copied. */
async function copyHashing(from: string, to: string, onBytes: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await mkdir(path.dirname(to), { recursive: true });
  await pipeline(
    createReadStream(from, { highWaterMark: 4 * 1024 * 1024 }),
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    }),
    createWriteStream(to),
  );
  return hash.digest('hex');
}

export async function installFromFolder(options: InstallOptions): Promise<InstallResult> {
  const manifest = await sourceManifest(options);
  const knownManifest = options.known.find((m) => m.id === options.id);
  const knownByPath = new Map((knownManifest?.files ?? []).map((f) => [f.path, f]));

  // Which variants the source holds completely (presence and size; hashes are checked while copying).
  const installable: string[] = [];
  const skipped: { name: string; problems: ModelFileProblem[] }[] = [];
  for (const variant of manifest.variants) {
    const problems = await checkFiles(options.from, variantFiles(manifest, variant.name), { hash: false });
    if (problems.length === 0) installable.push(variant.name);
    else skipped.push({ name: variant.name, problems });
  }
  if (installable.length === 0) {
    throw new ModelInstallError(
      `${options.from} holds no complete variant of "${options.id}" (${manifest.variants.map((v) => v.name).join(', ')}):`,
      skipped.flatMap((s) => s.problems.map((p) => ({ ...p, message: `[${s.name}] ${p.message}` }))),
    );
  }
  for (const s of skipped) options.onNote?.(`variant "${s.name}" is not complete in ${options.from} and is not installed (${s.problems[0]!.message})`);

  const files = manifest.files.filter((f) => !f.variants || f.variants.some((v) => installable.includes(v)));
  const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(options.from, ...f.path.split('/')))).size));
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  await mkdir(options.modelsDir, { recursive: true });
  const staging = path.join(options.modelsDir, `.${options.id}.install-${randomBytes(4).toString('hex')}`);
  let bytesDone = 0;
  const pinned: ManifestFile[] = [];
  const mismatches: ModelFileProblem[] = [];
  try {
    for (const [index, entry] of files.entries()) {
      const source = path.join(options.from, ...entry.path.split('/'));
      const digest = await copyHashing(source, path.join(staging, ...entry.path.split('/')), (n) => {
        bytesDone += n;
        options.onProgress?.({ file: entry.path, bytesDone, bytesTotal });
      });
      const expected = [entry.sha256, knownByPath.get(entry.path)?.sha256].filter((h): h is string => !!h);
      for (const hash of new Set(expected)) {
        if (hash !== digest) {
          mismatches.push({ path: entry.path, kind: 'sha256-mismatch', message: `${entry.path} has sha256 ${digest}, expected ${hash}: the file is corrupt or a different version` });
        }
      }
      if (expected.length === 0) options.onNote?.(`${entry.path} had no sha256 in any manifest: pinned now as ${digest.slice(0, 16)}…`);
      pinned.push({ ...entry, sha256: digest, size: sizes[index]! });
    }
    if (mismatches.length > 0) throw new ModelInstallError(`Not installed: files of "${options.id}" in ${options.from} do not match their checksums:`, mismatches);
    const installedManifest: ModelManifest = {
      ...manifest,
      variants: manifest.variants.filter((v) => installable.includes(v.name)),
      defaultVariant: {
        cpu: installable.includes(manifest.defaultVariant.cpu) ? manifest.defaultVariant.cpu : installable[0]!,
        cuda: installable.includes(manifest.defaultVariant.cuda) ? manifest.defaultVariant.cuda : installable[0]!,
      },
      files: pinned,
    };
    await writeFile(path.join(staging, MANIFEST_FILE), `${JSON.stringify(installedManifest, null, 2)}\n`);
    const target = path.join(options.modelsDir, options.id);
    const previous = `${staging}.previous`;
    let hadPrevious = false;
    try {
      await rename(target, previous);
      hadPrevious = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await rename(staging, target);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
    return { id: options.id, dir: target, variants: installable, files: pinned.length, bytes: bytesTotal };
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

export interface VerifyResult {
  model: InstalledModel;
  problems: ModelFileProblem[];
}

/** Full check of an installed model: every file's size and sha256, and ONNX external data. */
export async function verifyInstalled(dir: string, onHashProgress?: (file: string, bytes: number) => void): Promise<VerifyResult> {
  const model = await inspectModelFolder(dir);
  if (!model.manifest) return { model, problems: [{ path: MANIFEST_FILE, kind: 'unreadable', message: model.manifestProblem ?? 'manifest.json is missing' }] };
  const problems = await checkFiles(dir, model.manifest.files, { hash: true, ...(onHashProgress ? { onHashProgress } : {}) });
  return { model, problems };
}

export async function removeModel(modelsDir: string, id: string): Promise<boolean> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) throw new ModelInstallError(`"${id}" is not a model id.`);
  const dir = path.join(modelsDir, id);
  try {
    await stat(path.join(dir, MANIFEST_FILE));
  } catch {
    return false;
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}
