// DICOM-SEG export and import of a 512 × 512 × 500 CT with 5 segments (BINARY, LABELMAP,
// LABELMAP with RLE Lossless): our path against
// @cornerstonejs/adapters (generateSegmentation for export, createLabelmapsFromDICOMBuffer
// for import) on the same labelmap, in the same run. Each measurement runs in a fresh
// child process (node --expose-gc), so peaks don't mix; peak memory is the child's
// resourceUsage().maxRSS, reported whole and above what the inputs took.
//
// The source series is generated in memory (UIDs, positions, geometry): our writer needs
// only the source instances' UIDs and geometry, and the peer is handed plain objects in
// place of loaded Cornerstone images (each returns the same zero-filled slice; the peer
// copies them into a multi-frame while exporting, which is its own cost, as in a browser).
// Both paths run in Node here; in the app ours runs in the seg worker thread.
//
//   node bench/seg-roundtrip.ts [--runs 3] [--size 512x512x500] [--only RLE]
// (--only: the cases whose names contain that text, e.g. RLE for the LABELMAP+RLE rows)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATEGORY, FINDING, STRUCTURE } from '../electron/host/seg/codes.ts';
import { writeFileAtomic } from '../electron/host/atomic-file.ts';
import { alignSegToSource } from '../electron/host/seg/seg-import.ts';
import { parseSeg } from '../electron/host/seg/seg-reader.ts';
import { concatParts } from '../electron/host/seg/part10.ts';
import { encodeSeg } from '../electron/host/seg/seg-writer.ts';
import { Segment, type SegmentInit } from '../electron/host/seg/segment.ts';
import { Segmentation } from '../electron/host/seg/segmentation.ts';
import { SourceSeries } from '../electron/host/seg/source-series.ts';

const THIS_FILE = fileURLToPath(import.meta.url);

// Loaded only by the peer's cases, so ours run without Cornerstone in memory.
const peer = () => import('../test/host/seg-peer-adapters.ts');
const MB = 1024 * 1024;

interface Size {
  columns: number;
  rows: number;
  slices: number;
}

function parseSize(text: string): Size {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`--size must look like 512x512x500, got ${text}`);
  return { columns: Number(match[1]), rows: Number(match[2]), slices: Number(match[3]) };
}

// ---------------------------------------------------------------------------------
// Inputs: deterministic, rebuilt identically in every child.

function makeSource({ columns, rows, slices }: Size): SourceSeries {
  const root = '1.2.826.0.1.3680043.8.498.424242';
  return new SourceSeries({
    seriesInstanceUid: `${root}.2`,
    frameOfReferenceUid: `${root}.3`,
    rows,
    columns,
    pixelSpacing: [0.703125, 0.703125],
    orientation: [1, 0, 0, 0, 1, 0],
    sliceThickness: 0.6,
    patientStudy: {
      patientName: 'BENCH^SEG',
      patientId: 'BENCH-1',
      patientBirthDate: '',
      patientSex: 'O',
      studyInstanceUid: `${root}.1`,
      studyDate: '20250101',
      studyTime: '120000',
      studyId: '1',
      accessionNumber: '',
      referringPhysicianName: '',
      studyDescription: 'SEG benchmark',
    },
    slices: Array.from({ length: slices }, (_, k) => ({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: `${root}.4.${k + 1}`,
      frameNumber: null,
      position: [-180, -180, -150 + 0.6 * k] as [number, number, number],
    })),
  });
}

const SEGMENTS: SegmentInit[] = [
  { number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'ai-edited', models: [{ name: 'MedSAM', version: '1.0' }] } },
  { number: 2, label: 'Spleen', color: [157, 108, 162], category: CATEGORY.anatomicalStructure, type: STRUCTURE.spleen, provenance: { source: 'manual' } },
  { number: 3, label: 'Left kidney', color: [185, 102, 83], category: CATEGORY.anatomicalStructure, type: STRUCTURE.leftKidney, provenance: { source: 'manual' } },
  { number: 4, label: 'Right kidney', color: [203, 112, 93], category: CATEGORY.anatomicalStructure, type: STRUCTURE.rightKidney, provenance: { source: 'manual' } },
  { number: 5, label: 'Liver mass', color: [255, 220, 0], category: CATEGORY.morphologicallyAbnormalStructure, type: FINDING.mass, anatomicRegion: STRUCTURE.liver, provenance: { source: 'ai', models: [{ name: 'MedGemma', version: '4b' }] } },
];

/** Five ellipsoids (centre and radii as fractions of the volume); later ones are painted over earlier ones. */
const ELLIPSOIDS: Array<[number, [number, number, number], [number, number, number]]> = [
  [1, [0.33, 0.45, 0.5], [0.2, 0.17, 0.22]],
  [2, [0.74, 0.42, 0.55], [0.07, 0.1, 0.12]],
  [3, [0.66, 0.64, 0.32], [0.05, 0.07, 0.09]],
  [4, [0.34, 0.64, 0.3], [0.05, 0.07, 0.09]],
  [5, [0.3, 0.42, 0.52], [0.04, 0.045, 0.05]],
];

function makeLabelmap({ columns, rows, slices }: Size): Uint8Array {
  // Written through, so every page is resident before the clock starts (an untouched
  // zero page would only be counted when a case first reads it).
  const labelmap = new Uint8Array(columns * rows * slices).fill(0);
  for (const [value, [cx, cy, cz], [rx, ry, rz]] of ELLIPSOIDS) {
    const [x0, y0, z0] = [cx * columns, cy * rows, cz * slices];
    const [ax, ay, az] = [rx * columns, ry * rows, rz * slices];
    for (let k = Math.max(0, Math.ceil(z0 - az)); k <= Math.min(slices - 1, Math.floor(z0 + az)); k++) {
      const dz = (k - z0) / az;
      const rest = 1 - dz * dz;
      if (rest <= 0) continue;
      for (let j = Math.max(0, Math.ceil(y0 - ay)); j <= Math.min(rows - 1, Math.floor(y0 + ay)); j++) {
        const dy = (j - y0) / ay;
        const left = rest - dy * dy;
        if (left <= 0) continue;
        const half = ax * Math.sqrt(left);
        const base = (k * rows + j) * columns;
        labelmap.fill(value, base + Math.max(0, Math.ceil(x0 - half)), base + Math.min(columns, Math.floor(x0 + half) + 1));
      }
    }
  }
  return labelmap;
}

function sameVoxels(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------
// Cases: each returns what it produced, for the table and the correctness check.

interface CaseOutput {
  outBytes: number;
  frames?: number;
  /** An imported labelmap, checked against the input after the clock stops. */
  imported?: Uint8Array | Uint16Array;
}

interface CaseContext {
  source: SourceSeries;
  labelmap: Uint8Array;
  dir: string;
}

const CASES: Record<string, { what: string; run(ctx: CaseContext): Promise<CaseOutput> | CaseOutput }> = {
  'ours BINARY export': {
    what: 'validate + encode (header by dcmjs, pixel data appended)',
    run: ({ source, labelmap }) => {
      const seg = encodeSeg(new Segmentation({ source, segments: SEGMENTS, labelmap }), { type: 'BINARY' });
      return { outBytes: seg.byteLength, frames: seg.frames };
    },
  },
  'ours BINARY export, dcmjs writes pixels': {
    what: 'same, dcmjs writes the pixel data too',
    run: ({ source, labelmap }) => {
      const seg = encodeSeg(new Segmentation({ source, segments: SEGMENTS, labelmap }), { type: 'BINARY', pixelEncoding: 'dcmjs' });
      return { outBytes: seg.byteLength, frames: seg.frames };
    },
  },
  'ours BINARY export + atomic file write': {
    what: 'encode, write temp + fsync + rename',
    run: async ({ source, labelmap, dir }) => {
      const seg = encodeSeg(new Segmentation({ source, segments: SEGMENTS, labelmap }), { type: 'BINARY' });
      await writeFileAtomic(path.join(dir, 'written-binary.dcm'), seg.parts);
      return { outBytes: seg.byteLength, frames: seg.frames };
    },
  },
  'peer BINARY export': {
    what: 'generateSegmentation + datasetToDict().write()',
    run: async ({ source, labelmap }) => {
      const { cornerstoneExport } = await peer();
      const bytes = cornerstoneExport(source, SEGMENTS.map((s) => new Segment(s)), labelmap, { type: 'BINARY' });
      return { outBytes: bytes.length };
    },
  },
  'ours LABELMAP export': {
    what: 'validate + encode, frames zero-copy from the labelmap',
    run: ({ source, labelmap }) => {
      const seg = encodeSeg(new Segmentation({ source, segments: SEGMENTS, labelmap }), { type: 'LABELMAP' });
      return { outBytes: seg.byteLength, frames: seg.frames };
    },
  },
  'peer LABELMAP export': {
    what: 'generateSegmentation (66.7, explicit VR LE) + write',
    run: async ({ source, labelmap }) => {
      const { cornerstoneExport, EXPLICIT_LITTLE } = await peer();
      return { outBytes: cornerstoneExport(source, SEGMENTS.map((s) => new Segment(s)), labelmap, { type: 'LABELMAP', transferSyntaxUid: EXPLICIT_LITTLE }).length };
    },
  },
  'ours LABELMAP export, RLE': {
    what: 'validate + encode, one RLE Lossless fragment per frame',
    run: ({ source, labelmap }) => {
      const seg = encodeSeg(new Segmentation({ source, segments: SEGMENTS, labelmap }), { type: 'LABELMAP', compression: 'rle' });
      return { outBytes: seg.byteLength, frames: seg.frames };
    },
  },
  'peer LABELMAP export, RLE': {
    what: 'generateSegmentation (66.7, RLE Lossless) + write',
    run: async ({ source, labelmap }) => {
      const { cornerstoneExport, RLE_LOSSLESS } = await peer();
      return { outBytes: cornerstoneExport(source, SEGMENTS.map((s) => new Segment(s)), labelmap, { type: 'LABELMAP', transferSyntaxUid: RLE_LOSSLESS }).length };
    },
  },
  'ours BINARY import': {
    what: 'read file + parse + map onto the series + validate',
    run: ({ source, dir }) => {
      const bytes = readFileSync(path.join(dir, 'ours-binary.dcm'));
      const imported = alignSegToSource(parseSeg(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), source);
      return { outBytes: imported.segmentation.labelmap.byteLength, imported: imported.segmentation.labelmap };
    },
  },
  'peer BINARY import': {
    what: 'createLabelmapsFromDICOMBuffer (our BINARY file)',
    run: async ({ source, dir }) => {
      const { cornerstoneImport } = await peer();
      const result = await cornerstoneImport(source, new Uint8Array(readFileSync(path.join(dir, 'ours-binary.dcm'))));
      return { outBytes: result.byteLength, imported: result };
    },
  },
  'ours LABELMAP import': {
    what: 'read file + parse + map onto the series + validate',
    run: ({ source, dir }) => {
      const bytes = readFileSync(path.join(dir, 'ours-labelmap.dcm'));
      const imported = alignSegToSource(parseSeg(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), source);
      return { outBytes: imported.segmentation.labelmap.byteLength, imported: imported.segmentation.labelmap };
    },
  },
  'peer LABELMAP import': {
    what: 'createLabelmapsFromDICOMBuffer (our LABELMAP file)',
    run: async ({ source, dir }) => {
      const { cornerstoneImport } = await peer();
      const result = await cornerstoneImport(source, new Uint8Array(readFileSync(path.join(dir, 'ours-labelmap.dcm'))));
      return { outBytes: result.byteLength, imported: result };
    },
  },
  'ours LABELMAP import, RLE': {
    what: 'read file + parse + RLE decode + map onto the series + validate',
    run: ({ source, dir }) => {
      const bytes = readFileSync(path.join(dir, 'ours-labelmap-rle.dcm'));
      const imported = alignSegToSource(parseSeg(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), source);
      return { outBytes: imported.segmentation.labelmap.byteLength, imported: imported.segmentation.labelmap };
    },
  },
  'peer LABELMAP import, RLE': {
    what: 'createLabelmapsFromDICOMBuffer (our LABELMAP RLE file)',
    run: async ({ source, dir }) => {
      const { cornerstoneImport } = await peer();
      const result = await cornerstoneImport(source, new Uint8Array(readFileSync(path.join(dir, 'ours-labelmap-rle.dcm'))));
      return { outBytes: result.byteLength, imported: result };
    },
  },
};

/** Pairs printed as ratios: peer ÷ ours (above 1: ours is faster or leaner). */
const PAIRS: Array<[string, string]> = [
  ['peer BINARY export', 'ours BINARY export'],
  ['peer LABELMAP export', 'ours LABELMAP export'],
  ['peer LABELMAP export, RLE', 'ours LABELMAP export, RLE'],
  ['peer BINARY import', 'ours BINARY import'],
  ['peer LABELMAP import', 'ours LABELMAP import'],
  ['peer LABELMAP import, RLE', 'ours LABELMAP import, RLE'],
  ['ours BINARY export, dcmjs writes pixels', 'ours BINARY export'],
];

// ---------------------------------------------------------------------------------
// Child: one case, one measurement.

interface Measurement {
  name: string;
  ms: number;
  peakRss: number;
  inputsRss: number;
  outBytes: number;
  frames?: number;
  exact?: boolean;
}

async function runChild(name: string, dir: string, size: Size): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const source = makeSource(size);
  const labelmap = makeLabelmap(size);
  if (name === 'setup') {
    const segmentation = new Segmentation({ source, segments: SEGMENTS, labelmap });
    writeFileSync(path.join(dir, 'ours-binary.dcm'), concatParts(encodeSeg(segmentation, { type: 'BINARY' })));
    writeFileSync(path.join(dir, 'ours-labelmap.dcm'), concatParts(encodeSeg(segmentation, { type: 'LABELMAP' })));
    writeFileSync(path.join(dir, 'ours-labelmap-rle.dcm'), concatParts(encodeSeg(segmentation, { type: 'LABELMAP', compression: 'rle' })));
    return;
  }
  const spec = CASES[name];
  if (!spec) throw new Error(`no case "${name}"`);
  // Module loading is not the operation measured: the peer's modules load before the clock starts.
  if (name.startsWith('peer')) await peer();
  gc?.();
  const inputsRss = process.memoryUsage().rss;
  const started = performance.now();
  const output = await spec.run({ source, labelmap, dir });
  const ms = performance.now() - started;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const measurement: Measurement = { name, ms, peakRss, inputsRss, outBytes: output.outBytes };
  if (output.frames !== undefined) measurement.frames = output.frames;
  if (output.imported) measurement.exact = sameVoxels(output.imported, labelmap);
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

// ---------------------------------------------------------------------------------
// Parent: setup, every case in fresh processes, the table.

function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', THIS_FILE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += String(d)));
    proc.stderr.on('data', (d) => (err += String(d)));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mb = (bytes: number) => (bytes / MB).toFixed(0);

async function runParent(runs: number, sizeText: string, only: string | undefined): Promise<void> {
  const size = parseSize(sizeText);
  const dir = mkdtempSync(path.join(tmpdir(), 'medreasoner-seg-bench-'));
  try {
    await child(['--case', 'setup', '--dir', dir, '--size', sizeText]);
    const probe = makeLabelmap(size);
    const counts = new Array(SEGMENTS.length + 1).fill(0);
    for (const v of probe) counts[v]++;
    console.log(`SEG round trip: ${size.columns} × ${size.rows} × ${size.slices} CT, ${SEGMENTS.length} segments (voxels: ${counts.slice(1).join(', ')}), ${runs} run${runs === 1 ? '' : 's'} per case, each in a fresh process; Node ${process.version}, ${process.platform}/${process.arch}`);
    const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
    const loadBefore = load();
    // Rounds of every case, so a burst of load elsewhere on the machine hits both paths alike.
    const names = Object.keys(CASES).filter((name) => only === undefined || name.includes(only));
    const results = new Map<string, Measurement[]>(names.map((name) => [name, []]));
    for (let r = 0; r < runs; r++) {
      for (const name of names) {
        const out = await child(['--case', name, '--dir', dir, '--size', sizeText]);
        results.get(name)!.push(JSON.parse(out.trim().split('\n').pop()!) as Measurement);
      }
    }
    console.log(`load average (1, 5, 15 min): ${loadBefore} before, ${load()} after; ${cpus().length} CPUs`);
    const header = '| case | what | time ms (median) | peak RSS MB | above inputs MB | output MB | frames | exact |';
    console.log(`\n${header}\n|${header.split('|').slice(1, -1).map(() => '---').join('|')}|`);
    for (const [name, list] of results) {
      const ms = median(list.map((m) => m.ms));
      const peak = Math.max(...list.map((m) => m.peakRss));
      const above = Math.max(...list.map((m) => m.peakRss - m.inputsRss));
      const first = list[0]!;
      const exact = first.exact === undefined ? '' : list.every((m) => m.exact) ? 'yes' : 'NO';
      console.log(`| ${name} | ${CASES[name]!.what} | ${ms.toFixed(0)} | ${mb(peak)} | ${mb(above)} | ${(first.outBytes / MB).toFixed(1)} | ${first.frames ?? ''} | ${exact} |`);
    }
    console.log('\n| comparison | time ratio | memory ratio (above inputs) |\n|---|---|---|');
    for (const [a, b] of PAIRS) {
      const ra = results.get(a);
      const rb = results.get(b);
      if (!ra || !rb) continue;
      const time = median(ra.map((m) => m.ms)) / median(rb.map((m) => m.ms));
      const memory = Math.max(...ra.map((m) => m.peakRss - m.inputsRss)) / Math.max(1, Math.max(...rb.map((m) => m.peakRss - m.inputsRss)));
      console.log(`| ${a} ÷ ${b} | ${time.toFixed(2)}× | ${memory.toFixed(2)}× |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const caseName = argument('--case');
const sizeText = argument('--size') ?? '512x512x500';
if (caseName) await runChild(caseName, argument('--dir')!, parseSize(sizeText));
else await runParent(Number(argument('--runs') ?? 3), sizeText, argument('--only'));
