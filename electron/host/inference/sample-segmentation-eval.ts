// Scores a segmenter on the embedded sample's structures, as the benchmark asks:
// for each organ and lesion, on the slice where it is largest, prompt with the tight box
// and two interior points from the ground truth, then with the box grown by 25 % on every
// side, and compare the Dice with that of the ellipse inscribed in the same box.
// Slices are read the way `medreasoner segment` reads them: the series folder imported
// with importDicom, slice k in slice order, pixels decoded by loadSlice.
import path from 'node:path';
import { importDicom } from '../dicom/importer.ts';
import { readGroundTruth } from '../sample/ground-truth.ts';
import { correctiveClick } from './corrective-click.ts';
import { growBox, interiorPoints, maskBox } from './ground-truth-prompts.ts';
import { inscribedEllipseMask } from './default-segmenter.ts';
import { slicePicture } from './image-prep.ts';
import { maskDice } from './metrics.ts';
import { loadSlice, type SlicePixels } from './slice-pixels.ts';
import type { PixelBox, Segmenter } from './segmenter-types.ts';

export const LOOSE_BOX_GROWTH = 0.25;

export interface ConditionScore {
  box: PixelBox;
  dice: number;
  ellipseDice: number;
  ms: number;
}

export interface StructureScore {
  name: string;
  label: number;
  sliceIndex: number;
  area: number;
  points: [[number, number], [number, number]];
  tight: ConditionScore;
  loose: ConditionScore;
  /** Tight-box Dice after one corrective click on the tight answer's worst error (corrective-click.ts). */
  clickDice?: number;
}

export interface SampleEvaluation {
  segmenter: string;
  structures: StructureScore[];
  /** Mean Dice over structures per condition, segmenter and ellipse. */
  mean: { tight: number; tightEllipse: number; loose: number; looseEllipse: number; click?: number };
}

/** Structures the benchmark scores: every labelled organ and lesion (not the body outline). */
export const EVALUATED_STRUCTURES = [
  'liver',
  'spleen',
  'kidney_left',
  'kidney_right',
  'lung_left',
  'lung_right',
  'spine',
  'aorta',
  'liver_lesion',
  'lung_nodule',
  'kidney_cyst',
] as const;

export async function evaluateOnSample(sampleDir: string, segmenter: Segmenter, structures: readonly string[] = EVALUATED_STRUCTURES): Promise<SampleEvaluation> {
  const truth = await readGroundTruth(sampleDir);
  const [columns, rows, slices] = truth.sizes;
  const outcome = await importDicom({ paths: [path.join(sampleDir, 'dicom')] });
  const series = outcome.series.filter((s) => s.slices.length > 0);
  if (series.length !== 1) throw new Error(`expected one image series in ${sampleDir}/dicom, found ${series.length}`);
  const sliceRefs = series[0]!.slices;
  if (sliceRefs.length !== slices) throw new Error(`the series has ${sliceRefs.length} slices, the ground truth ${slices}`);
  const sliceCache = new Map<number, SlicePixels>();
  const slicePixels = async (k: number) => {
    let pixels = sliceCache.get(k);
    if (!pixels) {
      const ref = sliceRefs[k]!;
      pixels = await loadSlice(ref.path, ref.frame ?? 0);
      sliceCache.set(k, pixels);
    }
    return pixels;
  };
  const plane = columns * rows;
  const results: StructureScore[] = [];
  for (const name of structures) {
    const entry = truth.table.find((t) => t.name === name);
    if (!entry) throw new Error(`the sample's ground truth has no structure "${name}"`);
    // The slice where the structure is largest.
    let bestSlice = -1;
    let bestArea = 0;
    for (let k = 0; k < slices; k++) {
      let area = 0;
      const base = k * plane;
      for (let i = 0; i < plane; i++) if (truth.labels[base + i] === entry.value) area++;
      if (area > bestArea) {
        bestArea = area;
        bestSlice = k;
      }
    }
    if (bestSlice < 0) throw new Error(`structure "${name}" is empty in the sample`);
    const gt = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) gt[i] = truth.labels[bestSlice * plane + i] === entry.value ? 1 : 0;
    const tightBox = maskBox(gt, columns, rows)!;
    const looseBox = growBox(tightBox, LOOSE_BOX_GROWTH, columns, rows);
    const points = interiorPoints(gt, columns, rows)!;
    const pixels = await slicePixels(bestSlice);
    const image = {
      key: `sample:${bestSlice}`,
      width: pixels.width,
      height: pixels.height,
      pixels: pixels.pixels,
      window: { lower: -160, upper: 240 },
      picture: slicePicture(pixels, { center: 40, width: 400 }),
    };
    const prompts = points.map(([x, y]) => ({ x, y, label: 1 as const }));
    let tightMask: Uint8Array | null = null;
    const score = async (box: PixelBox): Promise<ConditionScore> => {
      const started = performance.now();
      const result = await segmenter.segment(image, { box, points: prompts });
      const ms = performance.now() - started;
      tightMask ??= result.mask;
      return { box, dice: maskDice(result.mask, gt), ellipseDice: maskDice(inscribedEllipseMask(columns, rows, box), gt), ms };
    };
    const tight = await score(tightBox);
    // The corrective click right after the tight answer, so that it refines that answer.
    const click = correctiveClick(tightMask!, gt, columns, rows);
    const clickDice = click ? maskDice((await segmenter.segment(image, { box: tightBox, points: [...prompts, click] })).mask, gt) : tight.dice;
    results.push({
      name,
      label: entry.value,
      sliceIndex: bestSlice,
      area: bestArea,
      points,
      tight,
      loose: await score(looseBox),
      clickDice,
    });
  }
  return summariseEvaluation(segmenter.label, results);
}

/** The per-structure scores with their means over the structures (the benchmark's table rows). */
export function summariseEvaluation(segmenter: string, results: StructureScore[]): SampleEvaluation {
  const mean = (f: (s: StructureScore) => number) => results.reduce((a, s) => a + f(s), 0) / results.length;
  return {
    segmenter,
    structures: results,
    mean: {
      tight: mean((s) => s.tight.dice),
      tightEllipse: mean((s) => s.tight.ellipseDice),
      loose: mean((s) => s.loose.dice),
      looseEllipse: mean((s) => s.loose.ellipseDice),
      click: mean((s) => s.clickDice ?? s.tight.dice),
    },
  };
}

export function formatEvaluation(evaluation: SampleEvaluation): string {
  const f = (v: number) => v.toFixed(3);
  const lines = [
    `Segmenter: ${evaluation.segmenter}`,
    `Prompts: tight ground-truth box, or that box grown by ${LOOSE_BOX_GROWTH * 100} % of its size on every side; 2 interior points (positive).`,
    '',
    'structure                  slice  area | tight: dice  ellipse  margin | loose: dice  ellipse  margin | +1 click |  ms',
  ];
  for (const s of evaluation.structures) {
    lines.push(
      `${s.name.slice(0, 26).padEnd(26)} ${String(s.sliceIndex).padStart(5)} ${String(s.area).padStart(5)} |        ${f(s.tight.dice)}  ${f(s.tight.ellipseDice)}  ${(s.tight.dice - s.tight.ellipseDice >= 0 ? '+' : '') + f(s.tight.dice - s.tight.ellipseDice)} |        ${f(s.loose.dice)}  ${f(s.loose.ellipseDice)}  ${(s.loose.dice - s.loose.ellipseDice >= 0 ? '+' : '') + f(s.loose.dice - s.loose.ellipseDice)} |    ${s.clickDice === undefined ? '  -  ' : f(s.clickDice)} | ${Math.round(s.tight.ms + s.loose.ms)}`,
    );
  }
  const m = evaluation.mean;
  lines.push(
    `${'mean'.padEnd(38)} |        ${f(m.tight)}  ${f(m.tightEllipse)}  ${(m.tight - m.tightEllipse >= 0 ? '+' : '') + f(m.tight - m.tightEllipse)} |        ${f(m.loose)}  ${f(m.looseEllipse)}  ${(m.loose - m.looseEllipse >= 0 ? '+' : '') + f(m.loose - m.looseEllipse)} |    ${m.click === undefined ? '  -  ' : f(m.click)} |`,
  );
  if (m.click !== undefined) lines.push(`one corrective click on each structure's worst error: mean tight Dice ${f(m.tight)} → ${f(m.click)} (${(m.click - m.tight >= 0 ? '+' : '') + f(m.click - m.tight)})`);
  const calls = evaluation.structures.length * 2;
  lines.push(`${(evaluation.structures.reduce((a, s) => a + s.tight.ms + s.loose.ms, 0) / calls).toFixed(1)} ms per call (mean of ${calls})`);
  return lines.join('\n');
}
