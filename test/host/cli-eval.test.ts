// `medreasoner eval` on a small dataset generated in U-MRG-14K's layout (parquet written by
// pyarrow in the seed's schema: native-models/testing/make_umrg_dataset.py). The CRM is a
// scripted loopback OpenAI server that answers each question with a box and points near the
// ground truth (one sample gets an unusable reply), because random weights never answer;
// the ASM is the app's real default segmenter. Every per-sample IoU, pDice and Dice must
// equal a Python reimplementation of the seed's eval/utils.py metrics, run here on the
// parquet (read by pyarrow) and the masks the command wrote, and the table's means must be
// the Python means. A run against a real `transformers serve` checks the whole path.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runEvalCommand } from '../../electron/cli/commands/eval-command.ts';
import { readUmrg, type UmrgSample } from '../../electron/host/inference/eval/umrg-dataset.ts';
import { projectPython } from './real-parts.ts';
import { ensureRandomQwen, type RandomQwen } from './random-qwen.ts';
import { startTransformersServe } from './transformers-serve.ts';

const exec = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

const SEED_METRICS = String.raw`
import io, json, math, sys
import numpy as np
import pyarrow.parquet as pq
from PIL import Image

def iou(pred, gt):
    ix = max(0, min(pred[2], gt[2]) - max(pred[0], gt[0]))
    iy = max(0, min(pred[3], gt[3]) - max(pred[1], gt[1]))
    inter = ix * iy
    a = (pred[2] - pred[0]) * (pred[3] - pred[1])
    b = (gt[2] - gt[0]) * (gt[3] - gt[1])
    return inter / (a + b - inter + 1e-6)

def circle(p, q):
    return (p[0] + q[0]) / 2, (p[1] + q[1]) / 2, float(np.linalg.norm(np.array(p, float) - np.array(q, float))) / 2

def lens(r1, r2, d):
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    a = r1 ** 2 * math.acos((d ** 2 + r1 ** 2 - r2 ** 2) / (2 * d * r1))
    b = r2 ** 2 * math.acos((d ** 2 + r2 ** 2 - r1 ** 2) / (2 * d * r2))
    c = 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    return a + b - c

def pdice(pred, gt):
    px, py, pr = circle(*pred)
    gx, gy, gr = circle(*gt)
    inter = lens(pr, gr, float(np.linalg.norm([px - gx, py - gy])))
    union = math.pi * pr ** 2 + math.pi * gr ** 2 - inter
    return 2 * inter / (union + 1e-5)

def dice(pred, gt):
    return 2.0 * np.logical_and(pred, gt).sum() / (pred.sum() + gt.sum() + 1e-6)

args = json.load(sys.stdin)
table = pq.read_table(args["parquet"]).to_pylist()
records = {r["id"]: r for r in args["records"]}
out = []
for row in table:
    rid = row["extra_info"]["id"]
    rec = records[rid]
    truth = json.loads(row["reward_model"]["ground_truth"])
    gt_mask = np.array(Image.open(io.BytesIO(row["masks"][0]["bytes"])).convert("L")) / 255.0
    if rec["bbox"] is None:
        out.append({"id": rid, "iou": 0.0, "pdice": 0.0, "dice": 0.0, "supercategory": row["extra_info"]["supercategory"]})
        continue
    pred_mask = np.array(Image.open(rec["maskFile"]).convert("L")) > 0 if rec["maskFile"] else np.zeros_like(gt_mask, bool)
    out.append({"id": rid, "supercategory": row["extra_info"]["supercategory"], "iou": round(iou(rec["bbox"], truth["bbox_2d"]), 4), "pdice": round(pdice(rec["points"], truth["point_2d"]), 4), "dice": round(float(dice(pred_mask, gt_mask)), 4)})
means = {}
for key in ["iou", "pdice", "dice"]:
    means[key] = round(sum(o[key] for o in out) / len(out), 4)
groups = {}
for o in out:
    groups.setdefault(o["supercategory"], []).append(o)
per_super = {k: {m: round(sum(o[m] for o in v) / len(v), 4) for m in ["iou", "pdice", "dice"]} for k, v in groups.items()}
print(json.dumps({"samples": out, "overall": means, "super": per_super}))
`;

let root: string;
let dataset: string;
let samples: UmrgSample[];
let scripted: http.Server;
let scriptedUrl: string;
let model: RandomQwen;

/** The stand-in's reply for a question: the ground truth shifted a little, or junk for one sample. */
function replyFor(question: string): string {
  const index = samples.findIndex((s) => question.includes(s.question));
  if (index < 0) return '<think>not a dataset question</think>';
  if (index === 2) return '<think>I cannot tell.</think><answer>none</answer>';
  const { bbox, points } = samples[index]!.gt;
  const d = index + 1;
  const box = [bbox[0] + d, bbox[1] - d, bbox[2] + 2 * d, bbox[3]];
  const p = [[points[0][0] + d, points[0][1]], [points[1][0], points[1][1] + d]];
  return `<think>Bright oval region ${index}.</think><answer>{'bbox': [${box.join(', ')}], 'points_1': [${p[0]!.join(', ')}], 'points_2': [${p[1]!.join(', ')}]}</answer>`;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'cli-eval-'));
  dataset = path.join(root, 'umrg');
  await exec(projectPython(), [path.join(repo, 'native-models/testing/make_umrg_dataset.py'), '--out', dataset, '--count', '8']);
  samples = [];
  for await (const s of readUmrg(dataset)) samples.push(s);
  scripted = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const text = (JSON.parse(body) as { messages: { content: { type: string; text?: string }[] | string }[] }).messages[1]!.content as { type: string; text?: string }[];
      const reply = replyFor(text.find((c) => c.type === 'text')!.text!);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of reply.match(/.{1,9}/g)!) res.write(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: { content: piece }, index: 0 }] })}\n\n`);
      res.end(`data: ${JSON.stringify({ model: 'medreasoner-7b', choices: [{ delta: {}, index: 0, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => scripted.listen(0, '127.0.0.1', resolve));
  scriptedUrl = `http://127.0.0.1:${(scripted.address() as AddressInfo).port}/v1`;
  model = await ensureRandomQwen();
}, 600_000);
afterAll(async () => {
  scripted?.closeAllConnections();
  await new Promise((resolve) => scripted?.close(resolve));
  if (root) await rm(root, { recursive: true, force: true });
});

async function evalCli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const previous = process.env.MEDREASONER_HOME;
  process.env.MEDREASONER_HOME = path.join(root, 'home');
  try {
    const code = await runEvalCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    if (previous === undefined) delete process.env.MEDREASONER_HOME;
    else process.env.MEDREASONER_HOME = previous;
  }
}

type Group = { count: number; failed: number; iou: number; pdice: number; dice: number };

describe('medreasoner eval', () => {
  test('JPEG images decode to what Pillow decodes (the seed read them with libjpeg too)', async () => {
    const script = String.raw`
import io, json, sys
import numpy as np
import pyarrow.parquet as pq
from PIL import Image
rows = pq.read_table(sys.argv[1]).to_pylist()
out = {}
for row in rows:
    image = row["images"][0]
    if image["path"].endswith(".jpg"):
        out[row["extra_info"]["id"]] = np.asarray(Image.open(io.BytesIO(image["bytes"])).convert("RGB"))[:, :, 0].astype(int).ravel().tolist()
print(json.dumps(out))
`;
    const { stdout } = await exec(projectPython(), ['-c', script, path.join(dataset, 'data', 'test-00000-of-00001.parquet')], { maxBuffer: 256 * 1024 * 1024 });
    const pil = JSON.parse(stdout) as Record<string, number[]>;
    expect(Object.keys(pil).sort()).toEqual(['umrg-test-0001', 'umrg-test-0004', 'umrg-test-0007']);
    for (const [id, values] of Object.entries(pil)) {
      const sample = samples.find((s) => s.id === id)!;
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i]! - sample.grey[i]!));
      console.log(`${id}: largest difference from Pillow ${worst}`);
      // libjpeg-turbo on both sides, same IDCT: the same bytes.
      expect(worst, id).toBe(0);
    }
  });

  test('the dataset reader takes the seed\u2019s fields', () => {
    expect(samples).toHaveLength(8);
    expect(samples[0]).toMatchObject({ id: 'umrg-test-0000', supercategory: 'Abdomen', category: 'Liver lesion', question: 'Sample 0: where is the liver lesion?', colour: false });
    expect(samples.every((s) => s.width % 28 !== 0 || s.height % 28 !== 0)).toBe(true);
    expect(samples[0]!.mask!.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  });

  test('per-sample IoU, pDice and Dice equal the seed\u2019s metric code (Python), and so do the table\u2019s means', async () => {
    const masks = path.join(root, 'masks');
    const { code, out, err } = await evalCli([dataset, '--json', '--masks', masks, '--in-flight', '3', '--server', scriptedUrl, '--server-model', 'medreasoner-7b', '--server-name', 'scripted', '--prompt', path.join(model.exportDir, 'prompt.json')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { table: { overall: Group; superCategories: Record<string, Group> }; samples: { id: string; bbox: number[] | null; points: number[][] | null; maskFile: string | null; iou: number; pdice: number; dice: number; failed: boolean }[] };
    expect(report.samples).toHaveLength(8);
    expect(report.samples.filter((s) => s.failed).map((s) => s.id)).toEqual(['umrg-test-0002']);
    const python = await new Promise<string>((resolve, reject) => {
      const child = execFile(projectPython(), ['-c', SEED_METRICS], { maxBuffer: 64 * 1024 * 1024 }, (error, so, se) => (error ? reject(new Error(`${error.message}\n${se}`)) : resolve(so)));
      child.stdin!.end(JSON.stringify({ parquet: path.join(dataset, 'data', 'test-00000-of-00001.parquet'), records: report.samples }));
    });
    const seed = JSON.parse(python) as { samples: { id: string; iou: number; pdice: number; dice: number }[]; overall: { iou: number; pdice: number; dice: number }; super: Record<string, { iou: number; pdice: number; dice: number }> };
    const ours = new Map(report.samples.map((s) => [s.id, s]));
    for (const s of seed.samples) {
      const o = ours.get(s.id)!;
      expect({ id: s.id, iou: o.iou, pdice: o.pdice, dice: o.dice }).toEqual({ id: s.id, iou: s.iou, pdice: s.pdice, dice: s.dice });
    }
    // Non-trivial: boxes overlap the truth without matching it, and the masks are real.
    const answered = seed.samples.filter((s) => s.id !== 'umrg-test-0002');
    expect(answered.every((s) => s.iou > 0.3 && s.iou < 1)).toBe(true);
    expect(answered.every((s) => s.dice > 0.3)).toBe(true);
    expect({ iou: report.table.overall.iou, pdice: report.table.overall.pdice, dice: report.table.overall.dice }).toEqual(seed.overall);
    for (const [name, g] of Object.entries(seed.super)) expect({ iou: report.table.superCategories[name]!.iou, pdice: report.table.superCategories[name]!.pdice, dice: report.table.superCategories[name]!.dice }).toEqual(g);
    expect(Object.keys(report.table.superCategories)).toEqual(['Abdomen', 'Brain', 'Lung']);
  }, 300_000);

  test('prints the seed\u2019s table', async () => {
    const { code, out } = await evalCli([dataset, '--server', scriptedUrl, '--server-model', 'medreasoner-7b', '--server-name', 'scripted', '--prompt', path.join(model.exportDir, 'prompt.json')]);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^\s+N\s+IoU\s+pDice\s+Dice\s+failed$/);
    expect(lines.find((l) => l.startsWith('Overall'))).toMatch(/^Overall\s+8\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+1$/);
    for (const name of ['Abdomen', 'Brain', 'Lung']) expect(lines.some((l) => l.startsWith(name))).toBe(true);
  }, 300_000);

  test('runs through a real transformers serve (random weights: every answer fails and scores 0)', async () => {
    const served = await startTransformersServe(model.checkpoint);
    try {
      const { code, out, err } = await evalCli([dataset, '--limit', '2', '--max-new-tokens', '8', '--json', '--server', served.baseUrl, '--server-model', served.model, '--prompt', path.join(model.exportDir, 'prompt.json')]);
      expect(err).toBe('');
      expect(code).toBe(0);
      const report = JSON.parse(out) as { table: { overall: Group }; samples: { failed: boolean; rawText: string; failure: { kind: string } }[] };
      expect(report.table.overall).toMatchObject({ count: 2, failed: 2, iou: 0, pdice: 0, dice: 0 });
      for (const s of report.samples) {
        expect(s.failure.kind).toBe('truncated');
        expect(s.rawText.length).toBeGreaterThan(0);
      }
    } finally {
      await served.stop();
    }
  }, 300_000);
});
