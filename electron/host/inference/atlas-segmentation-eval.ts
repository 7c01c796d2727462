// Scores a segmenter on real labelled anatomy: MR templates and the label atlases drawn on
// them, as Debian's mricron-data package ships them (/usr/share/mricron/templates):
//  - Colin27 ("ch2", one adult's T1 averaged over 27 scans, 1 mm) with the AAL atlas
//    (Tzourio-Mazoyer et al. 2002, drawn by hand on that very brain);
//  - INIA19 (a rhesus macaque T1 template, 0.5 mm) with its NeuroMaps labels.
// The segmenter's parameters may be tuned on the left-hemisphere AAL structures only; the
// right-hemisphere AAL structures and the INIA19 structures are held out.
// And real labelled CT: the two lung CT cases pyradiomics ships as test data in its source
// package on the Python index (BSD-3, Harvard Medical School; lung1 and lung2, 5 mm axial
// slices, each with a labelmap of one finding), held out. Each finding is posed on every
// axial slice holding at least a quarter of its largest cross-section (loadLabelledCt).
// Each structure is posed as on the sample: on its largest axial slice, the tight box and
// two interior points, then the box grown by 25 % per side, beside the box's ellipse; then
// one corrective click on the tight answer's worst error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { correctiveClick } from './corrective-click.ts';
import { inscribedEllipseMask } from './default-segmenter.ts';
import { defaultWindow } from './image-prep.ts';
import { growBox, interiorPoints, maskBox } from './ground-truth-prompts.ts';
import { maskDice } from './metrics.ts';
import { parseLabelTable, readNifti, type NiftiVolume } from './nifti-volume.ts';
import { readNrrd } from './nrrd-volume.ts';
import { LOOSE_BOX_GROWTH, summariseEvaluation, type SampleEvaluation, type StructureScore } from './sample-segmentation-eval.ts';
import type { PixelBox, SegmentImage, Segmenter } from './segmenter-types.ts';

export const MRICRON_TEMPLATES = '/usr/share/mricron/templates';

export interface AtlasSet {
  id: string;
  description: string;
  /** Whether the default segmenter's parameters may be tuned on it. */
  tuning: boolean;
  image: string;
  labels: string;
  /** A side-car name table, when the label file carries no names of its own. */
  names?: string;
  structures: readonly string[];
}

const AAL_STRUCTURES = ['Caudate', 'Putamen', 'Thalamus', 'Pallidum', 'Hippocampus', 'Amygdala', 'Insula', 'Cingulum_Ant', 'Calcarine', 'Lingual', 'Precentral', 'Temporal_Sup'];

export const ATLAS_SETS: readonly AtlasSet[] = [
  {
    id: 'aal-colin27-left',
    description: 'Colin27 T1 (MR, 1 mm) with AAL, left hemisphere (tuning split)',
    tuning: true,
    image: 'ch2.nii.gz',
    labels: 'aal.nii.gz',
    names: 'aal.nii.txt',
    structures: AAL_STRUCTURES.map((s) => `${s}_L`),
  },
  {
    id: 'aal-colin27-right',
    description: 'Colin27 T1 (MR, 1 mm) with AAL, right hemisphere (held out)',
    tuning: false,
    image: 'ch2.nii.gz',
    labels: 'aal.nii.gz',
    names: 'aal.nii.txt',
    structures: AAL_STRUCTURES.map((s) => `${s}_R`),
  },
  {
    id: 'inia19-macaque-right',
    description: 'INIA19 macaque T1 (MR, 0.5 mm, skull-stripped) with NeuroMaps labels, right hemisphere (held out)',
    tuning: false,
    image: 'inia19-t1-brain.nii.gz',
    labels: 'inia19-NeuroMaps.nii.gz',
    structures: [
      'r_caudate_nucleus',
      'r_putamen',
      'r_thalamus',
      'r_insula',
      'r_lateral_globus_pallidus',
      'r_anterior_cingulate_gyrus',
      'r_body_of_the_corpus_callosum',
      'r_internal_capsule',
      'r_entorhinal_area',
      'r_lingual_gyrus',
      'r_superior_temporal_gyrus',
      'r_body_of_the_lateral_ventricle',
    ],
  },
];

/** One structure posed on one slice: the image and its ground-truth mask. */
export interface PosedStructure {
  name: string;
  label: number;
  sliceIndex: number;
  image: SegmentImage;
  truth: Uint8Array;
}

/** Pixels of `value` on each axial slice (third voxel axis). */
function sliceAreas(labels: NiftiVolume, value: number): number[] {
  const [nx, ny, nz] = labels.sizes;
  const plane = nx * ny;
  return Array.from({ length: nz }, (_, z) => {
    let area = 0;
    for (let i = z * plane; i < (z + 1) * plane; i++) if (labels.values[i] === value) area++;
    return area;
  });
}

/** The structure's largest axial slice (third voxel axis) as a segmentation task. */
export function poseStructure(image: NiftiVolume, labels: NiftiVolume, name: string, value: number): PosedStructure {
  const areas = sliceAreas(labels, value);
  const bestArea = Math.max(...areas);
  if (bestArea === 0) throw new Error(`structure "${name}" (${value}) is empty`);
  return poseStructureOnSlice(image, labels, name, value, areas.indexOf(bestArea));
}

/** The structure on axial slice `bestSlice` as a segmentation task. */
export function poseStructureOnSlice(image: NiftiVolume, labels: NiftiVolume, name: string, value: number, bestSlice: number): PosedStructure {
  const [nx, ny] = labels.sizes;
  if (image.sizes.join() !== labels.sizes.join()) throw new Error(`image ${image.sizes.join('×')} and labels ${labels.sizes.join('×')} differ`);
  const plane = nx * ny;
  const truth = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) truth[i] = labels.values[bestSlice * plane + i] === value ? 1 : 0;
  const pixels = image.values.slice(bestSlice * plane, (bestSlice + 1) * plane);
  const window = defaultWindow(pixels);
  const lower = window.center - window.width / 2;
  const picture = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) picture[i] = Math.max(0, Math.min(255, Math.round(((pixels[i]! - lower) / window.width) * 255)));
  return {
    name,
    label: value,
    sliceIndex: bestSlice,
    image: { key: `${name}:${bestSlice}`, width: nx, height: ny, pixels, window: { lower, upper: lower + window.width }, picture },
    truth,
  };
}

export async function loadAtlasSet(set: AtlasSet, directory = MRICRON_TEMPLATES): Promise<PosedStructure[]> {
  const [image, labels] = await Promise.all([readNifti(path.join(directory, set.image)), readNifti(path.join(directory, set.labels))]);
  const names = set.names ? parseLabelTable(await readFile(path.join(directory, set.names), 'utf8')) : labels.labelNames;
  const byName = new Map([...names].map(([value, name]) => [name, value]));
  return set.structures.map((name) => {
    const value = byName.get(name);
    if (value === undefined) throw new Error(`${set.labels} has no structure "${name}"`);
    return poseStructure(image, labels, name, value);
  });
}

/** Where scripts/fetch-labelled-ct.sh puts pyradiomics' labelled lung CT cases. */
export const PYRADIOMICS_DATA = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '.cache', 'pyradiomics-data');

export const LABELLED_CT = {
  id: 'pyradiomics-lung-ct',
  description: "lung CT (5 mm) with a labelled finding, pyradiomics' test cases lung1 and lung2 (held out; lesion labels: no CT with organ labels ships in a Debian, npm or PyPI package)",
  cases: [
    { name: 'lung1_finding', image: 'lung1_image.nrrd', labels: 'lung1_label.nrrd' },
    { name: 'lung2_finding', image: 'lung2_image.nrrd', labels: 'lung2_label.nrrd' },
  ],
  /** A finding is posed on each slice holding at least this share of its largest cross-section. */
  minShareOfLargest: 0.25,
} as const;

/** The labelled CT findings (label 1 in each case's labelmap), posed on each of their larger slices. */
export async function loadLabelledCt(directory = PYRADIOMICS_DATA): Promise<PosedStructure[]> {
  const posed: PosedStructure[] = [];
  for (const c of LABELLED_CT.cases) {
    const [image, labels] = await Promise.all([readNrrd(path.join(directory, c.image)), readNrrd(path.join(directory, c.labels))]);
    const areas = sliceAreas(labels, 1);
    const largest = Math.max(...areas);
    if (largest === 0) throw new Error(`${c.labels} labels no finding (value 1)`);
    areas.forEach((area, z) => {
      if (area >= LABELLED_CT.minShareOfLargest * largest) posed.push({ ...poseStructureOnSlice(image, labels, `${c.name}@${z}`, 1, z), name: `${c.name} z${z}` });
    });
  }
  return posed;
}

export async function scoreStructures(structures: readonly PosedStructure[], segmenter: Segmenter): Promise<SampleEvaluation> {
  const results: StructureScore[] = [];
  for (const s of structures) {
    const { width, height } = s.image;
    const box = maskBox(s.truth, width, height)!;
    const points = interiorPoints(s.truth, width, height)!.map(([x, y]) => ({ x, y, label: 1 as const }));
    const score = async (b: PixelBox) => {
      const started = performance.now();
      const result = await segmenter.segment(s.image, { box: b, points });
      const ms = performance.now() - started;
      return { box: b, dice: maskDice(result.mask, s.truth), ellipseDice: maskDice(inscribedEllipseMask(width, height, b), s.truth), ms, mask: result.mask };
    };
    // The click right after the tight answer, so that it refines that answer (as in the viewer).
    const tight = await score(box);
    const click = correctiveClick(tight.mask, s.truth, width, height);
    const clicked = click ? await segmenter.segment(s.image, { box, points: [...points, click] }) : null;
    const loose = await score(growBox(box, LOOSE_BOX_GROWTH, width, height));
    let area = 0;
    for (let i = 0; i < s.truth.length; i++) area += s.truth[i]!;
    const points2 = points.map((p) => [p.x, p.y]) as [[number, number], [number, number]];
    results.push({
      name: s.name,
      label: s.label,
      sliceIndex: s.sliceIndex,
      area,
      points: points2,
      tight: { box: tight.box, dice: tight.dice, ellipseDice: tight.ellipseDice, ms: tight.ms },
      loose: { box: loose.box, dice: loose.dice, ellipseDice: loose.ellipseDice, ms: loose.ms },
      clickDice: clicked ? maskDice(clicked.mask, s.truth) : tight.dice,
    });
  }
  return summariseEvaluation(segmenter.label, results);
}
