// U-MRG-14K as the seed's evaluation reads it (eval/eval.py, eval/vllm_eval.py:
// datasets.load_dataset(path)['test']): a Hugging Face dataset folder whose split is parquet
// (data/test-00000-of-00001.parquet, test/*.parquet or test.parquet). A row holds
//   images, masks    lists of Image structs {bytes, path} (PNG or JPEG); the first of each is used
//   prompt           a chat list; prompt[0].content is the question
//   reward_model     .ground_truth: JSON {"bbox_2d": [x0, y0, x1, y1], "point_2d": [[x, y], [x, y]]}
//   extra_info       .id, .supercategory, .category (the table's grouping)
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { decode } from 'fast-png';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type { Box, Point } from '../metrics.ts';
import { decodeCompressedFrame } from '../pixel-codecs.ts';

export interface UmrgSample {
  id: string;
  supercategory: string;
  category: string;
  question: string;
  width: number;
  height: number;
  /** 8-bit grey, row by row (the image's first channel: U-MRG's CT/MR exports have equal channels). */
  grey: Uint8Array;
  /** Non-zero inside the ground-truth mask, at the image's size; null when the row has none. */
  mask: Uint8Array | null;
  gt: { bbox: Box; points: [Point, Point] };
  /** The image had unequal channels (colour modalities): grey is its luma, which the seed did not use. */
  colour: boolean;
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** The split's parquet files, as datasets finds them by name. */
export async function splitFiles(dir: string, split = 'test'): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && depth < 3 && !entry.name.startsWith('.')) await walk(full, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.parquet')) {
        const inSplitFolder = path.basename(folder) === split;
        if (inSplitFolder || entry.name === `${split}.parquet` || entry.name.startsWith(`${split}-`)) found.push(full);
      }
    }
  };
  await walk(path.resolve(dir), 0);
  return found.sort();
}

interface ImageStruct {
  bytes?: Uint8Array | null;
  path?: string | null;
}

/** Size and components from a JPEG's start-of-frame marker (baseline, extended or progressive). */
export function jpegFrameHeader(bytes: Uint8Array): { width: number; height: number; components: number; precision: number } | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      return { precision: bytes[i + 4]!, height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]!, components: bytes[i + 9]! };
    }
    i += 2 + length;
  }
  return null;
}

/** 8-bit JPEG through libjpeg-turbo (the decoder the viewer uses; the seed's cv2.imread is libjpeg too). */
async function decodeJpeg(bytes: Uint8Array, what: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const header = jpegFrameHeader(bytes);
  if (!header || header.precision !== 8 || (header.components !== 1 && header.components !== 3)) throw new DatasetError(`${what}: not an 8-bit grey or colour JPEG this reader can decode`);
  const frame = await decodeCompressedFrame('1.2.840.10008.1.2.4.50', bytes, {
    rows: header.height,
    columns: header.width,
    samplesPerPixel: header.components,
    bitsAllocated: 8,
    photometric: header.components === 3 ? 'YBR_FULL_422' : 'MONOCHROME2',
  }).catch((error: Error) => {
    throw new DatasetError(`${what}: the JPEG does not decode (${error.message})`);
  });
  if (frame.planar) throw new DatasetError(`${what}: planar JPEG output is not expected`);
  return { data: Uint8Array.from(frame.samples), width: frame.width, height: frame.height, channels: frame.components };
}

async function decodeImage(struct: ImageStruct | undefined, what: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const bytes = struct?.bytes;
  if (!bytes || bytes.length === 0) throw new DatasetError(`${what}: no image bytes (an image given only by path "${struct?.path ?? ''}" is not supported)`);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, what);
  if (!(bytes[0] === 0x89 && bytes[1] === 0x50)) throw new DatasetError(`${what}: only PNG and JPEG images are read (this one starts with ${Buffer.from(bytes.subarray(0, 4)).toString('hex')})`);
  const image = decode(bytes);
  if (image.depth !== 8) throw new DatasetError(`${what}: ${image.depth}-bit PNG; 8-bit expected`);
  return { data: image.data as Uint8Array, width: image.width, height: image.height, channels: image.channels };
}

function toGrey(image: Awaited<ReturnType<typeof decodeImage>>): { grey: Uint8Array; colour: boolean } {
  const { data, channels } = image;
  const n = image.width * image.height;
  const grey = new Uint8Array(n);
  let colour = false;
  for (let i = 0; i < n; i++) {
    const r = data[i * channels]!;
    if (channels >= 3) {
      const g = data[i * channels + 1]!;
      const b = data[i * channels + 2]!;
      if (r !== g || g !== b) colour = true;
      grey[i] = colour ? Math.round(0.299 * r + 0.587 * g + 0.114 * b) : r;
    } else grey[i] = r;
  }
  return { grey, colour };
}

function numbers(value: unknown, count: number): number[] | null {
  return Array.isArray(value) && value.length === count && value.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (value as number[]) : null;
}

export async function parseRow(row: Record<string, unknown>, where: string): Promise<UmrgSample> {
  const extra = (row.extra_info ?? {}) as Record<string, unknown>;
  const id = String(extra.id ?? where);
  const prompt = row.prompt as { content?: unknown }[] | undefined;
  const question = prompt?.[0]?.content;
  if (typeof question !== 'string' || question.trim() === '') throw new DatasetError(`${id}: prompt[0].content (the question) is missing`);
  const truthText = (row.reward_model as { ground_truth?: unknown } | undefined)?.ground_truth;
  let truth: { bbox_2d?: unknown; point_2d?: unknown };
  try {
    truth = JSON.parse(String(truthText)) as typeof truth;
  } catch {
    throw new DatasetError(`${id}: reward_model.ground_truth is not JSON`);
  }
  const bbox = numbers(truth.bbox_2d, 4);
  const points = Array.isArray(truth.point_2d) && truth.point_2d.length === 2 ? truth.point_2d.map((p) => numbers(p, 2)) : null;
  if (!bbox || !points || points.some((p) => p === null)) throw new DatasetError(`${id}: ground_truth needs bbox_2d [x0, y0, x1, y1] and point_2d [[x, y], [x, y]]`);
  const image = await decodeImage((row.images as ImageStruct[] | undefined)?.[0], `${id} images[0]`);
  const { grey, colour } = toGrey(image);
  let mask: Uint8Array | null = null;
  const maskStruct = (row.masks as ImageStruct[] | undefined)?.[0];
  if (maskStruct?.bytes) {
    const m = await decodeImage(maskStruct, `${id} masks[0]`);
    if (m.width !== image.width || m.height !== image.height) throw new DatasetError(`${id}: the mask is ${m.width}×${m.height}, the image ${image.width}×${image.height}`);
    mask = new Uint8Array(m.width * m.height);
    for (let i = 0; i < mask.length; i++) mask[i] = m.data[i * m.channels]! !== 0 ? 1 : 0;
  }
  return {
    id,
    supercategory: String(extra.supercategory ?? 'unknown'),
    category: String(extra.category ?? 'unknown'),
    question,
    width: image.width,
    height: image.height,
    grey,
    mask,
    gt: { bbox: bbox as unknown as Box, points: points as unknown as [Point, Point] },
    colour,
  };
}

export interface DatasetInfo {
  files: string[];
  rows: number;
}

/** Every row of the split, in file order, decoded one file at a time. */
export async function* readUmrg(dir: string, split = 'test', limit = Infinity): AsyncGenerator<UmrgSample> {
  const files = await splitFiles(dir, split);
  if (files.length === 0) throw new DatasetError(`${dir}: no "${split}" split (expected data/${split}-*.parquet, ${split}/*.parquet or ${split}.parquet, as datasets.load_dataset finds them)`);
  let n = 0;
  for (const file of files) {
    const rows = (await parquetReadObjects({ file: await asyncBufferFromFile(file), utf8: false })) as Record<string, unknown>[];
    for (let i = 0; i < rows.length; i++) {
      if (n >= limit) return;
      n++;
      yield await parseRow(rows[i]!, `${path.basename(file)}#${i}`);
    }
  }
}
