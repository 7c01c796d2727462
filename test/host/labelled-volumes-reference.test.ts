// The real labelled volumes behind the segmenter evaluation, read by our NIfTI and NRRD
// readers and judged by nibabel and pynrrd in the same run (test/host/volume_reference.py):
// Debian mricron-data's MR templates and atlases, pyradiomics' labelled lung CT
// (scripts/fetch-labelled-ct.sh). Then the default segmenter on that CT, which no
// parameter was tuned on: above the box's ellipse with tight and with loose boxes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { LABELLED_CT, MRICRON_TEMPLATES, PYRADIOMICS_DATA, loadLabelledCt, scoreStructures } from '../../electron/host/inference/atlas-segmentation-eval.ts';
import { createDefaultSegmenter } from '../../electron/host/inference/default-segmenter.ts';
import { readNifti, type NiftiVolume } from '../../electron/host/inference/nifti-volume.ts';
import { readNrrd } from '../../electron/host/inference/nrrd-volume.ts';
import { projectPython, requireDir } from './real-parts.ts';

const REFERENCE = path.join(import.meta.dirname, 'volume_reference.py');

interface Summary {
  sizes: number[];
  spacing: number[];
  sum: number;
  weighted: number;
  nonzero: number;
}

function requireLabelledCt(): void {
  const missing = LABELLED_CT.cases.flatMap((c) => [c.image, c.labels]).filter((f) => !existsSync(path.join(PYRADIOMICS_DATA, f)));
  if (missing.length) throw new Error(`pyradiomics' labelled lung CT is missing (${missing.join(', ')} in ${PYRADIOMICS_DATA}). Run \`bash scripts/fetch-labelled-ct.sh\`.`);
}

function referenceSummaries(files: string[]): Record<string, Summary> {
  const result = spawnSync(projectPython(), [REFERENCE, ...files], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (result.status !== 0) throw new Error(`volume_reference.py failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, Summary>;
}

function summarise(volume: NiftiVolume): Summary {
  let sum = 0;
  let weighted = 0;
  let nonzero = 0;
  volume.values.forEach((v, i) => {
    sum += v;
    weighted += v * ((i % 9973) + 1);
    if (v !== 0) nonzero++;
  });
  return { sizes: [...volume.sizes], spacing: [...volume.spacing], sum, weighted, nonzero };
}

describe('real labelled volumes', () => {
  test('our NIfTI and NRRD readers agree with nibabel and pynrrd on every voxel of the real files', async () => {
    requireDir(MRICRON_TEMPLATES, "Debian's mricron-data (MR templates and atlases)");
    requireLabelledCt();
    const files = [
      ...['ch2.nii.gz', 'aal.nii.gz', 'inia19-t1-brain.nii.gz', 'inia19-NeuroMaps.nii.gz'].map((f) => path.join(MRICRON_TEMPLATES, f)),
      ...LABELLED_CT.cases.flatMap((c) => [c.image, c.labels]).map((f) => path.join(PYRADIOMICS_DATA, f)),
    ];
    const reference = referenceSummaries(files);
    for (const file of files) {
      const ours = summarise(file.endsWith('.nrrd') ? await readNrrd(file) : await readNifti(file));
      const theirs = reference[file]!;
      expect(ours.sizes, file).toEqual(theirs.sizes);
      ours.spacing.forEach((s, i) => expect(s, `${file} spacing ${i}`).toBeCloseTo(theirs.spacing[i]!, 5));
      expect(ours.nonzero, file).toBe(theirs.nonzero);
      // Float32 voxels summed in float64 on both sides: only rounding of the scaling may differ.
      expect(Math.abs(ours.sum - theirs.sum), `${file} sum`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(theirs.sum)));
      expect(Math.abs(ours.weighted - theirs.weighted), `${file} weighted sum`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(theirs.weighted)));
    }
  }, 120_000);

  test('on the held-out labelled lung CT the default segmenter beats the box ellipse, tight and loose', async () => {
    requireLabelledCt();
    const structures = await loadLabelledCt();
    expect(structures.length).toBeGreaterThanOrEqual(2);
    const { mean } = await scoreStructures(structures, createDefaultSegmenter());
    expect(mean.tight, `tight ${mean.tight.toFixed(3)} vs ellipse ${mean.tightEllipse.toFixed(3)}`).toBeGreaterThan(mean.tightEllipse);
    expect(mean.loose, `loose ${mean.loose.toFixed(3)} vs ellipse ${mean.looseEllipse.toFixed(3)}`).toBeGreaterThan(mean.looseEllipse + 0.1);
  }, 120_000);
});
