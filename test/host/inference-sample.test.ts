// On the embedded sample CT: the default segmenter against the trivial answer (the ellipse
// inscribed in the box) with tight and loose boxes, and the `segment` and `ask` commands
// end to end (series folder → slice → pipeline → PNG / JSON).
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import { runAskCommand } from '../../electron/cli/commands/ask-command.ts';
import { runSegmentCommand } from '../../electron/cli/commands/segment-command.ts';
import { createDefaultSegmenter, inscribedEllipseMask } from '../../electron/host/inference/default-segmenter.ts';
import { growBox, interiorPoints, maskBox } from '../../electron/host/inference/ground-truth-prompts.ts';
import { maskDice } from '../../electron/host/inference/metrics.ts';
import { evaluateOnSample, type SampleEvaluation } from '../../electron/host/inference/sample-segmentation-eval.ts';
import { readGroundTruth, type GroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { writeSample } from '../../electron/host/sample/sample-store.ts';
import { PYDICOM_TEST_FILES } from './real-parts.ts';

let root: string;
let sampleDir: string;
let truth: GroundTruth;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'medreasoner-sample-inference-'));
  sampleDir = path.join(root, 'sample');
  await writeSample(sampleDir);
  truth = await readGroundTruth(sampleDir);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

/** Ground-truth mask of a structure on the slice where it is largest. */
function largestSlice(name: string): { k: number; mask: Uint8Array } {
  const [columns, rows, slices] = truth.sizes;
  const value = truth.table.find((t) => t.name === name)!.value;
  const plane = columns * rows;
  let best = { k: -1, area: 0 };
  for (let k = 0; k < slices; k++) {
    let area = 0;
    for (let i = 0; i < plane; i++) if (truth.labels[k * plane + i] === value) area++;
    if (area > best.area) best = { k, area };
  }
  const mask = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) mask[i] = truth.labels[best.k * plane + i] === value ? 1 : 0;
  return { k: best.k, mask };
}

describe('the default segmenter on the sample', () => {
  let evaluation: SampleEvaluation;
  beforeAll(async () => {
    evaluation = await evaluateOnSample(sampleDir, createDefaultSegmenter());
  });

  test('with a box grown by 25 %, it beats the inscribed ellipse clearly on every organ and lesion', () => {
    for (const s of evaluation.structures) {
      expect(s.loose.dice, `${s.name}: default ${s.loose.dice.toFixed(3)} vs ellipse ${s.loose.ellipseDice.toFixed(3)}`).toBeGreaterThan(s.loose.ellipseDice + 0.15);
    }
    expect(evaluation.mean.loose).toBeGreaterThan(evaluation.mean.looseEllipse + 0.3);
  });

  test('with the tight box it beats the ellipse on average, and is never far below it', () => {
    expect(evaluation.mean.tight).toBeGreaterThan(evaluation.mean.tightEllipse + 0.1);
    for (const s of evaluation.structures) {
      // The sample's lesions are spheres: the ellipse inscribed in their tight box is almost exact.
      expect(s.tight.dice, `${s.name}: default ${s.tight.dice.toFixed(3)} vs ellipse ${s.tight.ellipseDice.toFixed(3)}`).toBeGreaterThan(s.tight.ellipseDice - 0.05);
      expect(s.tight.dice, s.name).toBeGreaterThan(0.8);
    }
  });
});

describe('medreasoner segment', () => {
  test('the liver lesion from a loose box and two interior points: an 8-bit PNG at native size that beats the ellipse', async () => {
    const { k, mask } = largestSlice('liver_lesion');
    const [columns, rows] = truth.sizes;
    const box = growBox(maskBox(mask, columns, rows)!, 0.25, columns, rows);
    const [p1, p2] = interiorPoints(mask, columns, rows)!;
    const out = path.join(root, 'lesion.png');
    const c = capture();
    const code = await runSegmentCommand(
      ['--series', path.join(sampleDir, 'dicom'), '--slice', String(k), '--box', box.join(','), '--point', p1.join(','), '--point', `${p2.join(',')},1`, '--out', out, '--json', '--models', path.join(root, 'no-models')],
      c.io,
    );
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(c.out.join(''));
    expect(json.segmenter).toMatchObject({ kind: 'default', label: expect.stringMatching(/^Default segmenter/) });
    expect(json.provider.name).toBe('cpu');
    expect(json.prompts).toEqual({ box, points: [{ x: p1[0], y: p1[1], label: 1 }, { x: p2[0], y: p2[1], label: 1 }] });
    expect(json.sliceIndex).toBe(k);
    expect(json.timings.total).toBeGreaterThan(0);
    const png = decode(await readFile(out));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([columns, rows, 1, 8]);
    expect(new Set(png.data)).toEqual(new Set([0, 255]));
    const produced = Uint8Array.from(png.data, (v) => (v ? 1 : 0));
    expect(json.mask.area).toBe(produced.reduce((a, b) => a + b, 0));
    expect(maskDice(produced, mask)).toBeGreaterThan(maskDice(inscribedEllipseMask(columns, rows, box), mask) + 0.2);
  });

  test('usage errors exit 2; a slice past the end exits 1 and says how many there are', async () => {
    const series = path.join(sampleDir, 'dicom');
    const a = capture();
    expect(await runSegmentCommand(['--series', series, '--slice', '3'], a.io)).toBe(2);
    expect(a.err.join('\n')).toMatch(/give --box, or at least one positive --point/);
    const b = capture();
    expect(await runSegmentCommand(['--series', series, '--slice', '3', '--box', '1,2,3'], b.io)).toBe(2);
    const c = capture();
    expect(await runSegmentCommand(['--series', series, '--slice', '3', '--box', '1,2,3,4', '--point', '5,5,2'], c.io)).toBe(2);
    const d = capture();
    expect(await runSegmentCommand(['--series', series, '--slice', '999', '--box', '1,2,30,40', '--models', path.join(root, 'no-models')], d.io)).toBe(1);
    expect(d.err.join('\n')).toMatch(/--slice 999: the series has 120 slices \(0 to 119/);
    const e = capture();
    expect(await runSegmentCommand(['--series', series, '--slice', '3', '--box', '1,2,300,40', '--models', path.join(root, 'no-models')], e.io)).toBe(2);
    expect(e.err.join('\n')).toMatch(/is not inside the 256×256 image/);
  });

  test('a folder with several image series is refused, listing them', async () => {
    const mixed = path.join(root, 'mixed');
    await mkdir(mixed, { recursive: true });
    await copyFile(path.join(sampleDir, 'dicom', 'CT000001.dcm'), path.join(mixed, 'a.dcm'));
    await copyFile(path.join(PYDICOM_TEST_FILES, 'CT_small.dcm'), path.join(mixed, 'b.dcm'));
    const c = capture();
    expect(await runSegmentCommand(['--series', mixed, '--slice', '0', '--box', '1,1,20,20', '--models', path.join(root, 'no-models')], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/holds 2 image series; point --series at a folder with one of them:\n {2}.*\n {2}.*/);
  });
});

describe('medreasoner ask', () => {
  test('with the tiny models: reasoning, answer, box, points, mask file, timings, models and provider in the JSON', async () => {
    const modelsDir = path.join(root, 'tiny-models');
    await writeTinyModels(modelsDir);
    const out = path.join(root, 'ask.png');
    const c = capture();
    const code = await runAskCommand(['--series', path.join(sampleDir, 'dicom'), '--slice', '56', '--question', 'Which organ in the right upper abdomen is largest?', '--out', out, '--json', '--models', modelsDir], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(c.out.join(''));
    expect(json.status).toBe('ok');
    expect(json.reasoning).toMatch(/liver/);
    expect(json.answerText).toBe("{'bbox': [40, 60, 120, 150], 'points_1': [70, 100], 'points_2': [95, 120]}");
    expect(json.image).toEqual({ width: 256, height: 256, seen: { width: 252, height: 252 } });
    const s = 256 / 252;
    expect(json.box).toEqual([40, 60, 120, 150].map((v) => Math.round(v * s)));
    expect(json.points[0][0]).toBeCloseTo(70 * s, 6);
    expect(json.crm.id).toBe('medreasoner-tiny');
    expect(json.segmenter.kind).toBe('medsam2');
    expect(json.provider.name).toBe('cpu');
    expect(json.window).toEqual({ center: 40, width: 400 }); // the sample's own CT window
    for (const stage of ['crmPrefill', 'crmDecode', 'asmEncoder', 'asmDecoder', 'total']) expect(json.timings[stage]).toBeGreaterThan(0);
    const png = decode(await readFile(out));
    expect([png.width, png.height, png.channels]).toEqual([256, 256, 1]);
    expect(json.mask.area).toBe(Array.from(png.data).filter((v) => v === 255).length);
  });

  test('without a CRM the command fails (exit 1) and says how to install one', async () => {
    const c = capture();
    expect(await runAskCommand(['--series', path.join(sampleDir, 'dicom'), '--slice', '56', '--question', 'q', '--models', path.join(root, 'no-models')], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/No MedReasoner model \(CRM\) is installed in .*`medreasoner models install medreasoner-7b --from/);
  });
});
