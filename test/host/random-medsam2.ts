// A MedSAM2 export with random weights, built once per version of the scripts that make it:
// native-models/testing/random_medsam2.py writes a checkpoint of the real architecture, then
// native-models/export_medsam2.py exports it exactly as it would MedSAM2_2411.pt. Cached in
// .cache/random-models/medsam2-<hash>/ (the hash covers every file that shapes the result), so
// only the first test run pays the ~40 s; a lock directory keeps parallel vitest workers from
// building it twice.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectPython } from './real-parts.ts';

const run = promisify(execFile);
const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const SEED = 0;
const INPUTS = [
  'native-models/export_medsam2.py',
  'native-models/medsam2_build.py',
  'native-models/testing/random_medsam2.py',
  'native-models/medsam2/sam2.1_hiera_t512.yaml',
  'native-models/medsam2/manifest.json',
  'native-models/requirements.txt',
];
/** A lock older than this belongs to a build that died without cleaning up. */
const STALE_LOCK_MS = 10 * 60_000;

export interface RandomMedsam2 {
  /** The exported model folder (manifest.json, config.json, preprocessor_config.json, onnx/). */
  dir: string;
  /** The random checkpoint the export was made from ({"model": state_dict}). */
  checkpoint: string;
  /** Seconds the build took (0 when it came from the cache). */
  buildSeconds: number;
}

async function inputsHash(): Promise<string> {
  const hash = createHash('sha256').update(`seed ${SEED}\n`);
  for (const file of INPUTS) hash.update(file).update('\0').update(await readFile(path.join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Whether the process that took the lock still runs (a killed test run leaves its lock behind). */
async function holderAlive(lock: string): Promise<boolean> {
  const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
  // No pid yet: the holder is between mkdir and writing it.
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    await writeFile(path.join(lock, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > STALE_LOCK_MS || !(await holderAlive(lock))) await rm(lock, { recursive: true, force: true });
    return false;
  }
}

async function build(target: string): Promise<void> {
  const python = projectPython();
  const work = `${target}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const checkpoint = path.join(work, 'medsam2-random.pt');
  const step = async (script: string, args: string[]) => {
    try {
      await run(python, [path.join(ROOT, script), ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${script} failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
    }
  };
  await step('native-models/testing/random_medsam2.py', ['--out', checkpoint, '--seed', String(SEED)]);
  await step('native-models/export_medsam2.py', ['--checkpoint', checkpoint, '--out', path.join(work, 'export'), '--variants', 'fp32,fp16']);
  await rm(target, { recursive: true, force: true });
  await rename(work, target);
}

/** The cached random-weight MedSAM2 export, built (once, under a lock) when missing. */
export async function ensureRandomMedsam2(): Promise<RandomMedsam2> {
  const cache = path.join(ROOT, '.cache', 'random-models');
  const target = path.join(cache, `medsam2-${await inputsHash()}`);
  const result = (buildSeconds: number): RandomMedsam2 => ({ dir: path.join(target, 'export'), checkpoint: path.join(target, 'medsam2-random.pt'), buildSeconds });
  const ready = () => existsSync(path.join(target, 'export', 'manifest.json'));
  if (ready()) return result(0);
  await mkdir(cache, { recursive: true });
  const lock = `${target}.lock`;
  const deadline = Date.now() + STALE_LOCK_MS + 60_000;
  while (Date.now() < deadline) {
    if (await takeLock(lock)) {
      try {
        if (ready()) return result(0);
        const started = performance.now();
        await build(target);
        return result((performance.now() - started) / 1000);
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (ready()) return result(0);
  }
  throw new Error(`timed out waiting for another process to build ${target} (lock ${lock})`);
}
