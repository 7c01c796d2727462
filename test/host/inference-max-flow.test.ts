// The graph cut's max-flow against brute force: on small grids every labelling is tried,
// and the cheapest cut must equal the flow the algorithm finds.
import { describe, expect, test } from 'vitest';
import { addTerminal, createGridGraph, minCut, setEdge } from '../../electron/host/inference/grid-max-flow.ts';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('grid min cut', () => {
  for (const [width, height, seed] of [
    [3, 3, 1],
    [4, 3, 2],
    [3, 4, 3],
    [4, 4, 4],
    [2, 5, 5],
    [4, 4, 6],
  ] as const) {
    test(`${width}×${height} grid, seed ${seed}: flow equals the brute-force minimum cut`, () => {
      const rand = random(seed);
      const n = width * height;
      const right = Array.from({ length: n }, () => (rand() < 0.8 ? Math.round(rand() * 10) : 0));
      const down = Array.from({ length: n }, () => (rand() < 0.8 ? Math.round(rand() * 10) : 0));
      const source = Array.from({ length: n }, () => (rand() < 0.5 ? Math.round(rand() * 12) : 0));
      const sink = Array.from({ length: n }, () => (rand() < 0.5 ? Math.round(rand() * 12) : 0));
      const graph = createGridGraph(width, height);
      for (let p = 0; p < n; p++) {
        if (p % width < width - 1) setEdge(graph, p, 0, right[p]!);
        if (p + width < n) setEdge(graph, p, 2, down[p]!);
        addTerminal(graph, p, source[p]!, sink[p]!);
      }
      const { flow, sourceSide } = minCut(graph);
      let best = Infinity;
      const cost = (inSource: (p: number) => boolean) => {
        let c = 0;
        for (let p = 0; p < n; p++) {
          c += inSource(p) ? sink[p]! : source[p]!;
          if (p % width < width - 1 && inSource(p) !== inSource(p + 1)) c += right[p]!;
          if (p + width < n && inSource(p) !== inSource(p + width)) c += down[p]!;
        }
        return c;
      };
      for (let mask = 0; mask < 1 << n; mask++) best = Math.min(best, cost((p) => ((mask >> p) & 1) === 1));
      // addTerminal keeps only the difference of the two terminal links; the common part is cut anyway.
      const common = source.reduce((a, s, p) => a + Math.min(s, sink[p]!), 0);
      expect(flow + common).toBeCloseTo(best, 9);
      expect(cost((p) => sourceSide[p] === 1)).toBeCloseTo(best, 9);
    });
  }
});
