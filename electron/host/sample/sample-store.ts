// Puts the sample on disk: the CT series in <dir>/dicom, the ground truth next
// to it, and sample.json last, as the mark of a complete sample.
//
// Atomic: everything is written into a hidden sibling folder which is renamed
// into place at the end, so a crash leaves either the old sample, no sample, or
// a leftover hidden folder (cleaned up later), never a half sample at <dir>.
//
// Event loop: slices are rendered and written one at a time, and after each one
// the writer waits for a macrotask (setImmediate), so a server on the same
// thread keeps answering; one slice of the default sample takes ~25 ms.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { LabelStatistics, writeGroundTruth, GROUND_TRUTH_JSON, GROUND_TRUTH_NRRD } from './ground-truth.ts';
import { createPhantomRenderer, DEFAULT_SAMPLE_SPEC, validateSpec, type PhantomSpec } from './phantom.ts';
import { SAMPLE_GENERATOR_VERSION, sampleUids } from './sample-identity.ts';
import { ctFileName, encodeCtSlice, instanceNumberOf } from './write-ct-series.ts';
import { isProcessAlive } from '../process-alive.ts';

export const SAMPLE_FOLDER = 'sample';
export const SAMPLE_MANIFEST = 'sample.json';
export const SAMPLE_SERIES_FOLDER = 'dicom';

const FileEntry = z.object({
  fileName: z.string().regex(/^CT\d{6}\.dcm$/),
  sliceIndex: z.number().int().nonnegative(),
  instanceNumber: z.number().int().positive(),
  sopInstanceUid: z.string(),
  bytes: z.number().int().positive(),
});

const StoredManifest = z.object({
  format: z.literal('medreasoner-sample'),
  generatorVersion: z.string(),
  spec: z.object({
    columns: z.number(),
    rows: z.number(),
    slices: z.number(),
    pixelSpacing: z.number(),
    sliceThickness: z.number(),
    seed: z.number(),
  }),
  uids: z.object({ studyInstanceUid: z.string(), seriesInstanceUid: z.string(), frameOfReferenceUid: z.string() }),
  seriesFolder: z.literal(SAMPLE_SERIES_FOLDER),
  /** In slice order: index 0 is the most inferior slice. */
  files: z.array(FileEntry),
  groundTruth: z.object({ nrrd: z.literal(GROUND_TRUTH_NRRD), json: z.literal(GROUND_TRUTH_JSON), nrrdBytes: z.number(), jsonBytes: z.number() }),
});
export type StoredSampleManifest = z.infer<typeof StoredManifest>;

/** The manifest as stored in sample.json, plus where the sample is now. */
export interface SampleManifest extends StoredSampleManifest {
  /** Absolute folder of the sample. */
  dir: string;
  /** Absolute folder of the CT series: what to import. */
  seriesDir: string;
}

export interface WriteSampleOptions {
  /**
   * Replace `dir` even when it holds something other than a sample. Only for
   * folders the app owns (ensureSample); by default a non-empty folder without
   * sample.json is refused, so a mistyped path cannot wipe someone's files.
   */
  replaceAnything?: boolean;
  /** Called after each slice is written. */
  onProgress?: (slicesWritten: number, slices: number) => void;
}

function withLocation(manifest: StoredSampleManifest, dir: string): SampleManifest {
  return { ...manifest, dir, seriesDir: path.join(dir, manifest.seriesFolder) };
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function assertReplaceable(dir: string, replaceAnything: boolean): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new Error(`cannot write the sample to ${dir}: it exists and is not a folder`);
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (replaceAnything || entries.length === 0 || entries.includes(SAMPLE_MANIFEST)) return;
  throw new Error(
    `refusing to write the sample to ${dir}: the folder is not empty and holds no MedReasoner sample (${SAMPLE_MANIFEST}); choose an empty or new folder`,
  );
}

/** Writes a complete sample to `dir`, replacing a previous sample there. */
export async function writeSample(
  dir: string,
  spec: PhantomSpec = DEFAULT_SAMPLE_SPEC,
  options: WriteSampleOptions = {},
): Promise<SampleManifest> {
  const checkedSpec = validateSpec(spec);
  const target = path.resolve(dir);
  await assertReplaceable(target, options.replaceAnything ?? false);
  const parent = path.dirname(target);
  const base = path.basename(target);
  await mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.${base}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const manifest = await writeInto(staging, checkedSpec, options);
    await swapIntoPlace(staging, target);
    return withLocation(manifest, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

async function writeInto(staging: string, spec: PhantomSpec, options: WriteSampleOptions): Promise<StoredSampleManifest> {
  const seriesDir = path.join(staging, SAMPLE_SERIES_FOLDER);
  await mkdir(seriesDir, { recursive: true });
  const renderer = createPhantomRenderer(spec);
  await nextMacrotask();
  const { geometry } = renderer;
  const uids = sampleUids(spec);
  const pixels = geometry.columns * geometry.rows;
  const labels = new Uint8Array(pixels * geometry.slices);
  const hu = new Int16Array(pixels);
  const statistics = new LabelStatistics(geometry);
  const files: StoredSampleManifest['files'] = [];
  for (let k = 0; k < geometry.slices; k++) {
    const sliceLabels = labels.subarray(k * pixels, (k + 1) * pixels);
    renderer.renderSlice(k, hu, sliceLabels);
    statistics.addSlice(k, sliceLabels);
    const bytes = encodeCtSlice(geometry, k, hu, uids);
    const instanceNumber = instanceNumberOf(k, geometry.slices);
    const fileName = ctFileName(instanceNumber);
    await writeFile(path.join(seriesDir, fileName), bytes);
    files.push({ fileName, sliceIndex: k, instanceNumber, sopInstanceUid: uids.sopInstanceUid(k), bytes: bytes.length });
    options.onProgress?.(k + 1, geometry.slices);
    await nextMacrotask();
  }
  const uidSummary = {
    studyInstanceUid: uids.studyInstanceUid,
    seriesInstanceUid: uids.seriesInstanceUid,
    frameOfReferenceUid: uids.frameOfReferenceUid,
  };
  await writeGroundTruth(staging, {
    spec,
    geometry,
    labels,
    statistics,
    generatorVersion: SAMPLE_GENERATOR_VERSION,
    uids: uidSummary,
  });
  const manifest: StoredSampleManifest = {
    format: 'medreasoner-sample',
    generatorVersion: SAMPLE_GENERATOR_VERSION,
    spec,
    uids: uidSummary,
    seriesFolder: SAMPLE_SERIES_FOLDER,
    files,
    groundTruth: {
      nrrd: GROUND_TRUTH_NRRD,
      json: GROUND_TRUTH_JSON,
      nrrdBytes: (await stat(path.join(staging, GROUND_TRUTH_NRRD))).size,
      jsonBytes: (await stat(path.join(staging, GROUND_TRUTH_JSON))).size,
    },
  };
  // Written last: its presence is what marks the sample complete.
  await writeFile(path.join(staging, SAMPLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * A folder cannot be renamed over a non-empty one, so an old sample is moved
 * aside first and deleted after the new one is in place.
 */
async function swapIntoPlace(staging: string, target: string): Promise<void> {
  const retired = `${path.join(path.dirname(target), `.${path.basename(target)}.old-${process.pid}-${randomBytes(4).toString('hex')}`)}`;
  let movedAside = false;
  if (await exists(target)) {
    await rename(target, retired);
    movedAside = true;
  }
  await rename(staging, target);
  if (movedAside) await rm(retired, { recursive: true, force: true });
}

/** The manifest at `dir`, or null when there is none or it is not a valid one. */
export async function readSampleManifest(dir: string): Promise<SampleManifest | null> {
  const target = path.resolve(dir);
  let text: string;
  try {
    text = await readFile(path.join(target, SAMPLE_MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = StoredManifest.safeParse(json);
  return parsed.success ? withLocation(parsed.data, target) : null;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

/** Every file the manifest lists is there with the size it was written with. */
export async function isSampleComplete(manifest: SampleManifest): Promise<boolean> {
  if (manifest.files.length !== manifest.spec.slices) return false;
  const checks: Array<Promise<boolean>> = manifest.files.map(async (f) => (await sizeOf(path.join(manifest.seriesDir, f.fileName))) === f.bytes);
  checks.push(sizeOf(path.join(manifest.dir, manifest.groundTruth.nrrd)).then((n) => n === manifest.groundTruth.nrrdBytes));
  checks.push(sizeOf(path.join(manifest.dir, manifest.groundTruth.json)).then((n) => n === manifest.groundTruth.jsonBytes));
  return (await Promise.all(checks)).every(Boolean);
}

function sameSpec(a: PhantomSpec, b: PhantomSpec): boolean {
  return (
    a.columns === b.columns &&
    a.rows === b.rows &&
    a.slices === b.slices &&
    a.pixelSpacing === b.pixelSpacing &&
    a.sliceThickness === b.sliceThickness &&
    a.seed === b.seed
  );
}

/** Removes staging and retired folders left by writers that no longer run (a crash, a kill). */
async function removeLeftovers(parent: string, base: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:partial|old)-(\\d+)-[0-9a-f]+$`);
  for (const entry of entries) {
    const match = pattern.exec(entry);
    if (match && !isProcessAlive(Number(match[1]))) {
      await rm(path.join(parent, entry), { recursive: true, force: true });
    }
  }
}

const pending = new Map<string, Promise<SampleManifest>>();

/**
 * The sample at <dataDir>/sample: reused when it is complete and was written by
 * this generator version with this spec, (re)written otherwise. Concurrent calls
 * for the same folder share one write.
 */
export function ensureSample(dataDir: string, spec: PhantomSpec = DEFAULT_SAMPLE_SPEC): Promise<SampleManifest> {
  const target = path.resolve(dataDir, SAMPLE_FOLDER);
  const running = pending.get(target);
  if (running) return running;
  const work = (async () => {
    await removeLeftovers(path.resolve(dataDir), SAMPLE_FOLDER);
    const existing = await readSampleManifest(target);
    if (
      existing &&
      existing.generatorVersion === SAMPLE_GENERATOR_VERSION &&
      sameSpec(existing.spec, validateSpec(spec)) &&
      (await isSampleComplete(existing))
    ) {
      return existing;
    }
    return writeSample(target, spec, { replaceAnything: true });
  })().finally(() => pending.delete(target));
  pending.set(target, work);
  return work;
}
