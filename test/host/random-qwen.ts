// A random-weight Qwen2.5-VL checkpoint and its ONNX export (every CRM variant, --check run),
// built once per version of the scripts into .cache/random-models/qwen-<hash>/ and shared by
// every test and benchmark that asks for it. A lock directory keeps parallel vitest workers
// from building twice; a build that died leaves a stale lock that the next caller removes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectPython } from './real-parts.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const nativeModels = path.join(repo, 'native-models');

export const RANDOM_QWEN_VARIANTS = ['fp32', 'fp16', 'q4f16', 'q4'] as const;

/** A prompt.json in the app's format, shaped like MedReasoner's (image first, two slots). */
export const TEST_PROMPT = {
  format: 'medreasoner-prompt',
  version: 1,
  source: 'test/host/random-qwen.ts (a test prompt, not MedReasoner\u2019s)',
  fill: 'python-format',
  answerExample: "{'bbox': [xmin, ymin, xmax, ymax], 'points_1': [x1, y1], 'points_2': [x2, y2]}",
  default: 'think',
  variants: {
    think: '<image>\nLocate the region the question is about.\nQuestion: {Question}\nExample Output:\n<think> thinking process here </think><answer>{Answer}</answer>',
    no_think: '<image>\nLocate the region the question is about.\nQuestion: {Question}\nExample Output:\n<answer>{Answer}</answer>',
  },
} as const;

export interface RandomQwenOptions {
  scale?: 'tiny' | 'small' | 'narrow7b';
  seed?: number;
  variants?: readonly string[];
  /** Greedy tokens export_medreasoner.py --check compares with PyTorch. */
  checkTokens?: number;
}

export interface RandomQwen {
  /** The HF checkpoint folder (save_pretrained + processor + tokenizer). */
  checkpoint: string;
  /** The export folder the app loads (manifest.json, onnx/, prompt.json, configs). */
  exportDir: string;
  promptFile: string;
  /** export_medreasoner.py's log, --check's agreement lines included. */
  exportLog: string;
  /** Seconds the build took when this call built it; null when it was cached. */
  buildSeconds: number | null;
}

const SCRIPTS = [
  'testing/random_qwen2_5_vl.py',
  'qwen_tokenizer.py',
  'export_medreasoner.py',
  'crm_export/vision_encoder.py',
  'crm_export/decoder.py',
  'crm_export/convert.py',
  'crm_export/check.py',
  'medreasoner-7b/manifest.json',
];

async function scriptsHash(options: Required<RandomQwenOptions>): Promise<string> {
  const hash = createHash('sha256');
  for (const script of SCRIPTS) hash.update(script).update(await readFile(path.join(nativeModels, script)));
  hash.update(JSON.stringify(TEST_PROMPT)).update(JSON.stringify(options));
  return hash.digest('hex').slice(0, 16);
}

function run(command: string, args: string[], logFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', async (code) => {
      await writeFile(logFile, output, { flag: 'a' });
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(args[0] ?? command)} exited with ${code}; log ${logFile}:\n${output.slice(-4000)}`));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquireLock(lock: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => 'NaN'));
    const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs).catch(() => Date.now()));
    if ((Number.isInteger(owner) && !pidAlive(owner)) || (!Number.isInteger(owner) && age > 30_000)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${lock} (held by pid ${owner})`);
    await sleep(500);
  }
}

export async function ensureRandomQwen(options: RandomQwenOptions = {}): Promise<RandomQwen> {
  const resolved: Required<RandomQwenOptions> = {
    scale: options.scale ?? 'tiny',
    seed: options.seed ?? 0,
    variants: options.variants ?? RANDOM_QWEN_VARIANTS,
    checkTokens: options.checkTokens ?? 32,
  };
  const python = projectPython();
  const cacheRoot = path.join(repo, '.cache', 'random-models');
  const name = `qwen-${resolved.scale}-${await scriptsHash(resolved)}`;
  const dir = path.join(cacheRoot, name);
  const result = (buildSeconds: number | null): RandomQwen => ({
    checkpoint: path.join(dir, 'checkpoint'),
    exportDir: path.join(dir, 'export'),
    promptFile: path.join(dir, 'prompt.json'),
    exportLog: path.join(dir, 'export.log'),
    buildSeconds,
  });
  if (existsSync(path.join(dir, 'done'))) return result(null);
  await mkdir(cacheRoot, { recursive: true });
  const lock = path.join(cacheRoot, `${name}.lock`);
  await acquireLock(lock, 15 * 60_000);
  try {
    if (existsSync(path.join(dir, 'done'))) return result(null);
    const started = performance.now();
    const staging = `${dir}.tmp-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const log = path.join(staging, 'export.log');
    const promptFile = path.join(staging, 'prompt.json');
    await writeFile(promptFile, `${JSON.stringify(TEST_PROMPT, null, 2)}\n`);
    await run(python, [path.join(nativeModels, 'testing', 'random_qwen2_5_vl.py'), '--out', path.join(staging, 'checkpoint'), '--seed', String(resolved.seed), '--scale', resolved.scale], log);
    await run(
      python,
      [
        path.join(nativeModels, 'export_medreasoner.py'),
        '--checkpoint', path.join(staging, 'checkpoint'),
        '--prompt-file', promptFile,
        '--out', path.join(staging, 'export'),
        '--variants', resolved.variants.join(','),
        '--check', '--check-tokens', String(resolved.checkTokens),
      ],
      log,
    );
    await writeFile(path.join(staging, 'done'), `${new Date().toISOString()}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    // Older builds (other script hashes) are dead weight of ~100 MB each.
    for (const entry of await readdir(cacheRoot)) {
      if (entry.startsWith(`qwen-${resolved.scale}-`) && entry !== name && !entry.endsWith('.lock') && !entry.includes('.tmp-')) {
        await rm(path.join(cacheRoot, entry), { recursive: true, force: true });
      }
    }
    return result((performance.now() - started) / 1000);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
