// `medreasoner ask --series <dir> --slice <n> --question "…" [--out mask.png] [--json]`:
// the MedReasoner pipeline on one slice — CRM (reasoning, box, two key points) → ASM → mask.
// Tokens stream to stdout as they are generated (text mode). Exit 0 when a mask was made,
// 1 when the pipeline failed (no model, no/malformed/out-of-range answer: the raw text is
// printed), 2 on usage errors.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AskResult, InferenceWindow } from '../../common/contract-inference.ts';
import { InferenceError } from '../../host/inference/inference-engine.ts';
import { InferenceService } from '../../host/inference/inference-service.ts';
import { SeriesChoiceError, seriesSlice, singleImageSeries } from '../../host/inference/series-slice.ts';
import { SlicePixelError } from '../../host/inference/slice-pixels.ts';
import { resolveModelsDir } from '../../host/models/registry.ts';

export interface CommandIO {
  out(s: string): void;
  err(s: string): void;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface OptionSpec {
  /** Options taking a value (repeatable ones collect every value). */
  values: readonly string[];
  flags: readonly string[];
  repeatable?: readonly string[];
}

export interface ParsedOptions {
  values: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

/** --name value, --name=value, flags; unknown options are usage errors. */
export function parseOptions(args: readonly string[], spec: OptionSpec): ParsedOptions {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg === '--') {
        positional.push(...args.slice(i + 1));
        break;
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      const list = values.get(name) ?? [];
      if (list.length > 0 && !spec.repeatable?.includes(name)) throw new UsageError(`--${name} given twice`);
      list.push(value);
      values.set(name, list);
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return { values, flags, positional };
}

export function single(options: ParsedOptions, name: string): string | undefined {
  return options.values.get(name)?.[0];
}

export function requireValue(options: ParsedOptions, name: string): string {
  const value = single(options, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function parseSliceIndex(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--slice must be a slice index (0, 1, …), got "${text}"`);
  return Number(text);
}

export function parseWindow(text: string | undefined): InferenceWindow | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite) || parts[1]! <= 0) throw new UsageError(`--window must be center,width (e.g. 40,400), got "${text}"`);
  return { center: parts[0]!, width: parts[1]! };
}

export function formatTimings(timings: Record<string, number>): string {
  return Object.entries(timings)
    .map(([name, ms]) => `${name} ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`)
    .join(', ');
}

const USAGE = `usage: medreasoner ask --series <dir> --slice <n> --question "…" [--out mask.png] [--json]
                      [--models <dir>] [--window center,width] [--prompt-variant think|no_think]

  --series <dir>     a folder holding one image series (DICOM)
  --slice <n>        slice index in slice order (as \`medreasoner index\` numbers them), from 0
  --question "…"     the clinical question
  --out mask.png     write the mask: 8-bit grey PNG at the slice's size, 255 inside, 0 outside
  --json             print the result as JSON (prompts, box, points, reasoning, answer, mask area,
                     timings, models, execution provider)
  --models <dir>     models folder (default: MEDREASONER_MODELS, else the app's data folder)
  --window c,w       window the models see the slice through (default: the file's, else its range)
`;

function summary(result: AskResult, outFile: string | null): string {
  const lines: string[] = [];
  lines.push(`CRM: ${result.crm.label}; execution provider: ${result.provider.name.toUpperCase()} (${result.provider.reason})`);
  lines.push(`Image: ${result.image.width}×${result.image.height}, seen by the model as ${result.image.seen.width}×${result.image.seen.height}; window ${result.window.center}/${result.window.width}`);
  if (result.failure) {
    lines.push(`FAILED (${result.failure.kind}): ${result.failure.message}`);
    lines.push(`Raw text (${result.tokens.generated} tokens):\n${result.rawText}`);
  } else {
    lines.push(`Reasoning: ${result.reasoning ?? '(none)'}`);
    lines.push(`Answer: ${result.answerText}`);
    for (const warning of result.warnings) lines.push(`Note: ${warning}`);
    lines.push(`Box (slice pixels, inclusive): ${result.box!.join(', ')}; key points: ${result.points!.map((p) => `(${p[0].toFixed(1)}, ${p[1].toFixed(1)})`).join(' ')}`);
    lines.push(`Segmenter: ${result.segmenter!.label}${result.score !== null ? `; predicted IoU ${result.score.toFixed(3)}` : ''}`);
    lines.push(`Mask: ${result.mask!.area} pixels${outFile ? ` → ${outFile}` : ''}`);
  }
  lines.push(`Tokens: prompt ${result.tokens.prompt} (image ${result.tokens.image}), generated ${result.tokens.generated}${result.tokens.perSecond ? `, ${result.tokens.perSecond.toFixed(1)} tokens/s` : ''}`);
  lines.push(`Timings: ${formatTimings(result.timings)}`);
  return lines.join('\n');
}

export async function runAskCommand(args: string[], io: CommandIO): Promise<number> {
  let options: ParsedOptions;
  try {
    options = parseOptions(args, { values: ['series', 'slice', 'question', 'out', 'models', 'window', 'prompt-variant', 'max-new-tokens'], flags: ['json', 'help'] });
    if (options.flags.has('help')) {
      io.out(USAGE);
      return EXIT_OK;
    }
    if (options.positional.length > 0) throw new UsageError(`unexpected argument ${options.positional[0]}`);
    requireValue(options, 'series');
    parseSliceIndex(requireValue(options, 'slice'));
    if (requireValue(options, 'question').trim() === '') throw new UsageError('--question is empty');
    parseWindow(single(options, 'window'));
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner ask: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const json = options.flags.has('json');
  const outFile = single(options, 'out') ?? null;
  const maxNewTokens = single(options, 'max-new-tokens');
  // io.out writes whole lines: stream the reply in soft-wrapped lines as it grows.
  let pending = '';
  const streamText = (text: string) => {
    pending += text;
    for (;;) {
      const newline = pending.indexOf('\n');
      if (newline >= 0) {
        io.out(`${pending.slice(0, newline)}\n`);
        pending = pending.slice(newline + 1);
        continue;
      }
      const space = pending.lastIndexOf(' ', 100);
      if (pending.length > 100 && space > 0) {
        io.out(`${pending.slice(0, space)}\n`);
        pending = pending.slice(space + 1);
        continue;
      }
      break;
    }
  };
  const service = new InferenceService({ models: resolveModelsDir(single(options, 'models')), onToken: json ? undefined : (_job, text) => streamText(text) });
  try {
    const series = await singleImageSeries(requireValue(options, 'series'));
    const slice = await seriesSlice(series, parseSliceIndex(requireValue(options, 'slice')));
    const window = parseWindow(single(options, 'window'));
    const status = await service.status();
    if (status.crm.state !== 'ready') {
      io.err(`medreasoner ask: ${status.crm.message}`);
      return EXIT_FAILED;
    }
    const result = await service.ask({
      jobId: 'cli-ask',
      slice,
      question: requireValue(options, 'question'),
      ...(window ? { window } : {}),
      ...(single(options, 'prompt-variant') ? { promptVariant: single(options, 'prompt-variant')! } : {}),
      ...(maxNewTokens !== undefined ? { maxNewTokens: Number(maxNewTokens) } : {}),
    });
    if (pending !== '') io.out(`${pending}\n`);
    if (outFile && result.mask) await writeFile(path.resolve(outFile), Buffer.from(result.mask.png, 'base64'));
    if (json) {
      const { mask, ...rest } = result;
      io.out(`${JSON.stringify({ ...rest, mask: mask ? { width: mask.width, height: mask.height, area: mask.area, file: outFile ? path.resolve(outFile) : null } : null }, null, 2)}\n`);
    } else io.out(`\n${summary(result, outFile)}\n`);
    return result.status === 'ok' ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    if (error instanceof InferenceError || error instanceof SeriesChoiceError || error instanceof SlicePixelError) {
      io.err(`medreasoner ask: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  } finally {
    await service.dispose();
  }
}
