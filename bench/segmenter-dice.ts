// Dice of the default segmenter, prompted as `medreasoner segment` is (a box and two
// interior points from the ground truth), with the tight box and with the box grown by 25 %
// on every side, beside the trivial answer (the ellipse inscribed in the same box), and
// after one corrective click on the tight answer's worst error:
//  - on the embedded sample (synthetic CT);
//  - on real labelled MR anatomy from Debian's mricron-data package (Colin27 with AAL,
//    INIA19 with NeuroMaps; atlas-segmentation-eval.ts), when it is installed
//    (scripts/install-system-deps.sh). AAL's left hemisphere is the tuning split; the other
//    sets are held out;
//  - on real labelled CT: pyradiomics' two lung CT cases with a labelled finding each
//    (its source package on the Python index, BSD-3), when scripts/fetch-labelled-ct.sh has
//    put them in .cache/pyradiomics-data; held out.
//   node bench/segmenter-dice.ts [--sample <dir>] [--templates <dir>] [--ct <dir>] [--json]
// Without --sample the sample is written to bench/out/sample (kept for the next run).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATLAS_SETS, LABELLED_CT, MRICRON_TEMPLATES, PYRADIOMICS_DATA, loadAtlasSet, loadLabelledCt, scoreStructures } from '../electron/host/inference/atlas-segmentation-eval.ts';
import { createDefaultSegmenter } from '../electron/host/inference/default-segmenter.ts';
import { evaluateOnSample, formatEvaluation, type SampleEvaluation } from '../electron/host/inference/sample-segmentation-eval.ts';
import { writeSample } from '../electron/host/sample/sample-store.ts';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? path.resolve(args[args.indexOf(name) + 1] ?? '') : null);
const json = args.includes('--json');
const here = path.dirname(fileURLToPath(import.meta.url));
const sampleDir = option('--sample') ?? path.join(here, 'out', 'sample');
const templates = option('--templates') ?? MRICRON_TEMPLATES;
const ctDir = option('--ct') ?? PYRADIOMICS_DATA;

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

if (!(await exists(path.join(sampleDir, 'sample.json')))) {
  if (option('--sample')) {
    console.error(`${sampleDir} holds no sample (no sample.json); write one with: medreasoner sample ${sampleDir}`);
    process.exit(1);
  }
  console.error(`writing the sample to ${sampleDir} …`);
  await writeSample(sampleDir);
}
const results: { id: string; description: string; evaluation: SampleEvaluation }[] = [];
let started = performance.now();
results.push({ id: 'sample', description: 'the embedded sample (synthetic CT torso; the tuning set)', evaluation: await evaluateOnSample(sampleDir, createDefaultSegmenter()) });
const timesMs = [performance.now() - started];
if (await exists(path.join(templates, 'aal.nii.gz'))) {
  for (const set of ATLAS_SETS) {
    started = performance.now();
    results.push({ id: set.id, description: `${set.description}; Debian mricron-data, ${templates}`, evaluation: await scoreStructures(await loadAtlasSet(set, templates), createDefaultSegmenter()) });
    timesMs.push(performance.now() - started);
  }
} else {
  console.error(`no real labelled anatomy at ${templates}: install Debian's mricron-data (scripts/install-system-deps.sh) or pass --templates <dir>`);
}
if (await exists(path.join(ctDir, LABELLED_CT.cases[0].labels))) {
  started = performance.now();
  results.push({ id: LABELLED_CT.id, description: `${LABELLED_CT.description}; pyradiomics 3.0.1 source package (BSD-3), ${ctDir}`, evaluation: await scoreStructures(await loadLabelledCt(ctDir), createDefaultSegmenter()) });
  timesMs.push(performance.now() - started);
} else {
  console.error(`no real labelled CT at ${ctDir}: run scripts/fetch-labelled-ct.sh or pass --ct <dir>`);
}
if (json) console.log(JSON.stringify(results, null, 2));
else {
  results.forEach((r, i) => {
    console.log(`\n=== ${r.id}: ${r.description}`);
    console.log(formatEvaluation(r.evaluation));
    console.log(`${r.evaluation.structures.length} structures in ${Math.round(timesMs[i]!)} ms`);
  });
}
