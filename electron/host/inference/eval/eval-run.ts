// The seed's evaluation through the app's own pipeline: each sample's image and question go
// CRM → ASM exactly as an ask does (the server or the local model; the same prompt, resize,
// parsing and fitting), and are scored with the teaching mode's metric code (metrics.ts).
// As in the seed, IoU and pDice compare the box and points the model wrote (coordinates of
// the picture it saw) with the ground truth in image pixels; Dice is the ASM's mask against
// the ground-truth mask.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AskResult } from '../../../common/contract-inference.ts';
import type { InferenceEngine } from '../inference-engine.ts';
import { pngToMask } from '../mask-png.ts';
import { scoreSample, type SampleScore } from './eval-table.ts';
import type { UmrgSample } from './umrg-dataset.ts';

/** Centre 128, width 256: windowToUint8 leaves 8-bit values as they are. */
export const IDENTITY_WINDOW = { center: 128, width: 256 } as const;

export interface SampleRecord extends SampleScore {
  question: string;
  status: AskResult['status'];
  failure: AskResult['failure'];
  bbox: [number, number, number, number] | null;
  points: [[number, number], [number, number]] | null;
  reasoning: string | null;
  rawText: string;
  maskArea: number | null;
  /** The ASM's mask as a PNG (with masksDir). */
  maskFile: string | null;
  ms: number;
}

export interface EvalRunOptions {
  engine: InferenceEngine;
  samples: AsyncIterable<UmrgSample>;
  inFlight: number;
  promptVariant?: string;
  maxNewTokens?: number;
  /** Write each sample's ASM mask here as <id>.png. */
  masksDir?: string;
  onRecord?: (record: SampleRecord, done: number) => void;
  isCancelled?: () => boolean;
}

export async function evalSample(engine: InferenceEngine, sample: UmrgSample, options: Pick<EvalRunOptions, 'promptVariant' | 'maxNewTokens' | 'isCancelled' | 'masksDir'>): Promise<SampleRecord> {
  const started = performance.now();
  const result = await engine.ask(
    {
      jobId: `eval-${sample.id}`,
      slice: { seriesKey: `umrg:${sample.id}`, sliceIndex: 0, width: sample.width, height: sample.height, pixels: Float32Array.from(sample.grey), invert: false },
      question: sample.question,
      window: IDENTITY_WINDOW,
      ...(options.promptVariant ? { promptVariant: options.promptVariant } : {}),
      ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}),
    },
    options.isCancelled ? { isCancelled: options.isCancelled } : {},
  );
  const png = result.mask ? Buffer.from(result.mask.png, 'base64') : null;
  const predMask = png ? pngToMask(png).mask : null;
  let maskFile: string | null = null;
  if (png && options.masksDir) {
    maskFile = path.join(options.masksDir, `${sample.id.replace(/[^\w.-]+/g, '_')}.png`);
    await mkdir(options.masksDir, { recursive: true });
    await writeFile(maskFile, png);
  }
  const answer = result.modelAnswer ? { bbox: result.modelAnswer.bbox, points: result.modelAnswer.points } : null;
  const score = scoreSample(sample, answer as Parameters<typeof scoreSample>[1], predMask);
  return {
    ...score,
    question: sample.question,
    status: result.status,
    failure: result.failure,
    bbox: (answer?.bbox as SampleRecord['bbox']) ?? null,
    points: (answer?.points as SampleRecord['points']) ?? null,
    reasoning: result.reasoning,
    rawText: result.rawText,
    maskArea: result.mask?.area ?? null,
    maskFile,
    ms: performance.now() - started,
  };
}

/** Samples in dataset order; up to inFlight at once (the order of records follows completion). */
export async function runEval(options: EvalRunOptions): Promise<SampleRecord[]> {
  const records: SampleRecord[] = [];
  const iterator = options.samples[Symbol.asyncIterator]();
  let done = 0;
  // The dataset is read lazily; lanes take the next row in turn.
  let reading: Promise<IteratorResult<UmrgSample>> = Promise.resolve({ done: false, value: undefined as never });
  const next = () => (reading = reading.then(() => iterator.next()));
  const lane = async () => {
    for (;;) {
      if (options.isCancelled?.()) return;
      const item = await next();
      if (item.done) return;
      const record = await evalSample(options.engine, item.value, options);
      records.push(record);
      options.onRecord?.(record, ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.inFlight) }, lane));
  return records;
}
