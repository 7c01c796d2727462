// Geodesic distance on an image: the cheapest 8-connected path from any seed, where a
// step costs its length times sqrt(1 + (contrast · intensity step / noise σ)²). Paths
// through homogeneous tissue are short, paths across edges long: a pixel is "near" the
// seeds it can reach without crossing a boundary. Multi-source Dijkstra with a binary heap.

const STEP_X = Int32Array.of(1, -1, 0, 0, 1, -1, 1, -1);
const STEP_Y = Int32Array.of(0, 0, 1, -1, 1, 1, -1, -1);
const STEP_LENGTH = Float64Array.of(1, 1, 1, 1, Math.SQRT2, Math.SQRT2, Math.SQRT2, Math.SQRT2);

/** A [1 2 1]/4 blur applied twice per axis (≈ Gaussian σ = 1 px): tames noise before measuring steps. */
export function smooth(values: Float32Array, width: number, height: number): Float32Array {
  let current = Float32Array.from(values);
  const scratch = new Float32Array(values.length);
  for (let k = 0; k < 2; k++) {
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const left = current[row + (x > 0 ? x - 1 : 0)]!;
        const right = current[row + (x + 1 < width ? x + 1 : x)]!;
        scratch[row + x] = 0.25 * left + 0.5 * current[row + x]! + 0.25 * right;
      }
    }
    for (let y = 0; y < height; y++) {
      const up = (y > 0 ? y - 1 : 0) * width;
      const down = (y + 1 < height ? y + 1 : y) * width;
      const row = y * width;
      for (let x = 0; x < width; x++) current[row + x] = 0.25 * scratch[up + x]! + 0.5 * scratch[row + x]! + 0.25 * scratch[down + x]!;
    }
  }
  return current;
}

export function geodesicDistance(
  values: Float32Array,
  width: number,
  height: number,
  seeds: Uint8Array,
  noiseSigma: number,
  contrast: number,
): Float64Array {
  const n = width * height;
  const distance = new Float64Array(n).fill(Infinity);
  const heap = new Int32Array(n * 8 + 1);
  const heapKey = new Float64Array(n * 8 + 1);
  let size = 0;
  const push = (node: number, key: number) => {
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapKey[parent]! <= key) break;
      heap[i] = heap[parent]!;
      heapKey[i] = heapKey[parent]!;
      i = parent;
    }
    heap[i] = node;
    heapKey[i] = key;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const lastNode = heap[--size]!;
    const lastKey = heapKey[size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && heapKey[right]! < heapKey[left]! ? right : left;
      if (heapKey[child]! >= lastKey) break;
      heap[i] = heap[child]!;
      heapKey[i] = heapKey[child]!;
      i = child;
    }
    heap[i] = lastNode;
    heapKey[i] = lastKey;
    return top;
  };
  for (let p = 0; p < n; p++) {
    if (seeds[p]) {
      distance[p] = 0;
      push(p, 0);
    }
  }
  const scale = contrast / Math.max(noiseSigma, 1e-6);
  while (size > 0) {
    const key = heapKey[0]!;
    const p = pop();
    if (key > distance[p]!) continue;
    const x = p % width;
    const y = (p - x) / width;
    for (let k = 0; k < 8; k++) {
      const qx = x + STEP_X[k]!;
      const qy = y + STEP_Y[k]!;
      const length = STEP_LENGTH[k]!;
      if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
      const q = qy * width + qx;
      const step = (values[q]! - values[p]!) * scale;
      const candidate = key + length * Math.sqrt(1 + step * step);
      if (candidate < distance[q]!) {
        distance[q] = candidate;
        // The heap may hold stale entries; it is sized for every relaxation of every node.
        if (size < heap.length) push(q, candidate);
      }
    }
  }
  return distance;
}

/**
 * Edge-preserving smoothing (a 5 × 5 bilateral filter): averages neighbours whose values lie
 * within a few `rangeSigma` of the centre, so noise drops inside tissues while steps much
 * larger than the noise (organ boundaries, bone) stay sharp.
 */
export function bilateral(values: Float32Array, width: number, height: number, rangeSigma: number): Float32Array {
  const out = new Float32Array(values.length);
  const radius = 2;
  const spatial = new Float64Array((2 * radius + 1) ** 2);
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) spatial[(dy + radius) * (2 * radius + 1) + dx + radius] = Math.exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5));
  }
  const inverseRange = 1 / (2 * Math.max(rangeSigma, 1e-6) ** 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const centre = values[y * width + x]!;
      let sum = 0;
      let weights = 0;
      for (let dy = -radius; dy <= radius; dy++) {
        const qy = y + dy;
        if (qy < 0 || qy >= height) continue;
        for (let dx = -radius; dx <= radius; dx++) {
          const qx = x + dx;
          if (qx < 0 || qx >= width) continue;
          const v = values[qy * width + qx]!;
          const weight = spatial[(dy + radius) * (2 * radius + 1) + dx + radius]! * Math.exp(-((v - centre) * (v - centre)) * inverseRange);
          sum += weight * v;
          weights += weight;
        }
      }
      out[y * width + x] = sum / weights;
    }
  }
  return out;
}
