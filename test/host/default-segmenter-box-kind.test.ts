// The box kind a caller may give the default segmenter (segmenter-types.ts BoxKind): a
// propagated box (the previous slice's mask box, grown) gets neither the tight-box re-cut
// nor the partial-volume rim; a tight or loose box says what the segmenter otherwise
// guesses from its cut. Judged against graphCutDetailed, the cut beneath, run in the test.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAPH_CUT_OPTIONS, graphCutDetailed, segmentWithBoxPrior } from '../../electron/host/inference/default-segmenter.ts';
import { promptProblems, type PixelBox } from '../../electron/host/inference/segmenter-types.ts';

const size = 64;

/** A bright block (100) on dark tissue (20), with a one-pixel ring of mixed pixels (60) round it, and mild noise. */
function blockImage(x0: number, y0: number, x1: number, y1: number): Float32Array {
  const pixels = new Float32Array(size * size);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
      const ring = !inside && x >= x0 - 1 && x <= x1 + 1 && y >= y0 - 1 && y <= y1 + 1;
      pixels[y * size + x] = (inside ? 100 : ring ? 60 : 20) + noise();
    }
  }
  return pixels;
}

const area = (mask: Uint8Array) => mask.reduce((n, v) => n + v, 0);

describe('box kinds in the default segmenter', () => {
  // The block fills the box's left half only: the cut reaches three sides and fills about
  // 64 % of the box's ellipse, which is what a tight box drawn round weak edges looks like.
  const image = { width: size, height: size, pixels: blockImage(12, 12, 31, 51) };
  const box: PixelBox = [12, 12, 51, 51];
  const points = [
    { x: 20, y: 25, label: 1 as const },
    { x: 22, y: 40, label: 1 as const },
  ];

  it('re-cuts a cut that reaches a side yet fills little of the box, unless the box is loose or propagated', () => {
    const judged = segmentWithBoxPrior(image, { box, points });
    expect(judged.lowConfidence).toMatch(/weighted up/);
    expect(segmentWithBoxPrior(image, { box, points, boxKind: 'tight' }).lowConfidence).toMatch(/weighted up/);
    const loose = segmentWithBoxPrior(image, { box, points, boxKind: 'loose' });
    expect(loose.lowConfidence ?? '').not.toMatch(/weighted up/);
    expect(Array.from(loose.mask)).toEqual(Array.from(graphCutDetailed(image, { box, points }).mask));
  });

  it('adds no partial-volume rim in a propagated box: the mask is the cut itself', () => {
    const propagated = segmentWithBoxPrior(image, { box, points, boxKind: 'propagated' });
    const withoutRim = graphCutDetailed(image, { box, points }, { ...DEFAULT_GRAPH_CUT_OPTIONS, partialVolumeGate: 0 }).mask;
    const withRim = graphCutDetailed(image, { box, points }).mask;
    expect(propagated.lowConfidence ?? '').not.toMatch(/weighted up/);
    expect(Array.from(propagated.mask)).toEqual(Array.from(withoutRim));
    // The ring of mixed pixels is what the rim adds elsewhere (so the comparison means something).
    expect(area(withRim)).toBeGreaterThan(area(withoutRim));
  });

  it('refuses an unknown box kind, or one without a box, in words', () => {
    expect(promptProblems({ box, points, boxKind: 'snug' as never }, size, size).join()).toMatch(/box kind "snug" is not one of tight, loose, propagated/);
    expect(promptProblems({ box: null, points, boxKind: 'tight' }, size, size).join()).toMatch(/without a box/);
  });
});
