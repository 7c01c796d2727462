// `medreasoner segment … --seg out.dcm` and `medreasoner ask … --seg out.dcm --sr out-sr.dcm`
// on the embedded sample CT (ask on the tiny models): every SEG and SR passes dciodvfy with
// zero errors; pydicom reads back exactly the command's mask on the right slice (matched by
// ReferencedSOPInstanceUID against the slices' SOP Instance UIDs, read and ordered here
// independently of the importer), with the right segment attributes; the SR records the
// question, reasoning, prompts and models and references the SEG; usage errors exit 2.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAskCommand } from '../../electron/cli/commands/ask-command.ts';
import { runSegmentCommand } from '../../electron/cli/commands/segment-command.ts';
import { DEFAULT_SEGMENTER_LABEL } from '../../electron/host/inference/segmenter-types.ts';
import { writeSample } from '../../electron/host/sample/sample-store.ts';
import { writeTinyModels, TINY_ASM_ID, TINY_CRM_ID } from '../../native-models/tiny/make-tiny-models.ts';
import { dciodvfy, readSegWithPydicom, runPydicom, type PydicomSeg } from './seg-fixtures.ts';

let root: string;
let seriesDir: string;
/** SOP Instance UIDs in slice order (ascending position along the slice normal). */
let sopUids: string[];

const ORDER_SCRIPT = String.raw`
import json, os, sys
import pydicom
args = json.load(sys.stdin)
rows = []
for name in sorted(os.listdir(args["dir"])):
    ds = pydicom.dcmread(os.path.join(args["dir"], name), stop_before_pixels=True)
    o = [float(v) for v in ds.ImageOrientationPatient]
    n = [o[1]*o[5]-o[2]*o[4], o[2]*o[3]-o[0]*o[5], o[0]*o[4]-o[1]*o[3]]
    p = [float(v) for v in ds.ImagePositionPatient]
    rows.append((sum(a*b for a, b in zip(p, n)), str(ds.SOPInstanceUID)))
rows.sort()
print(json.dumps([uid for _, uid in rows]))
`;

/** Every content item of the SR, flattened: concept meaning, value type, text/UID/graphic data, references. */
const SR_SCRIPT = String.raw`
import json, sys
import pydicom
args = json.load(sys.stdin)
ds = pydicom.dcmread(args["path"])
items = []
def walk(seq):
    # The Finding of the group an item is in: what a TID 1410 prompt group's region is.
    finding = next((str(i.ConceptCodeSequence[0].CodeMeaning) for i in seq if "ConceptCodeSequence" in i and str(i.ConceptNameCodeSequence[0].CodeValue) == "121071"), None)
    for it in seq:
        name = str(it.ConceptNameCodeSequence[0].CodeMeaning) if "ConceptNameCodeSequence" in it else None
        entry = {"name": name, "type": str(it.ValueType), "finding": finding}
        if "TextValue" in it: entry["text"] = str(it.TextValue)
        if "UID" in it: entry["uid"] = str(it.UID)
        if "GraphicData" in it: entry["graphic"] = [float(v) for v in it.GraphicData]
        if "ReferencedSOPSequence" in it:
            entry["refs"] = [str(r.ReferencedSOPInstanceUID) for r in it.ReferencedSOPSequence]
        items.append(entry)
        if "ContentSequence" in it: walk(it.ContentSequence)
walk(ds.ContentSequence)
print(json.dumps({"sopClassUid": str(ds.SOPClassUID), "studyInstanceUid": str(ds.StudyInstanceUID), "items": items}))
`;

interface SrItem {
  name: string | null;
  finding: string | null;
  type: string;
  text?: string;
  uid?: string;
  graphic?: number[];
  refs?: string[];
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

function expectValid(file: string): void {
  const verdict = dciodvfy(file);
  expect(verdict.errors, `${path.basename(file)}:\n${verdict.output}`).toEqual([]);
}

/** The mask PNG a command wrote with --out, as 0/1 values. */
async function pngMask(file: string): Promise<Uint8Array> {
  const png = decode(await readFile(file));
  expect(png.channels).toBe(1);
  return Uint8Array.from(png.data, (v) => (v ? 1 : 0));
}

/** The SEG read by pydicom equals `mask` on slice k and is empty everywhere else. */
function expectVolumeIsMaskOnSlice(read: PydicomSeg, mask: Uint8Array, k: number): void {
  const plane = mask.length;
  expect(read.volume.length).toBe(plane * sopUids.length);
  expect(read.frameList.map((f) => f.slice)).toEqual([k]);
  let differences = 0;
  let outside = 0;
  for (let s = 0; s < sopUids.length; s++) {
    for (let i = 0; i < plane; i++) {
      const value = read.volume[s * plane + i]!;
      if (s === k) differences += value !== mask[i] ? 1 : 0;
      else outside += value !== 0 ? 1 : 0;
    }
  }
  expect(differences, 'voxels on the prompted slice that differ from the mask').toBe(0);
  expect(outside, 'voxels on other slices').toBe(0);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'medreasoner-cli-seg-'));
  await writeSample(path.join(root, 'sample'));
  seriesDir = path.join(root, 'sample', 'dicom');
  sopUids = runPydicom<string[]>(ORDER_SCRIPT, { dir: seriesDir });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('medreasoner segment --seg', () => {
  const k = 60;
  const box = [70, 80, 150, 170];
  const points = [[110, 125], [100, 140]];

  test('writes the mask as a valid BINARY SEG: SEMIAUTOMATIC, named by the segmenter, exactly the mask on slice k', async () => {
    const seg = path.join(root, 'segment.dcm');
    const png = path.join(root, 'segment.png');
    const c = capture();
    const code = await runSegmentCommand(
      ['--series', seriesDir, '--slice', String(k), '--box', box.join(','), '--point', points[0]!.join(','), '--point', `${points[1]!.join(',')},0`, '--out', png, '--seg', seg, '--label', 'Liver', '--term', 'liver', '--json', '--models', path.join(root, 'no-models')],
      c.io,
    );
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(c.out.join(''));
    expect(json.seg).toMatchObject({ path: seg, type: 'BINARY', frames: 1 });
    expect(json.sr).toBeNull();

    expectValid(seg);
    const mask = await pngMask(png);
    expect(mask.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const read = readSegWithPydicom(seg, sopUids, root);
    expect(read.type).toBe('BINARY');
    expect(read.seriesInstanceUid).toBe(json.seg.seriesInstanceUid);
    expectVolumeIsMaskOnSlice(read, mask, k);
    expect(read.segments).toEqual([
      expect.objectContaining({ number: 1, label: 'Liver', algorithmType: 'SEMIAUTOMATIC', algorithmName: DEFAULT_SEGMENTER_LABEL, category: ['123037004', 'SCT'], type: ['10200004', 'SCT'] }),
    ]);
  });

  test('without --label and --term: label "Segment", coded Tissue / Tissue; text output names the file', async () => {
    const seg = path.join(root, 'segment-default.dcm');
    const c = capture();
    expect(await runSegmentCommand(['--series', seriesDir, '--slice', String(k), '--box', box.join(','), '--seg', seg, '--models', path.join(root, 'no-models')], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain(`DICOM-SEG (BINARY, 1 frame): ${seg}`);
    expectValid(seg);
    const read = readSegWithPydicom(seg, sopUids, root);
    expect(read.segments).toEqual([expect.objectContaining({ label: 'Segment', algorithmType: 'SEMIAUTOMATIC', category: ['85756007', 'SCT'], type: ['85756007', 'SCT'] })]);
  });

  test('--seg-type labelmap-rle writes a Label Map SEG in RLE Lossless that pydicom reads as exactly the mask', async () => {
    const seg = path.join(root, 'segment-rle.dcm');
    const png = path.join(root, 'segment-rle.png');
    const c = capture();
    const args = ['--series', seriesDir, '--slice', String(k), '--box', box.join(','), '--out', png, '--seg', seg, '--seg-type', 'labelmap-rle', '--json', '--models', path.join(root, 'no-models')];
    expect(await runSegmentCommand(args, c.io)).toBe(0);
    expect(JSON.parse(c.out.join('')).seg).toMatchObject({ path: seg, type: 'LABELMAP', frames: 1 });
    const read = readSegWithPydicom(seg, sopUids, root);
    expect(read.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.66.7');
    expectVolumeIsMaskOnSlice(read, await pngMask(png), k);
    const syntax = runPydicom<string>('import json, sys, pydicom\nprint(json.dumps(str(pydicom.dcmread(json.load(sys.stdin)["path"]).file_meta.TransferSyntaxUID)))', { path: seg });
    expect(syntax).toBe('1.2.840.10008.1.2.5');
  });

  test('usage errors exit 2: --sr is not a segment option, --label/--term need --seg, an unknown --term', async () => {
    const base = ['--series', seriesDir, '--slice', String(k), '--box', box.join(',')];
    const cases: Array<[string[], RegExp]> = [
      [['--seg', path.join(root, 'x.dcm'), '--sr', path.join(root, 'x-sr.dcm')], /unknown option --sr/],
      [['--label', 'Liver'], /--label describes the DICOM-SEG segment: give --seg too/],
      [['--seg', path.join(root, 'x.dcm'), '--term', 'no-such-organ'], /--term "no-such-organ" is not in the segment pick list/],
      [['--seg', path.join(root, 'x.dcm'), '--label', ''], /--label is empty/],
      [['--seg', path.join(root, 'x.dcm'), '--seg-type', 'rle'], /--seg-type must be binary, labelmap, labelmap-rle, got "rle"/],
      [['--seg-type', 'labelmap'], /--seg-type describes the DICOM-SEG: give --seg too/],
    ];
    for (const [extra, message] of cases) {
      const c = capture();
      expect(await runSegmentCommand([...base, ...extra], c.io), extra.join(' ')).toBe(2);
      expect(c.err.join('\n')).toMatch(message);
    }
  });
});

describe('medreasoner ask --seg --sr on the tiny models', () => {
  const k = 56;
  const question = 'Which organ in the right upper abdomen is largest?';
  let modelsDir: string;
  beforeAll(async () => {
    modelsDir = path.join(root, 'tiny-models');
    await writeTinyModels(modelsDir);
  });

  test('the SEG is AUTOMATIC, named by the CRM and ASM, exactly the mask; the SR records question, reasoning, prompts, models and references the SEG', async () => {
    const seg = path.join(root, 'ask.dcm');
    const sr = path.join(root, 'ask-sr.dcm');
    const png = path.join(root, 'ask.png');
    const c = capture();
    const code = await runAskCommand(['--series', seriesDir, '--slice', String(k), '--question', question, '--out', png, '--seg', seg, '--sr', sr, '--json', '--models', modelsDir], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(c.out.join(''));
    expect(json.status).toBe('ok');
    expect(json.seg).toMatchObject({ path: seg, type: 'BINARY', frames: 1 });
    expect(json.sr).toMatchObject({ path: sr });

    expectValid(seg);
    expectValid(sr);

    const mask = await pngMask(png);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(json.mask.area);
    const read = readSegWithPydicom(seg, sopUids, root);
    expectVolumeIsMaskOnSlice(read, mask, k);
    expect(read.segments).toEqual([
      expect.objectContaining({ number: 1, label: 'Segment', algorithmType: 'AUTOMATIC', algorithmName: `${TINY_CRM_ID} + ${TINY_ASM_ID}` }),
    ]);

    const report = runPydicom<{ sopClassUid: string; studyInstanceUid: string; items: SrItem[] }>(SR_SCRIPT, { path: sr });
    expect(report.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.88.33');
    expect(report.studyInstanceUid).toBe(read.studyInstanceUid);
    const texts = report.items.filter((i) => i.text !== undefined).map((i) => i.text!);
    expect(texts).toContain(question);
    expect(texts).toContain(json.reasoning);
    expect(texts).toContain(json.answerText);
    expect(texts).toEqual(expect.arrayContaining([TINY_CRM_ID, TINY_ASM_ID]));
    expect(report.items.some((i) => i.name === 'Referenced Segment' && i.refs?.includes(json.seg.sopInstanceUid))).toBe(true);
    // Prompts in SR image coordinates: pixel centres at +0.5, the inclusive box's far edge at +1.
    const [x0, y0, x1, y1] = json.box as number[];
    const boxItem = report.items.find((i) => i.name === 'Image Region' && i.finding === 'Box prompt');
    expect(boxItem?.graphic).toEqual([x0!, y0!, x1! + 1, y0!, x1! + 1, y1! + 1, x0!, y1! + 1, x0!, y0!]);
    const pointItems = report.items.filter((i) => i.name === 'Image Region' && i.finding === 'Positive point prompt');
    expect(pointItems).toHaveLength(2);
    (json.points as number[][]).forEach(([x, y], n) => {
      expect(pointItems[n]!.graphic![0]).toBeCloseTo(x! + 0.5, 4);
      expect(pointItems[n]!.graphic![1]).toBeCloseTo(y! + 0.5, 4);
    });
    // The prompts are selected from the prompted slice's image.
    const sources = report.items.filter((i) => i.name === 'Source' && i.type === 'IMAGE');
    expect(sources).toHaveLength(3);
    for (const source of sources) expect(source.refs).toEqual([sopUids[k]]);
  });

  test('usage errors exit 2: --sr without --seg, --seg and --sr the same file', async () => {
    const base = ['--series', seriesDir, '--slice', String(k), '--question', question, '--models', modelsDir];
    const a = capture();
    expect(await runAskCommand([...base, '--sr', path.join(root, 'only-sr.dcm')], a.io)).toBe(2);
    expect(a.err.join('\n')).toMatch(/--sr needs --seg/);
    const b = capture();
    expect(await runAskCommand([...base, '--seg', path.join(root, 'same.dcm'), '--sr', path.join(root, 'same.dcm')], b.io)).toBe(2);
    expect(b.err.join('\n')).toMatch(/--seg and --sr must be different files/);
  });
});
