// The sample's voxels: a synthetic torso sampled on a CT grid, in Hounsfield
// units, with a label volume that says which structure each voxel belongs to.
//
// Layout of both arrays: x (column) fastest, then y (row), then z (slice index
// in slice order: index 0 is the most inferior slice, since axial slices with
// orientation 1\0\0\0\1\0 have their normal along +z).
//
// Rendering is slice by slice, so a caller can write each slice as it comes and
// hand the event loop back in between (see sample-store.ts).
import { LABEL_TABLE, type LabelEntry } from './label-table.ts';
import { buildTorsoAnatomy, type Anatomy } from './torso-anatomy.ts';
import { gaussianSource, streamFor } from './random.ts';
import type { Vec3 } from './shapes.ts';

export interface PhantomSpec {
  columns: number;
  rows: number;
  slices: number;
  /** Square pixels, mm. */
  pixelSpacing: number;
  /** Also the distance between slices (contiguous slices), mm. */
  sliceThickness: number;
  /** Unsigned 32-bit: textures, deformations and noise follow it; placement does not. */
  seed: number;
}

/** What `npm start` shows and tests use: ≈ 360 mm field of view, 300 mm from the kidneys to the upper chest. */
export const DEFAULT_SAMPLE_SPEC: Readonly<PhantomSpec> = Object.freeze({
  columns: 256,
  rows: 256,
  slices: 120,
  pixelSpacing: 1.40625,
  sliceThickness: 2.5,
  seed: 20250101,
});

/** The same anatomy at a thin-slice diagnostic resolution, for benchmarks. */
export const LARGE_SAMPLE_SPEC: Readonly<PhantomSpec> = Object.freeze({
  columns: 512,
  rows: 512,
  slices: 500,
  pixelSpacing: 0.703125,
  sliceThickness: 0.6,
  seed: 20250101,
});

/** Stored values are HU + 1024 in 12 bits, so HU outside this range cannot be written. */
export const MIN_HU = -1024;
export const MAX_HU = 3071;

/** Target standard deviation of the image noise, HU. */
export const NOISE_SIGMA_HU = 12;

export interface PhantomGeometry {
  columns: number;
  rows: number;
  slices: number;
  pixelSpacing: number;
  sliceThickness: number;
  /** Patient position (LPS, mm) of the first voxel of slice index 0. */
  origin: Vec3;
  rowDirection: Vec3;
  columnDirection: Vec3;
  /** Slice normal: rowDirection × columnDirection. */
  normal: Vec3;
}

export interface Phantom {
  spec: PhantomSpec;
  geometry: PhantomGeometry;
  hu: Int16Array;
  labels: Uint8Array;
  labelTable: readonly LabelEntry[];
}

export interface PhantomRenderer {
  geometry: PhantomGeometry;
  /** Renders slice index k (0 = most inferior) into arrays of columns × rows values. */
  renderSlice(k: number, hu: Int16Array, labels: Uint8Array): void;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`phantom spec: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function requireNumber(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`phantom spec: ${name} must be a number from ${min} to ${max} mm, got ${value}`);
  }
}

/** Checks a spec and returns a plain copy of it; throws RangeError naming the bad field. */
export function validateSpec(spec: PhantomSpec): PhantomSpec {
  requireInteger('columns', spec.columns, 16, 2048);
  requireInteger('rows', spec.rows, 16, 2048);
  requireInteger('slices', spec.slices, 1, 4000);
  requireNumber('pixelSpacing', spec.pixelSpacing, 0.05, 10);
  requireNumber('sliceThickness', spec.sliceThickness, 0.05, 20);
  requireInteger('seed', spec.seed, 0, 0xffffffff);
  return {
    columns: spec.columns,
    rows: spec.rows,
    slices: spec.slices,
    pixelSpacing: spec.pixelSpacing,
    sliceThickness: spec.sliceThickness,
    seed: spec.seed,
  };
}

/** The grid is centred on the patient axis in x and y, and on the middle slice in z. */
export function phantomGeometry(spec: PhantomSpec): PhantomGeometry {
  const s = validateSpec(spec);
  return {
    columns: s.columns,
    rows: s.rows,
    slices: s.slices,
    pixelSpacing: s.pixelSpacing,
    sliceThickness: s.sliceThickness,
    origin: [
      (-(s.columns - 1) / 2) * s.pixelSpacing,
      (-(s.rows - 1) / 2) * s.pixelSpacing,
      // The same expression as sliceZ(geometry, 0), so the origin equals slice 0's position to the bit.
      (-(s.slices - 1) * s.sliceThickness) / 2,
    ],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, 1],
  };
}

/**
 * Patient z (mm) of slice index k. Computed from the centre rather than as
 * origin + k × thickness so that round values stay round (0.3, not
 * 0.30000000000001) in the headers.
 */
export function sliceZ(geometry: PhantomGeometry, k: number): number {
  return ((2 * k - (geometry.slices - 1)) * geometry.sliceThickness) / 2;
}

/** Patient position (LPS, mm) of voxel (column i, row j, slice index k). */
export function voxelToPatient(geometry: PhantomGeometry, i: number, j: number, k: number): Vec3 {
  return [geometry.origin[0] + i * geometry.pixelSpacing, geometry.origin[1] + j * geometry.pixelSpacing, sliceZ(geometry, k)];
}

export function createPhantomRenderer(spec: PhantomSpec): PhantomRenderer {
  const s = validateSpec(spec);
  const geometry = phantomGeometry(s);
  const { columns, rows, pixelSpacing } = geometry;
  const xs = new Float64Array(columns);
  const ys = new Float64Array(rows);
  for (let c = 0; c < columns; c++) xs[c] = geometry.origin[0] + c * pixelSpacing;
  for (let r = 0; r < rows; r++) ys[r] = geometry.origin[1] + r * pixelSpacing;
  const anatomy = buildTorsoAnatomy(s.seed, { xs, ys }, pixelSpacing);
  const pixels = columns * rows;
  const work = new Float32Array(pixels);
  const noise = new Float32Array(pixels);
  const blurred = new Float32Array(pixels);

  function renderSlice(k: number, hu: Int16Array, labels: Uint8Array): void {
    if (!Number.isInteger(k) || k < 0 || k >= geometry.slices) {
      throw new RangeError(`slice index ${k} is outside 0..${geometry.slices - 1}`);
    }
    if (hu.length !== pixels || labels.length !== pixels) {
      throw new RangeError(`slice buffers must hold ${pixels} values (got ${hu.length} and ${labels.length})`);
    }
    const z = sliceZ(geometry, k);
    work.fill(-1000);
    labels.fill(0);
    paintLayers(anatomy, z, xs, ys, pixelSpacing, work, labels);
    addNoise(s.seed, k, columns, rows, work, noise, blurred);
    for (let i = 0; i < pixels; i++) {
      const v = Math.round(work[i]!);
      hu[i] = v < MIN_HU ? MIN_HU : v > MAX_HU ? MAX_HU : v;
    }
  }

  return { geometry, renderSlice };
}

/**
 * Painter's algorithm over the layers, later layers on top. Coverage of a voxel
 * is estimated from the signed distance at its centre (half a voxel either side
 * of the surface), which gives partial-volume edges; the label goes to whichever
 * layer covers at least half of the voxel last.
 */
function paintLayers(
  anatomy: Anatomy,
  z: number,
  xs: Float64Array,
  ys: Float64Array,
  voxelSize: number,
  work: Float32Array,
  labels: Uint8Array,
): void {
  anatomy.prepareSlice(z);
  const columns = xs.length;
  const rows = ys.length;
  const x0 = xs[0]!;
  const y0 = ys[0]!;
  const half = voxelSize / 2;
  const allowed = new Uint8Array(256);
  for (const layer of anatomy.layers) {
    const { min, max } = layer.box;
    if (z < min[2] - voxelSize || z > max[2] + voxelSize) continue;
    const c0 = Math.max(0, Math.ceil((min[0] - voxelSize - x0) / voxelSize));
    const c1 = Math.min(columns - 1, Math.floor((max[0] + voxelSize - x0) / voxelSize));
    const r0 = Math.max(0, Math.ceil((min[1] - voxelSize - y0) / voxelSize));
    const r1 = Math.min(rows - 1, Math.floor((max[1] + voxelSize - y0) / voxelSize));
    if (c0 > c1 || r0 > r1) continue;
    const within = layer.within;
    if (within) {
      allowed.fill(0);
      for (const v of within) allowed[v] = 1;
    }
    const { sdf, hu, label } = layer;
    const constantHu = typeof hu === 'number' ? hu : 0;
    const huField = typeof hu === 'number' ? null : hu;
    for (let r = r0; r <= r1; r++) {
      const y = ys[r]!;
      let i = r * columns + c0;
      for (let c = c0; c <= c1; c++, i++) {
        if (within && allowed[labels[i]!] === 0) continue;
        const x = xs[c]!;
        const d = sdf(x, y, z, i);
        if (d >= half) continue;
        const coverage = d <= -half ? 1 : 0.5 - d / voxelSize;
        const value = huField ? huField(x, y, z, d, i) : constantHu;
        work[i] = work[i]! + coverage * (value - work[i]!);
        if (label !== null && coverage >= 0.5) labels[i] = label;
      }
    }
  }
}

/**
 * CT noise is not white: reconstruction correlates neighbouring pixels. White
 * Gaussian noise smoothed by a [1 2 1]/4 kernel in x and y gives that fine
 * grain; the kernel divides σ by 1/0.375, so the input σ is scaled up to match.
 */
function addNoise(
  seed: number,
  k: number,
  columns: number,
  rows: number,
  work: Float32Array,
  noise: Float32Array,
  blurred: Float32Array,
): void {
  const gaussian = gaussianSource(streamFor(seed, `noise slice ${k}`));
  const sigmaIn = NOISE_SIGMA_HU / 0.375;
  for (let i = 0; i < noise.length; i++) noise[i] = gaussian() * sigmaIn;
  for (let r = 0; r < rows; r++) {
    const base = r * columns;
    for (let c = 0; c < columns; c++) {
      const left = noise[base + (c > 0 ? c - 1 : c)]!;
      const right = noise[base + (c < columns - 1 ? c + 1 : c)]!;
      blurred[base + c] = (left + 2 * noise[base + c]! + right) / 4;
    }
  }
  for (let r = 0; r < rows; r++) {
    const up = (r > 0 ? r - 1 : r) * columns;
    const down = (r < rows - 1 ? r + 1 : r) * columns;
    const base = r * columns;
    for (let c = 0; c < columns; c++) {
      work[base + c] = work[base + c]! + (blurred[up + c]! + 2 * blurred[base + c]! + blurred[down + c]!) / 4;
    }
  }
}

/** The whole phantom at once (tests, benchmarks). Writers that stream use createPhantomRenderer. */
export function generatePhantom(spec: PhantomSpec = DEFAULT_SAMPLE_SPEC): Phantom {
  const renderer = createPhantomRenderer(spec);
  const { columns, rows, slices } = renderer.geometry;
  const pixels = columns * rows;
  const hu = new Int16Array(pixels * slices);
  const labels = new Uint8Array(pixels * slices);
  for (let k = 0; k < slices; k++) {
    renderer.renderSlice(k, hu.subarray(k * pixels, (k + 1) * pixels), labels.subarray(k * pixels, (k + 1) * pixels));
  }
  return { spec: validateSpec(spec), geometry: renderer.geometry, hu, labels, labelTable: LABEL_TABLE };
}
