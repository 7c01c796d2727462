// `medreasoner segment --series <dir> --slice <n> --box x0,y0,x1,y1 [--point x,y[,label]]…
// [--out mask.png] [--seg out.dcm] [--json]`: the ASM alone (MedSAM2 when installed, else the
// default segmenter, labelled as such); --seg writes the mask as a DICOM-SEG on the source series. Pixel coordinates: x = column, y = row, inclusive box
// corners; label 1 positive (default), 0 negative. Exit 0 with a mask, 1 on failure, 2 on
// usage errors.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InferenceError } from '../../host/inference/inference-engine.ts';
import { InferenceService } from '../../host/inference/inference-service.ts';
import type { PixelBox, PromptPoint } from '../../host/inference/segmenter-types.ts';
import { SeriesChoiceError, seriesSlice, singleImageSeries } from '../../host/inference/series-slice.ts';
import { SlicePixelError } from '../../host/inference/slice-pixels.ts';
import { resolveModelsDir } from '../../host/models/registry.ts';
import type { HostSeries } from '../../host/dicom/import-types.ts';
import type { SegmentResult } from '../../common/contract-inference.ts';
import type { ExportJobOutput } from '../../host/seg/seg-jobs.ts';
import {
  APP_VERSION,
  boxPrompt,
  formatTimings,
  isSegOutputError,
  modelId,
  parseOptions,
  parseSegOutput,
  pointPrompt,
  writeSegOutput,
  writtenJson,
  writtenLines,
  type SegOutputOptions,
  parseSliceIndex,
  parseWindow,
  requireValue,
  single,
  UsageError,
  type CommandIO,
  type ParsedOptions,
} from './ask-command.ts';

const USAGE = `usage: medreasoner segment --series <dir> --slice <n> --box x0,y0,x1,y1 [--point x,y[,label]]...
                          [--out mask.png] [--seg out.dcm [--seg-type binary|labelmap|labelmap-rle]
                          [--label <text>] [--term <id>]] [--json]
                          [--models <dir>] [--window center,width]

  --box x0,y0,x1,y1  inclusive pixel corners (x = column, y = row)
  --point x,y[,l]    a prompt point; label l: 1 positive (default), 0 negative; repeatable
  --out mask.png     8-bit grey PNG at the slice's size, 255 inside, 0 outside
  --seg out.dcm      the mask as a DICOM-SEG on the source series: one segment,
                     SEMIAUTOMATIC (computed from your prompts), named by the segmenter
  --seg-type t       binary (default; every reader takes it), labelmap, or labelmap-rle
                     (Label Map SEG with RLE Lossless, as OHIF writes it)
  --label <text>     the segment's label (default "Segment")
  --term <id>        the segment's coded type from the pick list (e.g. liver, mass; default Tissue)
  --json             prompts, segmenter, execution provider, mask area, timings as JSON
  The box may be left out when at least one positive point is given.
`;

export function parseBox(text: string): PixelBox {
  const parts = text.split(',').map((s) => s.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 4 || parts.some((p) => p === '') || !numbers.every(Number.isFinite)) throw new UsageError(`--box must be x0,y0,x1,y1 (four numbers), got "${text}"`);
  return numbers as PixelBox;
}

export function parsePoint(text: string): PromptPoint {
  const parts = text.split(',').map((s) => s.trim());
  const numbers = parts.map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '') || !numbers.every(Number.isFinite)) throw new UsageError(`--point must be x,y or x,y,label, got "${text}"`);
  const label = parts.length === 3 ? numbers[2]! : 1;
  if (label !== 0 && label !== 1) throw new UsageError(`--point ${text}: the label must be 1 (positive) or 0 (negative)`);
  return { x: numbers[0]!, y: numbers[1]!, label };
}

export async function runSegmentCommand(args: string[], io: CommandIO): Promise<number> {
  let options: ParsedOptions;
  let box: PixelBox | null;
  let points: PromptPoint[];
  let segOutput: SegOutputOptions;
  try {
    options = parseOptions(args, { values: ['series', 'slice', 'box', 'point', 'out', 'seg', 'seg-type', 'label', 'term', 'models', 'window'], flags: ['json', 'help'], repeatable: ['point'] });
    if (options.flags.has('help')) {
      io.out(USAGE);
      return 0;
    }
    if (options.positional.length > 0) throw new UsageError(`unexpected argument ${options.positional[0]}`);
    requireValue(options, 'series');
    parseSliceIndex(requireValue(options, 'slice'));
    const boxText = single(options, 'box');
    box = boxText !== undefined ? parseBox(boxText) : null;
    points = (options.values.get('point') ?? []).map(parsePoint);
    if (!box && !points.some((p) => p.label === 1)) throw new UsageError('give --box, or at least one positive --point');
    parseWindow(single(options, 'window'));
    segOutput = parseSegOutput(options, false);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner segment: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const json = options.flags.has('json');
  const outFile = single(options, 'out') ?? null;
  const service = new InferenceService({ models: resolveModelsDir(single(options, 'models')) });
  try {
    const series = await singleImageSeries(requireValue(options, 'series'));
    const slice = await seriesSlice(series, parseSliceIndex(requireValue(options, 'slice')));
    const window = parseWindow(single(options, 'window'));
    const result = await service.segment({ jobId: 'cli-segment', slice, box, points, ...(window ? { window } : {}) });
    if (outFile) await writeFile(path.resolve(outFile), Buffer.from(result.mask.png, 'base64'));
    const written = await writeSegmentSeg(service, series, result, segOutput);
    if (json) {
      const { mask, ...rest } = result;
      io.out(`${JSON.stringify({ ...rest, mask: { width: mask.width, height: mask.height, area: mask.area, file: outFile ? path.resolve(outFile) : null }, ...writtenJson(written) }, null, 2)}\n`);
    } else {
      io.out(
        [
          `Segmenter: ${result.segmenter.label}`,
          `Execution provider: ${result.provider.name.toUpperCase()} (${result.provider.reason})`,
          `Slice ${result.sliceIndex} of ${result.seriesKey}: ${result.mask.width}×${result.mask.height}, window ${result.window.center}/${result.window.width}`,
          `Prompts: box ${result.prompts.box ? result.prompts.box.join(',') : 'none'}; points ${result.prompts.points.map((p) => `${p.x},${p.y},${p.label}`).join(' ') || 'none'}`,
          `Mask: ${result.mask.area} pixels${result.score !== null ? `, predicted IoU ${result.score.toFixed(3)}` : ''}${outFile ? ` → ${outFile}` : ''}`,
          `Timings: ${formatTimings(result.timings)}`,
          ...writtenLines(written),
        ].join('\n'),
      );
    }
    return 0;
  } catch (error) {
    if (isSegOutputError(error)) {
      io.err(`medreasoner segment: cannot write the DICOM-SEG: ${error.message}`);
      return 1;
    }
    if (error instanceof InferenceError || error instanceof SeriesChoiceError || error instanceof SlicePixelError) {
      io.err(`medreasoner segment: ${error.message}`);
      return error instanceof InferenceError && error.code === 'invalid-prompts' ? 2 : 1;
    }
    throw error;
  } finally {
    await service.dispose();
  }
}

/**
 * The segmenter's mask as a DICOM-SEG. SEMIAUTOMATIC, as DICOM defines it (computed with
 * user interaction): the user's box and points drove it, hence provenance "interactive";
 * the prompts recorded with it say what the interaction was.
 */
async function writeSegmentSeg(service: InferenceService, series: HostSeries, result: SegmentResult, output: SegOutputOptions): Promise<ExportJobOutput | null> {
  if (output.segPath === null) return null;
  const k = result.sliceIndex;
  const segmenter = result.segmenter;
  const model = segmenter.kind === 'default' ? { name: segmenter.id, version: APP_VERSION } : await modelId(service, segmenter.id, (await service.status()).asm.variant);
  const prompts = [...(result.prompts.box ? [boxPrompt(result.prompts.box, k)] : []), ...result.prompts.points.map((p) => pointPrompt(p.x, p.y, p.label, k))];
  return writeSegOutput({
    series,
    sliceIndex: k,
    mask: result.mask,
    output,
    algorithmName: segmenter.label,
    provenance: { source: 'interactive', prompts, models: [model] },
  });
}
