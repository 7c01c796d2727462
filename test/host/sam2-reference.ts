// Runs SAM2ImagePredictor (sam2_reference.py, in the project's Python environment) on an 8-bit
// grey picture with the given prompt sets: the reference the ASM tests compare the app with.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SegmentPrompts } from '../../electron/host/inference/segmenter-types.ts';
import { projectPython } from './real-parts.ts';

const run = promisify(execFile);

export interface ReferenceCase {
  name: string;
  prompts: SegmentPrompts;
}

export interface ReferenceResult {
  name: string;
  /** The three masks' predicted IoUs. */
  scores: number[];
  best: number;
  /** The best mask, width × height, 1 inside. */
  mask: Uint8Array;
}

export async function sam2Reference(checkpoint: string, picture: Uint8Array, width: number, height: number, cases: ReferenceCase[]): Promise<{ imageSize: number; cases: ReferenceResult[] }> {
  const python = projectPython();
  const work = await mkdtemp(path.join(tmpdir(), 'sam2-reference-'));
  try {
    await writeFile(path.join(work, 'picture.u8'), picture);
    const request = {
      checkpoint,
      picture: path.join(work, 'picture.u8'),
      width,
      height,
      cases: cases.map((c) => ({ name: c.name, box: c.prompts.box, points: c.prompts.points.map((p) => [p.x, p.y]), labels: c.prompts.points.map((p) => p.label) })),
    };
    await writeFile(path.join(work, 'request.json'), JSON.stringify(request));
    const script = new URL('./sam2_reference.py', import.meta.url).pathname;
    await run(python, [script, path.join(work, 'request.json'), path.join(work, 'response.json')], { maxBuffer: 64 * 1024 * 1024 });
    const response = JSON.parse(await readFile(path.join(work, 'response.json'), 'utf8')) as { image_size: number; cases: { name: string; scores: number[]; best: number; mask: string }[] };
    return { imageSize: response.image_size, cases: response.cases.map((c) => ({ name: c.name, scores: c.scores, best: c.best, mask: new Uint8Array(Buffer.from(c.mask, 'base64')) })) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
