// Shape effects of the Segment Editor: margin (grow/shrink), smoothing (median,
// opening, closing) and fill between slices. They work on a binary mask of the segment
// cut out around it, with exact Euclidean distances in millimetres (Felzenszwalb's
// separable distance transform), so a 3 mm margin is 3 mm on any voxel size and a big
// kernel costs no more than a small one.
import { canWrite, growBox, indexOf, segmentBox, type Box, type Grid, type Progress, type Target } from './effect-grid.ts';

/** 2D: each slice on its own. 3D: through the slices too. */
export type Dimensionality = '2d' | '3d';

type Crop = { box: Box; columns: number; rows: number; slices: number; mask: Uint8Array };

function cropAround(labelmap: Uint8Array, grid: Grid, segment: number, reachMm: number, dimensionality: Dimensionality): Crop | null {
  const box = segmentBox(labelmap, grid, segment);
  if (!box) return null;
  // One voxel more than the reach: the ring around the crop is background, so distances inside are exact.
  const grown = growBox(
    box,
    grid,
    Math.ceil(reachMm / grid.spacing.column) + 1,
    Math.ceil(reachMm / grid.spacing.row) + 1,
    dimensionality === '3d' ? Math.ceil(reachMm / grid.spacing.slice) + 1 : 0,
  );
  const columns = grown.c1 - grown.c0 + 1;
  const rows = grown.r1 - grown.r0 + 1;
  const slices = grown.s1 - grown.s0 + 1;
  const mask = new Uint8Array(columns * rows * slices);
  for (let s = 0; s < slices; s++) {
    for (let r = 0; r < rows; r++) {
      const from = indexOf(grid, grown.c0, grown.r0 + r, grown.s0 + s);
      const to = (s * rows + r) * columns;
      for (let c = 0; c < columns; c++) if (labelmap[from + c] === segment) mask[to + c] = 1;
    }
  }
  return { box: grown, columns, rows, slices, mask };
}

/** Writes a crop's result back: the segment becomes the mask there (locked segments kept). */
function writeBack(labelmap: Uint8Array, grid: Grid, crop: Crop, result: Uint8Array, target: Target): void {
  const { columns, rows, slices, box } = crop;
  for (let s = 0; s < slices; s++) {
    for (let r = 0; r < rows; r++) {
      const at = indexOf(grid, box.c0, box.r0 + r, box.s0 + s);
      const from = (s * rows + r) * columns;
      for (let c = 0; c < columns; c++) {
        const i = at + c;
        if (result[from + c]) {
          if (canWrite(labelmap[i]!, target)) labelmap[i] = target.segment;
        } else if (labelmap[i] === target.segment) {
          labelmap[i] = 0;
        }
      }
    }
  }
}

/**
 * Squared distance (mm²) from every voxel to the nearest voxel where mask === feature.
 * Infinity when there is none. 2D: distances within each slice only.
 */
export function squaredDistance(mask: Uint8Array, columns: number, rows: number, slices: number, spacing: { column: number; row: number; slice: number }, feature: 0 | 1, dimensionality: Dimensionality, progress?: Progress): Float64Array {
  const d = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] === feature ? 0 : Infinity;
  const longest = Math.max(columns, rows, slices);
  const f = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const passes = dimensionality === '3d' && slices > 1 ? 3 : 2;
  let passIndex = 0;
  const pass = (count: number, stride: number, step: number, lines: number, starts: Iterable<number>) => {
    // A progress report every 1/16 of a pass: often enough for a bar, rare enough to cost nothing.
    const every = Math.max(1, Math.ceil(lines / 16));
    let line = 0;
    for (const start of starts) {
      for (let q = 0; q < count; q++) f[q] = d[start + q * stride]!;
      transform1d(f, count, step, out, v, z);
      for (let q = 0; q < count; q++) d[start + q * stride] = out[q]!;
      if (progress && ++line % every === 0) progress((passIndex + line / lines) / passes);
    }
    passIndex++;
  };
  const lineStarts = function* (outer: number, outerStride: number, inner: number, innerStride: number) {
    for (let a = 0; a < outer; a++) for (let b = 0; b < inner; b++) yield a * outerStride + b * innerStride;
  };
  const n = columns * rows;
  pass(columns, 1, spacing.column, slices * rows, lineStarts(slices, n, rows, columns));
  pass(rows, columns, spacing.row, slices * columns, lineStarts(slices, n, columns, 1));
  if (passes === 3) pass(slices, n, spacing.slice, rows * columns, lineStarts(rows, columns, columns, 1));
  return d;
}

/** Lower envelope of parabolas (Felzenszwalb & Huttenlocher 2012), samples `step` mm apart. */
function transform1d(f: Float64Array, n: number, step: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    const xq = q * step;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s = 0;
    // z[0] is -Infinity, so this stops at the first parabola at the latest.
    for (;;) {
      const p = v[k]!;
      const xp = p * step;
      s = (fq + xq * xq - (f[p]! + xp * xp)) / (2 * (xq - xp));
      if (s > z[k]!) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) out[q] = Infinity;
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const x = q * step;
    while (z[j + 1]! < x) j++;
    const p = v[j]!;
    const dx = x - p * step;
    out[q] = dx * dx + f[p]!;
  }
}

function dilate(mask: Uint8Array, crop: Crop, grid: Grid, radiusMm: number, dimensionality: Dimensionality, progress?: Progress): Uint8Array {
  const d = squaredDistance(mask, crop.columns, crop.rows, crop.slices, grid.spacing, 1, dimensionality, progress);
  const r2 = radiusMm * radiusMm + 1e-9;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) if (d[i]! <= r2) out[i] = 1;
  return out;
}

function erode(mask: Uint8Array, crop: Crop, grid: Grid, radiusMm: number, dimensionality: Dimensionality, progress?: Progress): Uint8Array {
  const d = squaredDistance(mask, crop.columns, crop.rows, crop.slices, grid.spacing, 0, dimensionality, progress);
  const r2 = radiusMm * radiusMm + 1e-9;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) if (mask[i] && d[i]! > r2) out[i] = 1;
  return out;
}

/** Grows (positive mm) or shrinks (negative mm) a segment by a distance. */
export function margin(labelmap: Uint8Array, grid: Grid, marginMm: number, dimensionality: Dimensionality, target: Target, progress?: Progress): void {
  if (!Number.isFinite(marginMm) || marginMm === 0) return;
  const crop = cropAround(labelmap, grid, target.segment, Math.max(0, marginMm), dimensionality);
  if (!crop) return;
  const result = marginMm > 0 ? dilate(crop.mask, crop, grid, marginMm, dimensionality, progress) : erode(crop.mask, crop, grid, -marginMm, dimensionality, progress);
  writeBack(labelmap, grid, crop, result, target);
}

export type SmoothingMethod = 'median' | 'opening' | 'closing';

/**
 * Smooths a segment with a kernel of the given size (diameter, mm). Opening removes
 * extrusions thinner than the kernel, closing fills gaps and holes narrower than it,
 * median (majority within a box of that size) does a little of both.
 */
export function smooth(labelmap: Uint8Array, grid: Grid, method: SmoothingMethod, kernelMm: number, dimensionality: Dimensionality, target: Target, progress?: Progress): void {
  if (!(kernelMm > 0)) throw new RangeError(`a smoothing kernel must be positive, got ${kernelMm} mm`);
  const radius = kernelMm / 2;
  const crop = cropAround(labelmap, grid, target.segment, kernelMm, dimensionality);
  if (!crop) return;
  // Opening and closing are two distance transforms: each reports half of the way.
  const first = progress && ((fraction: number) => progress(fraction / 2));
  const second = progress && ((fraction: number) => progress(0.5 + fraction / 2));
  let result: Uint8Array;
  if (method === 'opening') result = dilate(erode(crop.mask, crop, grid, radius, dimensionality, first), crop, grid, radius, dimensionality, second);
  else if (method === 'closing') result = erode(dilate(crop.mask, crop, grid, radius, dimensionality, first), crop, grid, radius, dimensionality, second);
  else result = majority(crop, grid, radius, dimensionality);
  writeBack(labelmap, grid, crop, result, target);
}

/** Binary median: a voxel is in when more than half of the box around it is (separable running sums). */
function majority(crop: Crop, grid: Grid, radiusMm: number, dimensionality: Dimensionality): Uint8Array {
  const { columns, rows, slices, mask } = crop;
  const rc = Math.floor(radiusMm / grid.spacing.column);
  const rr = Math.floor(radiusMm / grid.spacing.row);
  const rs = dimensionality === '3d' ? Math.floor(radiusMm / grid.spacing.slice) : 0;
  let sums = Float64Array.from(mask);
  const n = columns * rows;
  const boxSum = (count: number, stride: number, reach: number, start: number, from: Float64Array, to: Float64Array) => {
    if (reach === 0) {
      for (let q = 0; q < count; q++) to[start + q * stride] = from[start + q * stride]!;
      return;
    }
    let running = 0;
    for (let q = 0; q <= Math.min(reach, count - 1); q++) running += from[start + q * stride]!;
    for (let q = 0; q < count; q++) {
      to[start + q * stride] = running;
      const add = q + reach + 1;
      const drop = q - reach;
      if (add < count) running += from[start + add * stride]!;
      if (drop >= 0) running -= from[start + drop * stride]!;
    }
  };
  let next = new Float64Array(mask.length);
  for (let s = 0; s < slices; s++) for (let r = 0; r < rows; r++) boxSum(columns, 1, rc, s * n + r * columns, sums, next);
  [sums, next] = [next, sums];
  for (let s = 0; s < slices; s++) for (let c = 0; c < columns; c++) boxSum(rows, columns, rr, s * n + c, sums, next);
  [sums, next] = [next, sums];
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) boxSum(slices, n, rs, r * columns + c, sums, next);
  [sums, next] = [next, sums];
  const out = new Uint8Array(mask.length);
  // Cells past the crop's edge count as outside, as the image beyond it is.
  const half = ((2 * rc + 1) * (2 * rr + 1) * (2 * rs + 1)) / 2;
  for (let i = 0; i < out.length; i++) if (sums[i]! > half) out[i] = 1;
  return out;
}

/**
 * Fills the slices between a segment's painted slices by shape-based interpolation:
 * each painted slice becomes a signed distance map (negative inside, mm), the maps of
 * two neighbouring painted slices are blended linearly, and the blend's inside is
 * filled. Painted slices themselves are left as they are. Returns the slices filled.
 */
export function fillBetweenSlices(labelmap: Uint8Array, grid: Grid, target: Target): number[] {
  const { columns, rows, slices } = grid.dims;
  const n = columns * rows;
  const painted: number[] = [];
  for (let s = 0; s < slices; s++) {
    const offset = s * n;
    for (let i = 0; i < n; i++) {
      if (labelmap[offset + i] === target.segment) {
        painted.push(s);
        break;
      }
    }
  }
  const filled: number[] = [];
  let upper: Float64Array | null = null;
  for (let k = 0; k + 1 < painted.length; k++) {
    const a = painted[k]!;
    const b = painted[k + 1]!;
    if (b - a < 2) {
      upper = null;
      continue;
    }
    const da = upper ?? signedDistance(labelmap, grid, a, target.segment);
    const db = signedDistance(labelmap, grid, b, target.segment);
    for (let s = a + 1; s < b; s++) {
      const t = (s - a) / (b - a);
      const offset = s * n;
      for (let i = 0; i < n; i++) {
        if ((1 - t) * da[i]! + t * db[i]! <= 0 && canWrite(labelmap[offset + i]!, target)) labelmap[offset + i] = target.segment;
      }
      filled.push(s);
    }
    upper = db;
  }
  return filled;
}

/** Signed in-plane distance (mm) to a segment's outline on one slice: negative inside. */
function signedDistance(labelmap: Uint8Array, grid: Grid, slice: number, segment: number): Float64Array {
  const { columns, rows } = grid.dims;
  const n = columns * rows;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (labelmap[slice * n + i] === segment) mask[i] = 1;
  const outside = squaredDistance(mask, columns, rows, 1, grid.spacing, 1, '2d');
  const inside = squaredDistance(mask, columns, rows, 1, grid.spacing, 0, '2d');
  const out = new Float64Array(n);
  // Half a voxel each side puts the zero level on the outline between inside and outside pixel centres.
  const half = Math.min(grid.spacing.column, grid.spacing.row) / 2;
  for (let i = 0; i < n; i++) out[i] = mask[i] ? -(Math.sqrt(inside[i]!) - half) : Math.sqrt(outside[i]!) - half;
  return out;
}
