// Peak memory of export_medreasoner.py against model size, on random-weight Qwen2.5-VL
// checkpoints of three sizes with the 7B's structure, and what that extrapolates to for the 7B.
//   node bench/crm-export-memory.ts [--scales tiny,small,narrow7b] [--variants fp32,fp16,q4f16,q4] [--json]
// The script logs its running peak RSS (getrusage) on every line, so the table says which
// stage (loading and tracing the torch model, or writing a variant) sets the peak.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectPython } from '../test/host/real-parts.ts';
import { TEST_PROMPT } from '../test/host/random-qwen.ts';
import { writeFile } from 'node:fs/promises';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const scales = (option('scales') ?? 'tiny,small,narrow7b').split(',');
const variants = option('variants') ?? 'fp32,fp16,q4f16,q4';
const json = args.includes('--json');
// Qwen2.5-VL-7B: 8.29 B parameters (vision tower included), stored float32 for the trace.
const QWEN_7B_FP32_BYTES = 8.29e9 * 4;

interface Row {
  scale: string;
  modelMb: number;
  tracePeakMb: number;
  peakMb: number;
  peakStage: string;
  seconds: number;
}

function parsePeaks(log: string): { stage: string; peak: number }[] {
  return log
    .split('\n')
    .map((line) => /^\[export_medreasoner\] (.*) \(peak RSS (\d+) MB\)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ stage: m[1]!, peak: Number(m[2]) }));
}

const python = projectPython();
const work = await mkdtemp(path.join(tmpdir(), 'crm-export-memory-'));
const rows: Row[] = [];
try {
  const promptFile = path.join(work, 'prompt.json');
  await writeFile(promptFile, JSON.stringify(TEST_PROMPT));
  for (const scale of scales) {
    const checkpoint = path.join(work, `${scale}-checkpoint`);
    const out = path.join(work, `${scale}-export`);
    const build = spawnSync(python, [path.join(repo, 'native-models/testing/random_qwen2_5_vl.py'), '--out', checkpoint, '--seed', '0', '--scale', scale], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`random_qwen2_5_vl.py --scale ${scale} failed:\n${build.stderr}`);
    const started = performance.now();
    const exported = spawnSync(python, [path.join(repo, 'native-models/export_medreasoner.py'), '--checkpoint', checkpoint, '--prompt-file', promptFile, '--out', out, '--variants', variants], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    if (exported.status !== 0) throw new Error(`export_medreasoner.py (${scale}) failed:\n${exported.stderr.slice(-4000)}`);
    const peaks = parsePeaks(exported.stdout);
    const trace = peaks.find((p) => p.stage.startsWith('torch model freed'));
    // The stage that raised the running peak the most is the line after the rise.
    let peakStage = 'start';
    let best = 0;
    for (let i = 1; i < peaks.length; i++) {
      const rise = peaks[i]!.peak - peaks[i - 1]!.peak;
      if (rise > best) {
        best = rise;
        peakStage = peaks[i - 1]!.stage;
      }
    }
    const modelBytes = (await stat(path.join(checkpoint, 'model.safetensors'))).size;
    rows.push({ scale, modelMb: modelBytes / 2 ** 20, tracePeakMb: trace?.peak ?? NaN, peakMb: Math.max(...peaks.map((p) => p.peak)), peakStage, seconds });
    await rm(out, { recursive: true, force: true });
    await rm(checkpoint, { recursive: true, force: true });
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

// Least-squares line peak = fixed + slope × model size, then the 7B's float32 size on it.
const n = rows.length;
const mx = rows.reduce((s, r) => s + r.modelMb, 0) / n;
const my = rows.reduce((s, r) => s + r.peakMb, 0) / n;
const slope = n > 1 ? rows.reduce((s, r) => s + (r.modelMb - mx) * (r.peakMb - my), 0) / rows.reduce((s, r) => s + (r.modelMb - mx) ** 2, 0) : my / mx;
const fixed = my - slope * mx;
const sevenBMb = QWEN_7B_FP32_BYTES / 2 ** 20;
const sevenBPeakGb = (fixed + slope * sevenBMb) / 1024;

if (json) {
  console.log(JSON.stringify({ variants, rows, fit: { fixedMb: fixed, perModelByte: slope }, qwen7b: { fp32Gb: sevenBMb / 1024, peakGb: sevenBPeakGb } }, null, 2));
} else {
  console.log(`export_medreasoner.py --variants ${variants} (no --check), peak RSS of the Python process\n`);
  console.log('| scale | fp32 model | peak after trace | peak overall | stage that raised it most | × model | time |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.scale} | ${r.modelMb.toFixed(0)} MB | ${r.tracePeakMb.toFixed(0)} MB | ${r.peakMb.toFixed(0)} MB | ${r.peakStage} | ${(r.peakMb / r.modelMb).toFixed(2)} | ${r.seconds.toFixed(0)} s |`);
  }
  console.log(`\nfit: peak ≈ ${fixed.toFixed(0)} MB + ${slope.toFixed(2)} × model size`);
  console.log(`Qwen2.5-VL-7B (MedReasoner-7B): ${(sevenBMb / 1024).toFixed(1)} GB float32 → export peak ≈ ${sevenBPeakGb.toFixed(0)} GB RAM (extrapolated; --check adds its ONNX sessions after the torch model is freed)`);
}
