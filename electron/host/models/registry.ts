// Where models live and which are installed. Weights never live in the repository: the
// models folder is <data dir>/models (per-OS app-data, see app-paths.ts), overridden by
// `--models <dir>` or MEDREASONER_MODELS. Each installed model is a folder <id>/ holding
// its files and a manifest.json with every file pinned (sha256, size).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../app-paths.ts';
import { checkFiles, type ModelFileProblem } from './file-check.ts';
import { MANIFEST_FILE, ManifestError, readManifest, variantFiles, type ModelManifest, type ModelRole } from './manifest.ts';

export const MODELS_DIR_ENV = 'MEDREASONER_MODELS';

export interface ModelsDirChoice {
  dir: string;
  source: 'option' | 'environment' | 'default';
}

/**
 * --models <dir>, else MEDREASONER_MODELS, else <data dir>/models (`dataDir` when the caller
 * has one, e.g. the host's; otherwise the per-OS default of app-paths.ts).
 */
export function resolveModelsDir(option?: string | null, env: NodeJS.ProcessEnv = process.env, dataDir?: string): ModelsDirChoice {
  if (option && option.trim() !== '') return { dir: path.resolve(option), source: 'option' };
  const fromEnv = env[MODELS_DIR_ENV];
  if (fromEnv && fromEnv.trim() !== '') return { dir: path.resolve(fromEnv), source: 'environment' };
  return { dir: path.join(dataDir ?? defaultDataDir(env), 'models'), source: 'default' };
}

/** native-models/ of this checkout (manifests of the models the app knows). */
export function defaultKnownManifestsDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native-models');
}

/** Manifests in native-models/<id>/manifest.json: the models the app knows how to run. */
export async function knownManifests(dir: string = defaultKnownManifestsDir()): Promise<ModelManifest[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const manifests: ModelManifest[] = [];
  for (const entry of entries.sort()) {
    const file = path.join(dir, entry, MANIFEST_FILE);
    try {
      await stat(file);
    } catch {
      continue;
    }
    manifests.push(await readManifest(file));
  }
  return manifests;
}

export interface VariantStatus {
  name: string;
  complete: boolean;
  problems: ModelFileProblem[];
}

export interface InstalledModel {
  id: string;
  dir: string;
  manifest: ModelManifest | null;
  /** Set when the folder's manifest is missing or invalid. */
  manifestProblem: string | null;
  variants: VariantStatus[];
  usable: boolean;
}

/** Inspects one installed folder: manifest, and per variant whether its files are present and the right size. */
export async function inspectModelFolder(dir: string): Promise<InstalledModel> {
  const id = path.basename(dir);
  let manifest: ModelManifest;
  try {
    manifest = await readManifest(path.join(dir, MANIFEST_FILE));
  } catch (error) {
    return { id, dir, manifest: null, manifestProblem: error instanceof ManifestError ? error.message : String(error), variants: [], usable: false };
  }
  const variants: VariantStatus[] = [];
  for (const variant of manifest.variants) {
    const problems = await checkFiles(dir, variantFiles(manifest, variant.name), { hash: false });
    variants.push({ name: variant.name, complete: problems.length === 0, problems });
  }
  return { id: manifest.id, dir, manifest, manifestProblem: null, variants, usable: variants.some((v) => v.complete) };
}

/** Every folder in the models folder that looks like a model (has a manifest.json, valid or not). */
export async function listInstalled(modelsDir: string): Promise<InstalledModel[]> {
  let entries: string[];
  try {
    entries = await readdir(modelsDir);
  } catch {
    return [];
  }
  const installed: InstalledModel[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue; // staging folders of installs in progress
    const dir = path.join(modelsDir, entry);
    try {
      if (!(await stat(dir)).isDirectory()) continue;
      await stat(path.join(dir, MANIFEST_FILE));
    } catch {
      continue;
    }
    installed.push(await inspectModelFolder(dir));
  }
  return installed;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface SelectedModel {
  id: string;
  dir: string;
  manifest: ModelManifest;
  variant: string;
  /** Why this variant (e.g. the default for CUDA was incomplete). */
  note: string | null;
}

/**
 * The installed model to use for a role: usable ones only, real models before test
 * fixtures, then by id; the variant is the manifest's default for the provider when it
 * is complete, else the first complete one.
 */
export function selectModel(installed: readonly InstalledModel[], role: ModelRole, provider: ExecutionProvider): SelectedModel | null {
  const candidates = installed
    .filter((m): m is InstalledModel & { manifest: ModelManifest } => m.manifest !== null && m.manifest.role === role && m.usable)
    .sort((a, b) => Number(a.manifest.testFixture) - Number(b.manifest.testFixture) || a.id.localeCompare(b.id));
  const chosen = candidates[0];
  if (!chosen) return null;
  // A manifest names a default per device class: WebGPU takes the GPU (CUDA) default.
  const preferred = chosen.manifest.defaultVariant[provider === 'webgpu' ? 'cuda' : provider];
  const complete = chosen.variants.filter((v) => v.complete).map((v) => v.name);
  if (complete.includes(preferred)) return { id: chosen.id, dir: chosen.dir, manifest: chosen.manifest, variant: preferred, note: null };
  const fallback = complete[0]!;
  return {
    id: chosen.id,
    dir: chosen.dir,
    manifest: chosen.manifest,
    variant: fallback,
    note: `the ${provider.toUpperCase()} default variant "${preferred}" is not installed completely; using "${fallback}"`,
  };
}
