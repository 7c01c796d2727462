// Many asks in one process: the models (or the server connection) are opened once, up to
// `inFlight` asks run at once (a server answers them concurrently; the local model is one at
// a time), each result is appended to a JSONL file as soon as it is done, and a rerun with
// the same results file skips what is already there — an interrupted batch resumes.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AskResult, InferenceWindow } from '../../common/contract-inference.ts';
import type { HostSeries } from '../dicom/import-types.ts';
import type { InferenceEngine } from './inference-engine.ts';
import { seriesSlice, singleImageSeries } from './series-slice.ts';

export interface BatchItem {
  series: string;
  slice: number;
  question: string;
}

export interface BatchLine {
  key: string;
  series: string;
  slice: number;
  question: string;
  status: AskResult['status'] | 'error';
  failure: { kind: string; message: string; serverFailure?: string } | null;
  reasoning: string | null;
  answerText: string | null;
  box: AskResult['box'];
  points: AskResult['points'];
  mask: { width: number; height: number; area: number; file: string | null } | null;
  crm: AskResult['crm'] | null;
  segmenter: string | null;
  warnings: string[];
  tokens: AskResult['tokens'] | null;
  timings: Record<string, number>;
  rawText: string;
}

export function itemKey(item: BatchItem): string {
  return JSON.stringify([path.resolve(item.series), item.slice, item.question]);
}

/** Keys already answered in a results file (lines that a crash cut short are ignored and asked again). */
export async function doneKeys(resultsFile: string): Promise<Set<string>> {
  const done = new Set<string>();
  let stream;
  try {
    stream = createReadStream(resultsFile, 'utf8');
    await new Promise<void>((resolve, reject) => {
      stream!.once('open', () => resolve());
      stream!.once('error', reject);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return done;
    throw error;
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    try {
      const parsed = JSON.parse(line) as BatchLine;
      // A server that was down is asked again on resume; an answer the model gave is kept.
      if (parsed.key && !(parsed.status === 'error' || parsed.failure?.kind === 'server')) done.add(parsed.key);
    } catch {
      // a partial last line
    }
  }
  return done;
}

export interface BatchOptions {
  engine: InferenceEngine;
  items: BatchItem[];
  resultsFile: string;
  inFlight: number;
  masksDir?: string;
  window?: InferenceWindow;
  promptVariant?: string;
  maxNewTokens?: number;
  onProgress?: (progress: { done: number; total: number; skipped: number; failed: number; inFlight: number }) => void;
  isCancelled?: () => boolean;
}

export interface BatchSummary {
  total: number;
  skipped: number;
  ok: number;
  failed: number;
  seconds: number;
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const done = await doneKeys(options.resultsFile);
  const todo = options.items.filter((item) => !done.has(itemKey(item)));
  const skipped = options.items.length - todo.length;
  await mkdir(path.dirname(path.resolve(options.resultsFile)), { recursive: true });
  // A crash can leave half a line: new lines must not be glued onto it.
  const tail = await readFile(options.resultsFile).then((b) => b.subarray(-1).toString(), () => '\n');
  if (tail !== '' && tail !== '\n') await appendFile(options.resultsFile, '\n');
  if (options.masksDir) await mkdir(options.masksDir, { recursive: true });
  const seriesCache = new Map<string, Promise<HostSeries>>();
  const series = (dir: string) => {
    const key = path.resolve(dir);
    if (!seriesCache.has(key)) seriesCache.set(key, singleImageSeries(key));
    return seriesCache.get(key)!;
  };
  let next = 0;
  let finished = skipped;
  let ok = 0;
  let failed = 0;
  let running = 0;
  let writes = Promise.resolve();
  const report = () => options.onProgress?.({ done: finished, total: options.items.length, skipped, failed, inFlight: running });
  report();
  const worker = async (lane: number) => {
    for (;;) {
      if (options.isCancelled?.()) return;
      const index = next++;
      const item = todo[index];
      if (!item) return;
      running++;
      report();
      const line = await askOne(options, item, series, `batch-${lane}-${index}`);
      running--;
      finished++;
      if (line.status === 'ok') ok++;
      else failed++;
      writes = writes.then(() => appendFile(options.resultsFile, `${JSON.stringify(line)}\n`));
      await writes;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.inFlight) }, (_, lane) => worker(lane)));
  return { total: options.items.length, skipped, ok, failed, seconds: (performance.now() - started) / 1000 };
}

async function askOne(options: BatchOptions, item: BatchItem, series: (dir: string) => Promise<HostSeries>, jobId: string): Promise<BatchLine> {
  const base = { key: itemKey(item), series: path.resolve(item.series), slice: item.slice, question: item.question };
  try {
    const slice = await seriesSlice(await series(item.series), item.slice);
    const result = await options.engine.ask(
      {
        jobId,
        slice,
        question: item.question,
        ...(options.window ? { window: options.window } : {}),
        ...(options.promptVariant ? { promptVariant: options.promptVariant } : {}),
        ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}),
      },
      options.isCancelled ? { isCancelled: options.isCancelled } : {},
    );
    let maskFile: string | null = null;
    if (result.mask && options.masksDir) {
      maskFile = path.join(options.masksDir, `${path.basename(base.series)}-${item.slice}-${jobId}.png`);
      await writeFile(maskFile, Buffer.from(result.mask.png, 'base64'));
    }
    return {
      ...base,
      status: result.status,
      failure: result.failure,
      reasoning: result.reasoning,
      answerText: result.answerText,
      box: result.box,
      points: result.points,
      mask: result.mask ? { width: result.mask.width, height: result.mask.height, area: result.mask.area, file: maskFile } : null,
      crm: result.crm,
      segmenter: result.segmenter?.label ?? null,
      warnings: result.warnings,
      tokens: result.tokens,
      timings: result.timings,
      rawText: result.rawText,
    };
  } catch (error) {
    return { ...base, status: 'error', failure: { kind: 'error', message: (error as Error).message }, reasoning: null, answerText: null, box: null, points: null, mask: null, crm: null, segmenter: null, warnings: [], tokens: null, timings: {}, rawText: '' };
  }
}

/** A JSONL batch file: one {series, slice, question} per line; series relative to the file. */
export async function readBatchFile(file: string): Promise<BatchItem[]> {
  const items: BatchItem[] = [];
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    let value: Partial<BatchItem>;
    try {
      value = JSON.parse(line) as Partial<BatchItem>;
    } catch {
      throw new Error(`${file}:${n}: not JSON`);
    }
    if (typeof value.series !== 'string' || !Number.isInteger(value.slice) || (value.slice as number) < 0 || typeof value.question !== 'string' || value.question.trim() === '') {
      throw new Error(`${file}:${n}: needs {"series": "<dir>", "slice": <n ≥ 0>, "question": "…"}`);
    }
    items.push({ series: path.resolve(path.dirname(file), value.series), slice: value.slice as number, question: value.question });
  }
  return items;
}

/** --slices 10-40 or 3,5,9-12 */
export function parseSliceList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--slices takes indices and ranges like 10-40 or 3,5,9-12, got "${text}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new Error(`--slices: range ${part} runs backwards`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}
