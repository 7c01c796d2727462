// Minimum s-t cut on a 4-connected pixel grid: the Boykov–Kolmogorov max-flow algorithm
// (search trees grown from both terminals, reused between augmentations), written for a
// grid so neighbours are implicit and the residual capacities sit in one typed array.
// Used by the default segmenter's graph cut.

const FREE = 0;
const SOURCE = 1;
const SINK = 2;
/** parent[] values that are not a direction. */
const NO_PARENT = -1;
const TERMINAL = -2;
const INFINITE_DISTANCE = 1 << 30;

export interface GridGraph {
  width: number;
  height: number;
  /** Residual capacity from each pixel to its neighbour in direction d (0 right, 1 left, 2 down, 3 up), index p·4 + d. */
  edges: Float64Array;
  /** Terminal residual: > 0 is capacity source → p, < 0 is capacity p → sink. */
  terminals: Float64Array;
}

export function createGridGraph(width: number, height: number): GridGraph {
  return { width, height, edges: new Float64Array(width * height * 4), terminals: new Float64Array(width * height) };
}

/** Sets the capacity of the undirected edge between p and its neighbour in direction d (both ways). */
export function setEdge(graph: GridGraph, p: number, d: 0 | 2, capacity: number): void {
  const q = d === 0 ? p + 1 : p + graph.width;
  graph.edges[p * 4 + d] = capacity;
  graph.edges[q * 4 + (d ^ 1)] = capacity;
}

/** Adds terminal capacities: source → p and p → sink (only their difference matters for the cut). */
export function addTerminal(graph: GridGraph, p: number, toSource: number, toSink: number): void {
  graph.terminals[p] = graph.terminals[p]! + toSource - toSink;
}

export interface CutResult {
  flow: number;
  /** 1 for pixels on the source side of the minimum cut. */
  sourceSide: Uint8Array;
}

/** Computes the max flow / min cut; the graph's capacities become residual capacities. */
export function minCut(graph: GridGraph): CutResult {
  const { width, height, edges, terminals } = graph;
  const n = width * height;
  const tree = new Uint8Array(n);
  const parent = new Int32Array(n).fill(NO_PARENT);
  const stamp = new Int32Array(n);
  const distance = new Int32Array(n);
  let time = 1;
  let flow = 0;

  const neighbour = (p: number, d: number): number => {
    switch (d) {
      case 0:
        return (p % width) + 1 < width ? p + 1 : -1;
      case 1:
        return p % width > 0 ? p - 1 : -1;
      case 2:
        return p + width < n ? p + width : -1;
      default:
        return p - width >= 0 ? p - width : -1;
    }
  };

  // Active nodes: a ring-buffer FIFO; a node may be queued once at a time.
  const queue = new Int32Array(n + 1);
  const queued = new Uint8Array(n);
  let head = 0;
  let tail = 0;
  const activate = (p: number) => {
    if (queued[p]) return;
    queued[p] = 1;
    queue[tail] = p;
    tail = (tail + 1) % queue.length;
  };
  const orphans: number[] = [];

  for (let p = 0; p < n; p++) {
    const t = terminals[p]!;
    if (t > 0) {
      tree[p] = SOURCE;
      parent[p] = TERMINAL;
      stamp[p] = time;
      distance[p] = 1;
      activate(p);
    } else if (t < 0) {
      tree[p] = SINK;
      parent[p] = TERMINAL;
      stamp[p] = time;
      distance[p] = 1;
      activate(p);
    }
  }

  const makeOrphan = (p: number) => {
    parent[p] = NO_PARENT;
    orphans.push(p);
  };

  /** Pushes the bottleneck along source → … → a → b → … → sink, where a is in S, b in T, edge a→b in direction d. */
  const augment = (a: number, b: number, d: number) => {
    let bottleneck = edges[a * 4 + d]!;
    for (let u = a; ; ) {
      const dp = parent[u]!;
      if (dp === TERMINAL) {
        bottleneck = Math.min(bottleneck, terminals[u]!);
        break;
      }
      const v = neighbour(u, dp);
      bottleneck = Math.min(bottleneck, edges[v * 4 + (dp ^ 1)]!);
      u = v;
    }
    for (let u = b; ; ) {
      const dp = parent[u]!;
      if (dp === TERMINAL) {
        bottleneck = Math.min(bottleneck, -terminals[u]!);
        break;
      }
      bottleneck = Math.min(bottleneck, edges[u * 4 + dp]!);
      u = neighbour(u, dp);
    }
    edges[a * 4 + d] = edges[a * 4 + d]! - bottleneck;
    edges[b * 4 + (d ^ 1)] = edges[b * 4 + (d ^ 1)]! + bottleneck;
    for (let u = a; ; ) {
      const dp = parent[u]!;
      if (dp === TERMINAL) {
        terminals[u] = terminals[u]! - bottleneck;
        if (terminals[u]! <= 0) makeOrphan(u);
        break;
      }
      const v = neighbour(u, dp);
      edges[v * 4 + (dp ^ 1)] = edges[v * 4 + (dp ^ 1)]! - bottleneck;
      edges[u * 4 + dp] = edges[u * 4 + dp]! + bottleneck;
      if (edges[v * 4 + (dp ^ 1)]! <= 0) makeOrphan(u);
      u = v;
    }
    for (let u = b; ; ) {
      const dp = parent[u]!;
      if (dp === TERMINAL) {
        terminals[u] = terminals[u]! + bottleneck;
        if (terminals[u]! >= 0) makeOrphan(u);
        break;
      }
      const v = neighbour(u, dp);
      edges[u * 4 + dp] = edges[u * 4 + dp]! - bottleneck;
      edges[v * 4 + (dp ^ 1)] = edges[v * 4 + (dp ^ 1)]! + bottleneck;
      if (edges[u * 4 + dp]! <= 0) makeOrphan(u);
      u = v;
    }
    flow += bottleneck;
  };

  /** Residual capacity that lets q be p's parent in tree t (edge q→p for S, p→q for T), d = direction p→q. */
  const residualTowardsTree = (p: number, q: number, d: number, t: number): number =>
    t === SOURCE ? edges[q * 4 + (d ^ 1)]! : edges[p * 4 + d]!;

  const adopt = () => {
    while (orphans.length > 0) {
      const p = orphans.pop()!;
      const t = tree[p]!;
      let bestDirection = NO_PARENT;
      let bestDistance = INFINITE_DISTANCE;
      for (let d = 0; d < 4; d++) {
        const q = neighbour(p, d);
        if (q < 0 || tree[q] !== t || residualTowardsTree(p, q, d, t) <= 0) continue;
        // Does q still reach the terminal? Walk up, using stamps to stop early.
        let steps = 0;
        let k = q;
        for (;;) {
          if (stamp[k] === time) {
            steps += distance[k]!;
            break;
          }
          const dk = parent[k]!;
          steps++;
          if (dk === TERMINAL) {
            stamp[k] = time;
            distance[k] = 1;
            break;
          }
          if (dk === NO_PARENT) {
            steps = INFINITE_DISTANCE;
            break;
          }
          k = neighbour(k, dk);
        }
        if (steps < INFINITE_DISTANCE) {
          if (steps < bestDistance) {
            bestDistance = steps;
            bestDirection = d;
          }
          for (let k2 = q, s = steps; stamp[k2] !== time; ) {
            stamp[k2] = time;
            distance[k2] = s--;
            k2 = neighbour(k2, parent[k2]!);
          }
        }
      }
      if (bestDirection !== NO_PARENT) {
        parent[p] = bestDirection;
        stamp[p] = time;
        distance[p] = bestDistance + 1;
        continue;
      }
      // No parent: p leaves its tree; its children become orphans, neighbours that could reach it wake up.
      for (let d = 0; d < 4; d++) {
        const q = neighbour(p, d);
        if (q < 0 || tree[q] !== t) continue;
        if (residualTowardsTree(p, q, d, t) > 0) activate(q);
        const dq = parent[q]!;
        if (dq >= 0 && neighbour(q, dq) === p) makeOrphan(q);
      }
      tree[p] = FREE;
    }
  };

  while (head !== tail) {
    const p = queue[head]!;
    head = (head + 1) % queue.length;
    queued[p] = 0;
    const t = tree[p]!;
    if (t === FREE) continue;
    let augmented = false;
    for (let d = 0; d < 4; d++) {
      const q = neighbour(p, d);
      if (q < 0) continue;
      const residual = t === SOURCE ? edges[p * 4 + d]! : edges[q * 4 + (d ^ 1)]!;
      if (residual <= 0) continue;
      const tq = tree[q]!;
      if (tq === FREE) {
        tree[q] = t;
        parent[q] = d ^ 1;
        stamp[q] = stamp[p]!;
        distance[q] = distance[p]! + 1;
        activate(q);
      } else if (tq !== t) {
        if (t === SOURCE) augment(p, q, d);
        else augment(q, p, d ^ 1);
        time++;
        adopt();
        augmented = true;
        break;
      }
    }
    // p may have more paths to offer: look at it again.
    if (augmented && tree[p] !== FREE) activate(p);
  }

  const sourceSide = new Uint8Array(n);
  for (let p = 0; p < n; p++) if (tree[p] === SOURCE) sourceSide[p] = 1;
  return { flow, sourceSide };
}
