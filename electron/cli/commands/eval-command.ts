// `medreasoner eval <dataset>`: the seed's evaluation of a U-MRG-14K-layout folder through the
// app's pipeline (CRM → ASM, the local model or a server), printing the seed's table — box
// IoU, pDice, Dice, overall and per super-category — with the teaching mode's metric code.
// --json prints the table and every sample's scores; --results also writes them as JSONL.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evalTable, formatTable } from '../../host/inference/eval/eval-table.ts';
import { runEval } from '../../host/inference/eval/eval-run.ts';
import { DatasetError, readUmrg, splitFiles } from '../../host/inference/eval/umrg-dataset.ts';
import { decideExecutionProvider } from '../../host/inference/execution-provider.ts';
import { InferenceEngine } from '../../host/inference/inference-engine.ts';
import { inferenceStatus } from '../../host/inference/model-status.ts';
import { resolveModelsDir } from '../../host/models/registry.ts';
import type { CliIO } from '../cli-io.ts';
import { parseOptions, single, UsageError } from './ask-command.ts';
import { crmServerChoice, SERVER_FLAGS, SERVER_USAGE, SERVER_VALUES } from './crm-server-options.ts';

const USAGE = `usage: medreasoner eval <dataset> [--split test] [--limit n] [--json] [--results scores.jsonl]
                       [--models <dir>] [--prompt-variant think|no_think] [--max-new-tokens n]
                       [--server <url> --server-model <id> [--in-flight n] …]

  <dataset>          a U-MRG-14K-layout folder (Hugging Face datasets parquet: data/test-*.parquet
                     with images, masks, prompt, reward_model.ground_truth, extra_info)
  --split <name>     the split to evaluate (default test)
  --limit <n>        the first n samples only
  --json             print the table and every sample's scores as JSON
  --results <file>   write every sample's scores and the model's text as JSONL
  --masks <dir>      write each sample's ASM mask there as <id>.png
${SERVER_USAGE}`;

export async function runEvalCommand(args: string[], io: CliIO): Promise<number> {
  let dataset: string;
  let options: ReturnType<typeof parseOptions>;
  let server: Awaited<ReturnType<typeof crmServerChoice>>;
  let limit = Infinity;
  try {
    options = parseOptions(args, { values: ['split', 'limit', 'results', 'masks', 'models', 'prompt-variant', 'max-new-tokens', ...SERVER_VALUES], flags: ['json', 'help', ...SERVER_FLAGS] });
    if (options.flags.has('help')) {
      io.out(USAGE);
      return 0;
    }
    if (options.positional.length !== 1) throw new UsageError('name one dataset folder');
    dataset = path.resolve(options.positional[0]!);
    const limitText = single(options, 'limit');
    if (limitText !== undefined) {
      if (!/^\d+$/.test(limitText) || Number(limitText) === 0) throw new UsageError(`--limit must be a whole number > 0, got "${limitText}"`);
      limit = Number(limitText);
    }
    server = await crmServerChoice(options);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner eval: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const split = single(options, 'split') ?? 'test';
  if ((await splitFiles(dataset, split)).length === 0) {
    io.err(`medreasoner eval: ${dataset} has no "${split}" split (expected data/${split}-*.parquet, ${split}/*.parquet or ${split}.parquet)`);
    return 1;
  }
  const models = resolveModelsDir(single(options, 'models'));
  const provider = await decideExecutionProvider();
  if (!server) {
    const status = await inferenceStatus(models, provider);
    if (status.crm.state !== 'ready') {
      io.err(`medreasoner eval: ${status.crm.message}`);
      return 1;
    }
  }
  const engine = await InferenceEngine.create({ models, provider, ...(server ? { crmServer: server } : {}) });
  const started = performance.now();
  try {
    const maxNewTokens = single(options, 'max-new-tokens');
    const records = await runEval({
      engine,
      samples: readUmrg(dataset, split, limit),
      inFlight: server ? server.config.maxInFlight : 1,
      ...(single(options, 'masks') ? { masksDir: path.resolve(single(options, 'masks')!) } : {}),
      ...(single(options, 'prompt-variant') ? { promptVariant: single(options, 'prompt-variant')! } : {}),
      ...(maxNewTokens !== undefined ? { maxNewTokens: Number(maxNewTokens) } : {}),
      onRecord: (record, done) => io.progress?.(`${done} samples · last ${record.id} ${record.failed ? 'failed' : `IoU ${(record.iou * 100).toFixed(1)}`}`),
    });
    if (io.progress) io.progress('\n');
    const table = evalTable(records);
    const seconds = (performance.now() - started) / 1000;
    const crm = server ? `${server.config.model} on ${server.config.name} (${new URL(server.config.baseUrl).origin})` : 'the local CRM';
    const results = single(options, 'results');
    if (results !== undefined) await writeFile(path.resolve(results), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    if (options.flags.has('json')) io.out(`${JSON.stringify({ dataset, split, crm, seconds, table, samples: records }, null, 2)}\n`);
    else io.out(`${dataset} (${split}, ${records.length} samples, ${crm}, ${seconds.toFixed(1)} s)\n${formatTable(table)}\nIoU: box IoU; pDice: the seed's key-point circle score (2·|A∩B|/|A∪B|); Dice: the ASM mask; all ×100, a failed answer scores 0.\n`);
    return 0;
  } catch (error) {
    if (error instanceof DatasetError) {
      io.err(`medreasoner eval: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await engine.dispose();
  }
}
