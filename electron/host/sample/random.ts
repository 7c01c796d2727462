// Seeded randomness for the phantom. Everything random in the sample comes from
// here so the same spec always gives the same bytes: no Math.random, no clocks.

/** 32-bit FNV-1a of a string: turns names like "liver" into independent sub-seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for textures and noise; returns [0, 1). */
export function mulberry32(seed: number): () => number {
  // State in a typed array: a uint32 in a plain closure variable would be boxed
  // on every call, and the noise draws millions of numbers per sample.
  const state = new Uint32Array([seed >>> 0]);
  return () => {
    state[0] = state[0]! + 0x6d2b79f5;
    let t = state[0]! | 0;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator for one purpose, independent of every other purpose under the same seed. */
export function streamFor(seed: number, purpose: string): () => number {
  return mulberry32((seed ^ hashString(purpose)) >>> 0);
}

/** Standard normal samples by Box-Muller, from a uniform source. */
export function gaussianSource(uniform: () => number): () => number {
  // [spare value, 1 when it holds one]: typed storage keeps the hot loop allocation-free.
  const spare = new Float64Array(2);
  return () => {
    if (spare[1] === 1) {
      spare[1] = 0;
      return spare[0]!;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare[0] = r * Math.sin(2 * Math.PI * v);
    spare[1] = 1;
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** A smooth scalar field in mm; `fillPlane` evaluates a whole axial slice at once, much faster. */
export interface Wobble {
  (x: number, y: number, z: number): number;
  fillPlane(xs: Float64Array, ys: Float64Array, z: number, out: Float32Array): void;
}

/**
 * A smooth bump field: a few random plane waves. Added to a shape's signed
 * distance it bends the surface by up to `amplitude` mm, which is what keeps
 * organs from looking like textbook ellipsoids.
 */
export function smoothWobble(uniform: () => number, amplitude: number, wavelengthMm: number): Wobble {
  const waves = 3;
  const kx: number[] = [];
  const ky: number[] = [];
  const kz: number[] = [];
  const phase: number[] = [];
  for (let i = 0; i < waves; i++) {
    // A random direction, with a wavelength within ±30 % of the one asked for.
    const theta = uniform() * 2 * Math.PI;
    const cosPhi = uniform() * 2 - 1;
    const sinPhi = Math.sqrt(1 - cosPhi * cosPhi);
    const k = (2 * Math.PI) / (wavelengthMm * (0.7 + 0.6 * uniform()));
    kx.push(k * sinPhi * Math.cos(theta));
    ky.push(k * sinPhi * Math.sin(theta));
    kz.push(k * cosPhi);
    phase.push(uniform() * 2 * Math.PI);
  }
  const scale = amplitude / waves;
  const at = (x: number, y: number, z: number) => {
    let s = 0;
    for (let i = 0; i < waves; i++) s += Math.sin(kx[i]! * x + ky[i]! * y + kz[i]! * z + phase[i]!);
    return s * scale;
  };
  // sin(a + b) = sin a cos b + cos a sin b: one sine per column and per row instead of per pixel.
  const fillPlane = (xs: Float64Array, ys: Float64Array, z: number, out: Float32Array) => {
    const columns = xs.length;
    out.fill(0, 0, columns * ys.length);
    for (let w = 0; w < waves; w++) {
      const sinX = new Float64Array(columns);
      const cosX = new Float64Array(columns);
      for (let c = 0; c < columns; c++) {
        sinX[c] = Math.sin(kx[w]! * xs[c]!);
        cosX[c] = Math.cos(kx[w]! * xs[c]!);
      }
      for (let r = 0; r < ys.length; r++) {
        const b = ky[w]! * ys[r]! + kz[w]! * z + phase[w]!;
        const sinB = Math.sin(b) * scale;
        const cosB = Math.cos(b) * scale;
        const base = r * columns;
        for (let c = 0; c < columns; c++) out[base + c] = out[base + c]! + sinX[c]! * cosB + cosX[c]! * sinB;
      }
    }
  };
  return Object.assign(at, { fillPlane });
}

/**
 * Gradient (Perlin-style) noise in 3-D on a lattice of `cellMm`, values about
 * in [-1, 1]. Its zero set is a tangle of smooth sheets; a thin band around it
 * gives worm-like tubes, used for the bowel loops.
 */
export function gradientNoise3(uniform: () => number, cellMm: number): (x: number, y: number, z: number) => number {
  const size = 256;
  const perm = new Uint8Array(size * 2);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (let i = 0; i < size * 2; i++) perm[i] = order[i % size]!;
  const gx = new Float64Array(size);
  const gy = new Float64Array(size);
  const gz = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const theta = uniform() * 2 * Math.PI;
    const cosPhi = uniform() * 2 - 1;
    const sinPhi = Math.sqrt(1 - cosPhi * cosPhi);
    gx[i] = sinPhi * Math.cos(theta);
    gy[i] = sinPhi * Math.sin(theta);
    gz[i] = cosPhi;
  }
  const fade = (t: number) => t * t * t * (t * (t * 6 - 15) + 10);
  const inv = 1 / cellMm;
  return (x, y, z) => {
    const px = x * inv;
    const py = y * inv;
    const pz = z * inv;
    const fx = Math.floor(px);
    const fy = Math.floor(py);
    const fz = Math.floor(pz);
    const dx = px - fx;
    const dy = py - fy;
    const dz = pz - fz;
    const ix = fx & 255;
    const iy = fy & 255;
    const iz = fz & 255;
    const u = fade(dx);
    const v = fade(dy);
    const w = fade(dz);
    let result = 0;
    for (let c = 0; c < 8; c++) {
      const ox = c & 1;
      const oy = (c >> 1) & 1;
      const oz = (c >> 2) & 1;
      const g = perm[perm[perm[ix + ox]! + iy + oy]! + iz + oz]!;
      const dot = gx[g]! * (dx - ox) + gy[g]! * (dy - oy) + gz[g]! * (dz - oz);
      const weight = (ox ? u : 1 - u) * (oy ? v : 1 - v) * (oz ? w : 1 - w);
      result += weight * dot;
    }
    return result * 1.6;
  };
}
