// `medreasoner ask` over many slices: --slices 10-40, several --series, or --batch items.jsonl
// ({series, slice, question} per line). One process, models or server connection opened
// once, --in-flight asks at once against a server, one JSONL line per result in --results
// (appended as each finishes: rerun the same command after an interruption and it goes on
// where it stopped), a progress bar on a terminal.
import path from 'node:path';
import { InferenceEngine } from '../../host/inference/inference-engine.ts';
import { parseSliceList, readBatchFile, runBatch, type BatchItem } from '../../host/inference/batch-ask.ts';
import { decideExecutionProvider } from '../../host/inference/execution-provider.ts';
import { inferenceStatus } from '../../host/inference/model-status.ts';
import type { CrmServerChoice } from '../../host/inference/remote/remote-crm-loader.ts';
import { resolveModelsDir } from '../../host/models/registry.ts';
import { parseWindow, single, UsageError, type CommandIO, type ParsedOptions } from './ask-command.ts';

export const BATCH_USAGE = `  batch (several slices in one process):
  --slices <list>    e.g. 10-40 or 3,5,9-12 (with --series, repeatable for several series)
  --batch <file>     JSONL, one {"series": "<dir>", "slice": <n>, "question": "…"} per line
  --results <file>   JSONL results, one line per ask, appended as they finish; a rerun resumes
  --masks <dir>      also write each mask as a PNG there
`;

export function isBatch(options: ParsedOptions): boolean {
  return options.values.has('slices') || options.values.has('batch') || (options.values.get('series')?.length ?? 0) > 1;
}

export function batchItems(options: ParsedOptions): Promise<BatchItem[]> | BatchItem[] {
  const file = single(options, 'batch');
  if (file !== undefined) {
    if (options.values.has('series') || options.values.has('slice') || options.values.has('slices') || options.values.has('question')) throw new UsageError('--batch names series, slices and questions itself: drop --series/--slice/--slices/--question');
    return readBatchFile(path.resolve(file)).catch((error: Error) => {
      throw new UsageError(error.message);
    });
  }
  const seriesDirs = options.values.get('series') ?? [];
  if (seriesDirs.length === 0) throw new UsageError('--series is required');
  const question = single(options, 'question');
  if (question === undefined || question.trim() === '') throw new UsageError('--question is required');
  const slicesText = single(options, 'slices') ?? single(options, 'slice');
  if (slicesText === undefined) throw new UsageError('--slices (or --slice) is required');
  let slices: number[];
  try {
    slices = parseSliceList(slicesText);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return seriesDirs.flatMap((series) => slices.map((slice) => ({ series: path.resolve(series), slice, question })));
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function runAskBatch(options: ParsedOptions, server: CrmServerChoice | null, io: CommandIO & { progress?: (text: string) => void }): Promise<number> {
  const results = single(options, 'results');
  if (results === undefined) throw new UsageError('a batch needs --results <file.jsonl> (it is also what a rerun resumes from)');
  for (const flag of ['out', 'seg', 'sr', 'dump-input']) if (options.values.has(flag)) throw new UsageError(`--${flag} is for one slice; a batch writes --results (and --masks)`);
  const items = await batchItems(options);
  const inFlight = server ? server.config.maxInFlight : 1;
  const models = resolveModelsDir(single(options, 'models'));
  const provider = await decideExecutionProvider();
  if (!server) {
    const status = await inferenceStatus(models, provider);
    if (status.crm.state !== 'ready') {
      io.err(`medreasoner ask: ${status.crm.message}`);
      return 1;
    }
  }
  const engine = await InferenceEngine.create({ models, provider, ...(server ? { crmServer: server } : {}) });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  const started = performance.now();
  try {
    const window = parseWindow(single(options, 'window'));
    const maxNewTokens = single(options, 'max-new-tokens');
    const summary = await runBatch({
      engine,
      items,
      resultsFile: path.resolve(results),
      inFlight,
      ...(single(options, 'masks') ? { masksDir: path.resolve(single(options, 'masks')!) } : {}),
      ...(window ? { window } : {}),
      ...(single(options, 'prompt-variant') ? { promptVariant: single(options, 'prompt-variant')! } : {}),
      ...(maxNewTokens !== undefined ? { maxNewTokens: Number(maxNewTokens) } : {}),
      isCancelled: () => interrupted,
      onProgress: ({ done, total, failed, inFlight: running }) => {
        const seconds = (performance.now() - started) / 1000;
        io.progress?.(`${bar(done, total)} ${done}/${total} · ${failed} failed · ${running} in flight · ${seconds.toFixed(0)} s`);
      },
    });
    if (io.progress) io.progress('\n');
    const line = `${summary.ok} answered, ${summary.failed} failed, ${summary.skipped} already in ${results} (of ${summary.total}) in ${summary.seconds.toFixed(1)} s${server ? ` against ${server.config.name}, ${inFlight} in flight` : ''}`;
    if (options.flags.has('json')) io.out(`${JSON.stringify({ ...summary, results: path.resolve(results), interrupted })}\n`);
    else io.out(`${line}\n`);
    if (interrupted) {
      io.err(`medreasoner ask: interrupted; run the same command again to resume from ${results}`);
      return 1;
    }
    return summary.failed === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    await engine.dispose();
  }
}
