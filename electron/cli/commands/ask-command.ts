// `medreasoner ask --series <dir> --slice <n> --question "…" [--out mask.png] [--seg out.dcm
// [--sr out-sr.dcm]] [--dump-input <dir>] [--json]`: the MedReasoner pipeline on one slice —
// CRM (reasoning, box, two key points) → ASM → mask; --seg writes the mask as a DICOM-SEG on
// the source series, --sr the Comprehensive SR recording the question, reasoning, prompts and
// models; --dump-input what the CRM was given and wrote, to check an export by hand.
// Tokens stream to stdout as they are generated (text mode). Exit 0 when a mask was made,
// 1 when the pipeline failed (no model, no or unreadable answer: the raw text is printed),
// 2 on usage errors. An answer that needed fixing (box clipped or reversed, a key point
// outside the box) is used, each fix printed as a note.
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { servedModelId, type AskResult, type InferenceWindow, type MaskResult } from '../../common/contract-inference.ts';
import { DEFAULT_SEG_FORMAT, SegFormatSchema, segFormatParts, type SegFormat } from '../../common/contract-seg.ts';
import type { HostSeries } from '../../host/dicom/import-types.ts';
import { DUMP_FILES } from '../../host/inference/crm-dump.ts';
import { InferenceError } from '../../host/inference/inference-engine.ts';
import { InferenceService } from '../../host/inference/inference-service.ts';
import { pngToMask } from '../../host/inference/mask-png.ts';
import { BATCH_USAGE, isBatch, runAskBatch } from './ask-batch-command.ts';
import { crmServerChoice, SERVER_FLAGS, SERVER_USAGE, SERVER_VALUES } from './crm-server-options.ts';
import type { CrmServerChoice } from '../../host/inference/remote/remote-crm-loader.ts';
import { SeriesChoiceError, seriesSlice, singleImageSeries } from '../../host/inference/series-slice.ts';
import { SlicePixelError } from '../../host/inference/slice-pixels.ts';
import { resolveModelsDir } from '../../host/models/registry.ts';
import { CATEGORY, searchTerms, TERMS } from '../../host/seg/codes.ts';
import { writeMaskAsSeg } from '../../host/seg/mask-to-seg.ts';
import { PointLabel, PromptKind } from '../../host/seg/seg-enums.ts';
import type { ExportJobOutput } from '../../host/seg/seg-jobs.ts';
import { SegReadError } from '../../host/seg/seg-reader.ts';
import type { ModelId, Prompt, Provenance, SegmentInit } from '../../host/seg/segment.ts';
import { SegValidationError } from '../../host/seg/validation.ts';

export interface CommandIO {
  out(s: string): void;
  err(s: string): void;
  /** A progress line redrawn in place (only on a terminal; see cli-io.ts). */
  progress?: (s: string) => void;
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

// --- Writing the mask as a DICOM-SEG (--seg, --sr, --label, --term): shared with `segment`.

export interface SegOutputOptions {
  segPath: string | null;
  /** --seg-type: binary (default: every receiver reads it), labelmap, labelmap-rle. */
  format: SegFormat;
  srPath: string | null;
  label: string;
  codes: Pick<SegmentInit, 'category' | 'type' | 'anatomicRegion'>;
}

/** Slicer's default terminology for a new segment (Tissue / Tissue): no anatomy is claimed. */
const GENERIC_CODES: SegOutputOptions['codes'] = { category: CATEGORY.tissue, type: CATEGORY.tissue };

/** --term: a pick-list id (e.g. liver, mass) or a SNOMED CT code value of the list. */
export function parseTerm(text: string): SegOutputOptions['codes'] {
  const wanted = text.trim().toLowerCase();
  const entry = TERMS.find((t) => t.id.toLowerCase() === wanted || t.type.value === wanted);
  if (!entry) {
    const near = searchTerms(text, 5).map((t) => t.id);
    throw new UsageError(`--term "${text}" is not in the segment pick list${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`);
  }
  return { category: entry.category, type: entry.type, ...(entry.anatomicRegion ? { anatomicRegion: entry.anatomicRegion } : {}) };
}

/** Reads --seg, --sr, --label and --term (call inside the usage-error try). */
export function parseSegOutput(options: ParsedOptions, allowSr: boolean): SegOutputOptions {
  const segPath = single(options, 'seg') ?? null;
  const srPath = allowSr ? (single(options, 'sr') ?? null) : null;
  const label = single(options, 'label');
  const term = single(options, 'term');
  const formatText = single(options, 'seg-type');
  if (formatText !== undefined && segPath === null) throw new UsageError('--seg-type describes the DICOM-SEG: give --seg too');
  const format = SegFormatSchema.safeParse(formatText ?? DEFAULT_SEG_FORMAT);
  if (!format.success) throw new UsageError(`--seg-type must be ${SegFormatSchema.options.join(', ')}, got "${formatText}"`);
  if (srPath !== null && segPath === null) throw new UsageError('--sr needs --seg: the SR records and references the DICOM-SEG it describes');
  if (segPath === null && (label !== undefined || term !== undefined)) throw new UsageError(`--${label !== undefined ? 'label' : 'term'} describes the DICOM-SEG segment: give --seg too`);
  if (segPath !== null && srPath !== null && path.resolve(segPath) === path.resolve(srPath)) throw new UsageError('--seg and --sr must be different files');
  if (label !== undefined && label.trim() === '') throw new UsageError('--label is empty');
  return { segPath, format: format.data, srPath, label: label ?? 'Segment', codes: term !== undefined ? parseTerm(term) : GENERIC_CODES };
}

/**
 * Prompts in the SR's image coordinates, where (0,0) is the top-left corner of the
 * top-left pixel: pixel (c, r) is centred at (c + 0.5, r + 0.5), and an inclusive pixel
 * box ends at the far edge of its last pixel.
 */
export function boxPrompt(box: readonly number[], sliceIndex: number): Prompt {
  return { kind: PromptKind.box, sliceIndex, x0: box[0]!, y0: box[1]!, x1: box[2]! + 1, y1: box[3]! + 1 };
}
export function pointPrompt(x: number, y: number, label: 0 | 1, sliceIndex: number): Prompt {
  return { kind: PromptKind.point, sliceIndex, x: x + 0.5, y: y + 0.5, label: label === 1 ? PointLabel.positive : PointLabel.negative };
}

/** The app's own version: it versions the default segmenter, which ships with the app. */
export const APP_VERSION = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** An installed model's manifest version, with the variant that ran (e.g. "1.0.0 (fp16)"). */
export async function modelId(service: InferenceService, id: string, variant: string | null): Promise<ModelId> {
  const installed = (await service.list()).installed.find((m) => m.id === id);
  const version = installed?.version ?? 'unknown';
  return { name: id, version: variant ? `${version} (${variant})` : version };
}

export interface SegWriteRequest {
  series: HostSeries;
  sliceIndex: number;
  mask: MaskResult;
  output: SegOutputOptions;
  algorithmName: string;
  provenance: Provenance;
}

/** Writes the SEG (and SR); null when --seg was not given. */
export async function writeSegOutput(request: SegWriteRequest): Promise<ExportJobOutput | null> {
  const { output } = request;
  if (output.segPath === null) return null;
  const { mask, width, height } = pngToMask(Buffer.from(request.mask.png, 'base64'));
  const columns = request.series.summary.geometry?.columns;
  const rows = request.series.summary.geometry?.rows;
  if (columns !== undefined && rows !== undefined && (width !== columns || height !== rows)) {
    throw new SegValidationError('mask', [`it is ${width}×${height}, the series' slices are ${columns}×${rows}`]);
  }
  return writeMaskAsSeg({
    sourceSeries: request.series,
    sliceIndex: request.sliceIndex,
    mask,
    segment: { label: output.label, color: [255, 186, 0], ...output.codes, algorithmName: request.algorithmName },
    provenance: request.provenance,
    outPath: path.resolve(output.segPath),
    ...segFormatParts(output.format),
    sourceFiles: request.series.slices.map((s) => ({ path: s.path, frame: s.frame })),
    ...(output.srPath !== null ? { srPath: path.resolve(output.srPath) } : {}),
  });
}

/** What --json reports of the written files. */
export function writtenJson(written: ExportJobOutput | null): { seg: object | null; sr: object | null } {
  if (!written) return { seg: null, sr: null };
  const { seg, sr } = written;
  return {
    seg: { path: seg.path, sopInstanceUid: seg.sopInstanceUid, seriesInstanceUid: seg.seriesInstanceUid, frames: seg.frames, type: seg.type, bytes: seg.bytes },
    sr: sr ? { path: sr.path, sopInstanceUid: sr.sopInstanceUid, seriesInstanceUid: sr.seriesInstanceUid, bytes: sr.bytes } : null,
  };
}

export function writtenLines(written: ExportJobOutput | null): string[] {
  if (!written) return [];
  const lines = [`DICOM-SEG (${written.seg.type}, ${written.seg.frames} frame${written.seg.frames === 1 ? '' : 's'}): ${written.seg.path}`];
  if (written.sr) lines.push(`Reasoning SR: ${written.sr.path}`);
  return lines;
}

/** Errors of the SEG/SR step: the source cannot carry a SEG, or the SEG/SR would be invalid. */
export function isSegOutputError(error: unknown): error is Error {
  return error instanceof SegValidationError || error instanceof SegReadError;
}

const USAGE = `usage: medreasoner ask --series <dir> --slice <n> --question "…" [--out mask.png] [--json]
                      [--seg out.dcm [--seg-type binary|labelmap|labelmap-rle] [--sr out-sr.dcm]
                       [--label <text>] [--term <id>]]
                      [--models <dir>] [--window center,width] [--prompt-variant think|no_think]
                      [--dump-input <dir>] [--server <url> --server-model <id> …]

  --series <dir>     a folder holding one image series (DICOM)
  --slice <n>        slice index in slice order (as \`medreasoner index\` numbers them), from 0
  --question "…"     the clinical question
  --out mask.png     write the mask: 8-bit grey PNG at the slice's size, 255 inside, 0 outside
  --seg out.dcm      write the mask as a DICOM-SEG (BINARY) on the source series: one segment,
                     algorithm AUTOMATIC, named by the CRM and ASM ids
  --seg-type t       the SEG's encoding: binary (default; every reader takes it), labelmap, or
                     labelmap-rle (Label Map SEG with RLE Lossless, as OHIF writes it)
  --sr out-sr.dcm    with --seg: a TID 1500 Measurement Report (Comprehensive SR) recording the
                     question, reasoning, answer, prompts, model ids, volume and mean HU,
                     referencing the SEG
  --label <text>     the segment's label (default "Segment")
  --term <id>        the segment's coded type from the pick list (e.g. liver, mass; default Tissue)
  --json             print the result as JSON (prompts, box, points, reasoning, answer, mask area,
                     timings, models, execution provider)
  --models <dir>     models folder (default: MEDREASONER_MODELS, else the app's data folder)
  --window c,w       window the models see the slice through (default: the file's, else its range)
  --dump-input <dir> write what the CRM received and wrote: ${DUMP_FILES.image} (the picture, RGB, at the
                     size the model saw), ${DUMP_FILES.prompt} (the chat-templated text) and
                     ${DUMP_FILES.tokens} (input_ids, generated_ids, image_grid_thw, sizes)
`;

function summary(result: AskResult, outFile: string | null, dumpDir: string | null): string {
  const lines: string[] = [];
  lines.push(result.crm.server ? `CRM: ${result.crm.label}; ASM execution provider: ${result.provider.name.toUpperCase()}` : `CRM: ${result.crm.label}; execution provider: ${result.provider.name.toUpperCase()} (${result.provider.reason})`);
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
  if (dumpDir) lines.push(`CRM input and output tokens: ${dumpDir}`);
  return lines.join('\n');
}

export async function runAskCommand(args: string[], io: CommandIO): Promise<number> {
  let options: ParsedOptions;
  let segOutput: SegOutputOptions;
  let server: CrmServerChoice | null;
  try {
    options = parseOptions(args, {
      values: ['series', 'slice', 'question', 'out', 'seg', 'seg-type', 'sr', 'label', 'term', 'models', 'window', 'prompt-variant', 'max-new-tokens', 'dump-input', 'slices', 'batch', 'results', 'masks', ...SERVER_VALUES],
      flags: ['json', 'help', ...SERVER_FLAGS],
      repeatable: ['series'],
    });
    if (options.flags.has('help')) {
      io.out(USAGE);
      return EXIT_OK;
    }
    if (options.positional.length > 0) throw new UsageError(`unexpected argument ${options.positional[0]}`);
    if (isBatch(options)) return await runAskBatch(options, await crmServerChoice(options), io);
    requireValue(options, 'series');
    parseSliceIndex(requireValue(options, 'slice'));
    if (requireValue(options, 'question').trim() === '') throw new UsageError('--question is empty');
    parseWindow(single(options, 'window'));
    segOutput = parseSegOutput(options, true);
    server = await crmServerChoice(options);
    if (server && single(options, 'dump-input') !== undefined) throw new UsageError('--dump-input records the local model\'s tokens: it cannot be used with a CRM server');
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner ask: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const json = options.flags.has('json');
  const outFile = single(options, 'out') ?? null;
  const dumpDir = single(options, 'dump-input') !== undefined ? path.resolve(single(options, 'dump-input')!) : null;
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
  const service = new InferenceService({
    models: resolveModelsDir(single(options, 'models')),
    ...(server ? { crmServer: server } : {}),
    onToken: json ? undefined : (_job, text) => streamText(text),
  });
  try {
    const series = await singleImageSeries(requireValue(options, 'series'));
    const slice = await seriesSlice(series, parseSliceIndex(requireValue(options, 'slice')));
    const window = parseWindow(single(options, 'window'));
    const status = await service.status();
    if (!server && status.crm.state !== 'ready') {
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
      ...(dumpDir ? { dumpInput: dumpDir } : {}),
    });
    if (pending !== '') io.out(`${pending}\n`);
    if (outFile && result.mask) await writeFile(path.resolve(outFile), Buffer.from(result.mask.png, 'base64'));
    const written = result.status === 'ok' && result.mask ? await writeAskSeg(service, series, result, segOutput) : null;
    if (json) {
      const { mask, ...rest } = result;
      io.out(`${JSON.stringify({ ...rest, mask: mask ? { width: mask.width, height: mask.height, area: mask.area, file: outFile ? path.resolve(outFile) : null } : null, ...writtenJson(written), dumpInput: dumpDir }, null, 2)}\n`);
    } else io.out(`\n${[summary(result, outFile, dumpDir), ...writtenLines(written)].join('\n')}\n`);
    if (result.status === 'ok' && !written && segOutput.segPath !== null) io.err(`medreasoner ask: no mask, so no DICOM-SEG was written to ${segOutput.segPath}`);
    return result.status === 'ok' ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    if (isSegOutputError(error)) {
      io.err(`medreasoner ask: cannot write the DICOM-SEG: ${error.message}`);
      return EXIT_FAILED;
    }
    if (error instanceof InferenceError || error instanceof SeriesChoiceError || error instanceof SlicePixelError) {
      io.err(`medreasoner ask: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  } finally {
    await service.dispose();
  }
}

/** The ask result as an AI segment: AUTOMATIC, named by the CRM and ASM, with everything the SR records. */
async function writeAskSeg(service: InferenceService, series: HostSeries, result: AskResult, output: SegOutputOptions): Promise<ExportJobOutput | null> {
  if (output.segPath === null || !result.mask || !result.segmenter || !result.box || !result.points) return null;
  const k = result.sliceIndex;
  const segmenter = result.segmenter;
  const models = [
    // A server's answer names the server and the model id it served (provenance of the SEG and SR).
    result.crm.server ? servedModelId(result.crm.server) : await modelId(service, result.crm.id, result.crm.variant),
    segmenter.kind === 'default' ? { name: segmenter.id, version: APP_VERSION } : await modelId(service, segmenter.id, (await service.status()).asm.variant),
  ];
  // The ASM was prompted with the CRM's box and its two key points, both positive.
  const prompts = [boxPrompt(result.box, k), ...result.points.map(([x, y]) => pointPrompt(x, y, 1, k))];
  const provenance: Provenance = { source: 'ai', question: result.question, answer: result.answerText ?? result.rawText, prompts, models };
  if (result.reasoning !== null && result.reasoning.trim() !== '') provenance.reasoning = result.reasoning;
  return writeSegOutput({ series, sliceIndex: k, mask: result.mask, output, algorithmName: `${result.crm.id} + ${segmenter.id}`, provenance });
}
