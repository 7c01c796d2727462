// Dice of the default segmenter on the embedded sample's organs and lesions, prompted as
// `medreasoner segment` is (a box and two interior points from the ground truth), with the
// tight box and with the box grown by 25 % on every side, beside the trivial answer (the
// ellipse inscribed in the same box).
//   node bench/segmenter-dice.ts [--sample <dir>] [--json]
// Without --sample the sample is written to bench/out/sample (kept for the next run).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDefaultSegmenter } from '../electron/host/inference/default-segmenter.ts';
import { evaluateOnSample, formatEvaluation } from '../electron/host/inference/sample-segmentation-eval.ts';
import { writeSample } from '../electron/host/sample/sample-store.ts';

const args = process.argv.slice(2);
const sampleIndex = args.indexOf('--sample');
const json = args.includes('--json');
const here = path.dirname(fileURLToPath(import.meta.url));
const sampleDir = sampleIndex >= 0 ? path.resolve(args[sampleIndex + 1] ?? '') : path.join(here, 'out', 'sample');

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

if (!(await exists(path.join(sampleDir, 'sample.json')))) {
  if (sampleIndex >= 0) {
    console.error(`${sampleDir} holds no sample (no sample.json); write one with: medreasoner sample ${sampleDir}`);
    process.exit(1);
  }
  console.error(`writing the sample to ${sampleDir} …`);
  await writeSample(sampleDir);
}
const started = performance.now();
const evaluation = await evaluateOnSample(sampleDir, createDefaultSegmenter());
if (json) console.log(JSON.stringify(evaluation, null, 2));
else {
  console.log(formatEvaluation(evaluation));
  console.log(`\n${evaluation.structures.length} structures × 2 conditions in ${Math.round(performance.now() - started)} ms (sample: ${sampleDir})`);
}
