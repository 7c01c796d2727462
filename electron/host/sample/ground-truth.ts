// The sample's ground truth: the label volume as NRRD (which 3D Slicer and ITK
// read directly, in the same patient space as the CT), and a JSON file with the
// label table and per-structure measurements that tests and benchmarks compare
// against.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { z } from 'zod';
import { LABEL_TABLE, type LabelEntry, type LabelName } from './label-table.ts';
import type { PhantomGeometry, PhantomSpec } from './phantom.ts';
import type { Vec3 } from './shapes.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const GROUND_TRUTH_NRRD = 'ground-truth.nrrd';
export const GROUND_TRUTH_JSON = 'ground-truth.json';

export interface StructureStats {
  voxelCount: number;
  volumeMl: number;
  /** Inclusive voxel indices [column, row, slice index]; null when the structure is absent. */
  boundingBox: { min: [number, number, number]; max: [number, number, number] } | null;
  centroidVoxel: [number, number, number] | null;
  /** Centroid in patient coordinates (LPS, mm). */
  centroidMm: [number, number, number] | null;
}

export type StructureSummary = LabelEntry & StructureStats;

export interface GroundTruthInfo {
  format: 'medreasoner-sample-ground-truth';
  generatorVersion: string;
  spec: PhantomSpec;
  geometry: {
    /** [columns, rows, slices]: the NRRD's sizes, x fastest. */
    sizes: [number, number, number];
    spacing: [number, number, number];
    origin: [number, number, number];
    /** Unit directions of the three axes in LPS. */
    directions: [Vec3, Vec3, Vec3];
    sliceOrder: string;
  };
  uids: { studyInstanceUid: string; seriesInstanceUid: string; frameOfReferenceUid: string };
  labels: StructureSummary[];
}

/** Sums label statistics slice by slice, so a streaming writer never needs a second pass. */
export class LabelStatistics {
  readonly #geometry: PhantomGeometry;
  readonly #count = new Float64Array(256);
  readonly #sum = [new Float64Array(256), new Float64Array(256), new Float64Array(256)] as const;
  readonly #min = [new Int32Array(256).fill(2 ** 30), new Int32Array(256).fill(2 ** 30), new Int32Array(256).fill(2 ** 30)] as const;
  readonly #max = [new Int32Array(256).fill(-1), new Int32Array(256).fill(-1), new Int32Array(256).fill(-1)] as const;

  constructor(geometry: PhantomGeometry) {
    this.#geometry = geometry;
  }

  addSlice(k: number, labels: Uint8Array): void {
    const { columns, rows } = this.#geometry;
    const count = this.#count;
    const [sumI, sumJ, sumK] = this.#sum;
    const [minI, minJ, minK] = this.#min;
    const [maxI, maxJ, maxK] = this.#max;
    for (let j = 0; j < rows; j++) {
      const base = j * columns;
      for (let i = 0; i < columns; i++) {
        const v = labels[base + i]!;
        if (v === 0) continue;
        count[v]!++;
        sumI[v] = sumI[v]! + i;
        sumJ[v] = sumJ[v]! + j;
        sumK[v] = sumK[v]! + k;
        if (i < minI[v]!) minI[v] = i;
        if (i > maxI[v]!) maxI[v] = i;
        if (j < minJ[v]!) minJ[v] = j;
        if (j > maxJ[v]!) maxJ[v] = j;
        if (k < minK[v]!) minK[v] = k;
        if (k > maxK[v]!) maxK[v] = k;
      }
    }
  }

  summarize(): StructureSummary[] {
    const g = this.#geometry;
    const voxelMl = (g.pixelSpacing * g.pixelSpacing * g.sliceThickness) / 1000;
    return LABEL_TABLE.map((entry) => {
      const v = entry.value;
      const n = this.#count[v]!;
      if (n === 0) {
        return { ...entry, voxelCount: 0, volumeMl: 0, boundingBox: null, centroidVoxel: null, centroidMm: null };
      }
      const centroid: [number, number, number] = [this.#sum[0][v]! / n, this.#sum[1][v]! / n, this.#sum[2][v]! / n];
      return {
        ...entry,
        voxelCount: n,
        volumeMl: Math.round(n * voxelMl * 1000) / 1000,
        boundingBox: {
          min: [this.#min[0][v]!, this.#min[1][v]!, this.#min[2][v]!],
          max: [this.#max[0][v]!, this.#max[1][v]!, this.#max[2][v]!],
        },
        centroidVoxel: centroid,
        centroidMm: [
          g.origin[0] + centroid[0] * g.pixelSpacing,
          g.origin[1] + centroid[1] * g.pixelSpacing,
          g.origin[2] + centroid[2] * g.sliceThickness, // centroids are fractional: the linear form is the right one
        ],
      };
    });
  }
}

function nrrdVector(v: readonly number[]): string {
  return `(${v.map((n) => String(n)).join(',')})`;
}

/** NRRD header for the label volume; the data (gzip) follows the blank line. */
export function nrrdHeader(geometry: PhantomGeometry): string {
  const { columns, rows, slices, pixelSpacing, sliceThickness, origin, rowDirection, columnDirection, normal } = geometry;
  const scaled = (v: Vec3, s: number) => v.map((c) => c * s);
  return [
    'NRRD0004',
    `# MedReasoner sample ground truth: label values are described in ${GROUND_TRUTH_JSON}`,
    'type: uint8',
    'dimension: 3',
    'space: left-posterior-superior',
    `sizes: ${columns} ${rows} ${slices}`,
    `space directions: ${nrrdVector(scaled(rowDirection, pixelSpacing))} ${nrrdVector(scaled(columnDirection, pixelSpacing))} ${nrrdVector(scaled(normal, sliceThickness))}`,
    'kinds: domain domain domain',
    'encoding: gzip',
    `space origin: ${nrrdVector(origin)}`,
    '',
    '',
  ].join('\n');
}

export interface GroundTruthInput {
  spec: PhantomSpec;
  geometry: PhantomGeometry;
  labels: Uint8Array;
  statistics: LabelStatistics;
  generatorVersion: string;
  uids: GroundTruthInfo['uids'];
}

/** Writes ground-truth.nrrd and ground-truth.json into `dir`; returns the JSON's content. */
export async function writeGroundTruth(dir: string, input: GroundTruthInput): Promise<GroundTruthInfo> {
  const { geometry, labels } = input;
  const expected = geometry.columns * geometry.rows * geometry.slices;
  if (labels.length !== expected) throw new RangeError(`label volume holds ${labels.length} voxels, expected ${expected}`);
  // gzip runs on libuv's thread pool: a large volume does not hold up the event loop.
  const data = await gzipAsync(labels, { level: 6 });
  await writeFile(path.join(dir, GROUND_TRUTH_NRRD), Buffer.concat([Buffer.from(nrrdHeader(geometry), 'latin1'), data]));
  const info: GroundTruthInfo = {
    format: 'medreasoner-sample-ground-truth',
    generatorVersion: input.generatorVersion,
    spec: input.spec,
    geometry: {
      sizes: [geometry.columns, geometry.rows, geometry.slices],
      spacing: [geometry.pixelSpacing, geometry.pixelSpacing, geometry.sliceThickness],
      origin: [geometry.origin[0], geometry.origin[1], geometry.origin[2]],
      directions: [geometry.rowDirection, geometry.columnDirection, geometry.normal],
      sliceOrder: 'slice index 0 is the most inferior slice (lowest patient z); InstanceNumber = slices - index',
    },
    uids: input.uids,
    labels: input.statistics.summarize(),
  };
  await writeFile(path.join(dir, GROUND_TRUTH_JSON), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

export interface NrrdVolume {
  type: string;
  sizes: number[];
  space: string;
  spaceDirections: number[][];
  spaceOrigin: number[];
  encoding: string;
  data: Uint8Array;
}

function parseVector(text: string, field: string): number[] {
  const match = /^\(([^)]*)\)$/.exec(text.trim());
  if (!match) throw new Error(`NRRD: ${field} must be a vector like (x,y,z), got "${text}"`);
  return match[1]!.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error(`NRRD: ${field} holds a non-number "${s}"`);
    return n;
  });
}

/** Reads an attached-header NRRD of uint8 values, raw or gzip. */
export async function readNrrd(file: string): Promise<NrrdVolume> {
  const bytes = await readFile(file);
  const end = bytes.indexOf('\n\n');
  if (end < 0 || !bytes.subarray(0, 8).toString('latin1').startsWith('NRRD000')) {
    throw new Error(`${file} is not an NRRD file with an attached header`);
  }
  const fields = new Map<string, string>();
  for (const line of bytes.subarray(0, end).toString('latin1').split('\n').slice(1)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const colon = line.indexOf(': ');
    if (colon < 0 || line.includes(':=')) continue; // key/value pairs are not fields
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 2).trim());
  }
  const need = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`NRRD ${file}: missing field "${name}"`);
    return value;
  };
  const type = need('type');
  if (type !== 'uint8' && type !== 'uchar' && type !== 'unsigned char') throw new Error(`NRRD ${file}: type ${type} is not uint8`);
  const sizes = need('sizes').split(/\s+/).map(Number);
  const spaceDirections = (need('space directions').match(/\([^)]*\)/g) ?? []).map((v) => parseVector(v, 'space directions'));
  const spaceOrigin = parseVector(need('space origin'), 'space origin');
  const encoding = need('encoding');
  const payload = bytes.subarray(end + 2);
  let data: Uint8Array;
  if (encoding === 'gzip' || encoding === 'gz') data = new Uint8Array(await gunzipAsync(payload));
  else if (encoding === 'raw') data = new Uint8Array(payload);
  else throw new Error(`NRRD ${file}: encoding ${encoding} is not supported (raw or gzip)`);
  const expected = sizes.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`NRRD ${file}: ${data.length} bytes of data for sizes ${sizes.join('×')} (${expected})`);
  return { type, sizes, space: need('space'), spaceDirections, spaceOrigin, encoding, data };
}

const CodedConceptSchema = z.object({ value: z.string(), scheme: z.literal('SCT'), meaning: z.string() });
const Triple = z.tuple([z.number(), z.number(), z.number()]);
const GroundTruthInfoSchema = z.object({
  format: z.literal('medreasoner-sample-ground-truth'),
  generatorVersion: z.string(),
  spec: z.object({
    columns: z.number(),
    rows: z.number(),
    slices: z.number(),
    pixelSpacing: z.number(),
    sliceThickness: z.number(),
    seed: z.number(),
  }),
  geometry: z.object({
    sizes: Triple,
    spacing: Triple,
    origin: Triple,
    directions: z.tuple([Triple, Triple, Triple]),
    sliceOrder: z.string(),
  }),
  uids: z.object({ studyInstanceUid: z.string(), seriesInstanceUid: z.string(), frameOfReferenceUid: z.string() }),
  labels: z.array(
    z.object({
      value: z.number().int(),
      name: z.enum(LABEL_TABLE.map((l) => l.name) as [LabelName, ...LabelName[]]),
      color: Triple,
      category: CodedConceptSchema,
      type: CodedConceptSchema,
      anatomicRegion: CodedConceptSchema.optional(),
      voxelCount: z.number(),
      volumeMl: z.number(),
      boundingBox: z.object({ min: Triple, max: Triple }).nullable(),
      centroidVoxel: Triple.nullable(),
      centroidMm: Triple.nullable(),
    }),
  ),
});

export interface GroundTruth {
  /** Label per voxel, x fastest, then y, then slice index (0 = most inferior). */
  labels: Uint8Array;
  sizes: [number, number, number];
  spacing: [number, number, number];
  origin: [number, number, number];
  table: StructureSummary[];
  info: GroundTruthInfo;
}

/** Reads a sample's ground truth back (tests, benchmarks). Throws if the two files disagree. */
export async function readGroundTruth(dir: string): Promise<GroundTruth> {
  const info: GroundTruthInfo = GroundTruthInfoSchema.parse(JSON.parse(await readFile(path.join(dir, GROUND_TRUTH_JSON), 'utf8')));
  const nrrd = await readNrrd(path.join(dir, GROUND_TRUTH_NRRD));
  const [columns, rows, slices] = info.geometry.sizes;
  if (nrrd.sizes.join(' ') !== `${columns} ${rows} ${slices}`) {
    throw new Error(`${GROUND_TRUTH_NRRD} sizes ${nrrd.sizes.join(' ')} do not match ${GROUND_TRUTH_JSON} (${columns} ${rows} ${slices})`);
  }
  return {
    labels: nrrd.data,
    sizes: info.geometry.sizes,
    spacing: info.geometry.spacing,
    origin: info.geometry.origin,
    table: info.labels,
    info,
  };
}
