// The default segmenter: what `segment` uses when MedSAM2 is not installed. A classical,
// prompt-driven graph cut (GrabCut-style, on intensities rather than colours):
//  - the box bounds the answer: pixels just outside it are hard background;
//  - positive points are hard foreground seeds and give the first foreground intensity
//    model (a Gaussian); negative points are hard background; a margin just outside the
//    box gives the background model (a mixture: a loose box's border lies in the
//    neighbouring tissues); intensities are judged after edge-preserving smoothing;
//  - a geodesic competition: pixels reached more cheaply (through homogeneous tissue) from
//    outside the box than from the positive points lean to the background;
//  - a weak shape prior (the ellipse inscribed in the box) settles pixels whose intensity
//    fits both models;
//  - edges between neighbours with different intensities are cheap to cut;
//  - the intensity models are re-estimated from the cut and the cut repeated;
//  - finally only the parts connected to a positive point are kept and small holes filled.
// No weights, deterministic, a few milliseconds to a few hundred on a 512² slice.
import { bilateral, geodesicDistance, smooth } from './geodesic-distance.ts';
import { maskBox } from './ground-truth-prompts.ts';
import { addPartialVolumeRim } from './partial-volume.ts';
import { addedClicks, applyClicksLocally, clickRadius, type PreviousAnswer } from './refinement-clicks.ts';
import { addTerminal, createGridGraph, minCut, setEdge } from './grid-max-flow.ts';
import { fitMixture, negLogLikelihood, robustGaussian, scaled, type Gaussian } from './intensity-mixture.ts';
import {
  DEFAULT_SEGMENTER_LABEL,
  promptProblems,
  type PixelBox,
  type SegmentImage,
  type SegmentOutcome,
  type Segmenter,
  type SegmentPrompts,
} from './segmenter-types.ts';

export interface GraphCutOptions {
  /** Weight of the smoothness term relative to the intensity log-likelihoods. */
  smoothness: number;
  /** Weight of the inscribed-ellipse shape prior. */
  shapePrior: number;
  /** Steepness of the shape prior across the ellipse's outline. */
  shapeSteepness: number;
  /** Cut, re-estimate the models, cut again: how many cuts. */
  iterations: number;
  /** Gaussians in the background intensity model (tissues around the target). */
  backgroundComponents: number;
  /** Cap on a pixel's intensity cost, so that no single pixel outweighs its neighbourhood. */
  maxIntensityCost: number;
  /** Holes smaller than this fraction of the mask are filled. */
  fillHoleFraction: number;
  /** Weight of the geodesic competition between the positive points and the box's outside. */
  geodesic: number;
  /** How much an intensity step (in noise σ) costs in the geodesic metric, relative to a pixel of path. */
  geodesicContrast: number;
  /** Share of the seeds' own intensity model kept when the foreground model is re-estimated. */
  seedModelShare: number;
  /** What the intensity models judge: raw values, a light blur, or edge-preserving smoothing. */
  intensityFilter: 'none' | 'blur' | 'bilateral';
  /** Bilateral filter: how different (in noise σ) a neighbour may be and still be averaged. */
  bilateralRange: number;
  /** Share of "any other tissue" (uniform over the region's range) in the background model. */
  backgroundUniform: number;
  /** Partial-volume rim (partial-volume.ts): how strongly a mixed boundary pixel leans to the structure; 0 = off. */
  partialVolumeGate: number;
  /** How many one-pixel rims may be added, each judged against the tissue beyond the last. */
  partialVolumeRings: number;
  /**
   * In a tight box (segmentWithBoxPrior): the rim's gate and rings. The structure spans a
   * tight box, so mixed pixels at its outline are more likely its own than in a loose one.
   */
  tightRimGate: number;
  tightRimRings: number;
  /** In a tight box: the cap on a pixel's intensity cost (the box's shape and the neighbours weigh more). */
  tightMaxIntensityCost: number;
}

/**
 * Tuned on the embedded sample and on the tuning split of the real MR atlases (AAL's left
 * hemisphere; bench/segmenter-dice.ts): tight and 25 %-grown boxes. The shape prior stays
 * weak here (propagation's grown boxes must let a structure shrink where it ends);
 * segmentWithBoxPrior strengthens it only when the box is evidently tight. The intensity
 * cost is capped low (10 nats): on real tissue a pixel's intensity is weak evidence next
 * to its neighbours and the box's shape. The rim's gate is wide (3): atlas labels count a
 * boundary pixel in even when it is mostly the tissue beyond.
 */
export const DEFAULT_GRAPH_CUT_OPTIONS: Readonly<GraphCutOptions> = Object.freeze({
  smoothness: 8,
  shapePrior: 0.6,
  shapeSteepness: 4,
  iterations: 3,
  backgroundComponents: 3,
  maxIntensityCost: 30,
  fillHoleFraction: 0.02,
  geodesic: 4,
  geodesicContrast: 2,
  seedModelShare: 0.5,
  intensityFilter: 'bilateral',
  bilateralRange: 3,
  backgroundUniform: 0,
  partialVolumeGate: 1,
  partialVolumeRings: 1,
  tightRimGate: 3,
  tightRimRings: 2,
  tightMaxIntensityCost: 10,
});

const HARD = 1e9;
const EPSILON = 1e-4;

/** Robust noise level: median absolute difference of horizontal neighbours, as a Gaussian σ. */
function noiseSigma(values: Float32Array, width: number, height: number): number {
  if (width < 2) return 1;
  const diffs = new Float32Array((width - 1) * height);
  let k = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x + 1 < width; x++) diffs[k++] = Math.abs(values[y * width + x + 1]! - values[y * width + x]!);
  }
  diffs.sort();
  // |a − b| of two N(0, σ²) samples has median 0.954·σ.
  return Math.max(diffs[Math.floor(diffs.length / 2)]! / 0.954, 1e-3);
}

/** Labels 4-connected components of `mask`; returns labels (0 = outside) and their count. */
function components(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(width * height);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count++;
    labels[start] = count;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % width;
      const neighbours = [x + 1 < width ? p + 1 : -1, x > 0 ? p - 1 : -1, p + width < mask.length ? p + width : -1, p - width];
      for (const q of neighbours) {
        if (q >= 0 && mask[q] && !labels[q]) {
          labels[q] = count;
          stack.push(q);
        }
      }
    }
  }
  return { labels, count };
}

/** A box around positive points when the user gave none: generous, since points say little about extent. */
function boxFromPoints(prompts: SegmentPrompts, width: number, height: number): PixelBox {
  const positives = prompts.points.filter((p) => p.label === 1);
  const xs = positives.map((p) => p.x);
  const ys = positives.map((p) => p.y);
  const spread = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const pad = Math.max(24, spread * 1.5);
  return [
    Math.max(0, Math.floor(Math.min(...xs) - pad)),
    Math.max(0, Math.floor(Math.min(...ys) - pad)),
    Math.min(width - 1, Math.ceil(Math.max(...xs) + pad)),
    Math.min(height - 1, Math.ceil(Math.max(...ys) + pad)),
  ];
}

/**
 * Segments one slice from a box and/or points. Returns a mask of the whole image
 * (1 inside). Throws RangeError on invalid prompts.
 */
export function graphCutSegment(
  image: Pick<SegmentImage, 'width' | 'height' | 'pixels'>,
  prompts: SegmentPrompts,
  options: GraphCutOptions = DEFAULT_GRAPH_CUT_OPTIONS,
): Uint8Array {
  return graphCutDetailed(image, prompts, options).mask;
}

export interface GraphCutResult {
  mask: Uint8Array;
  /** Share of the box's pixels whose intensity fits both models about equally (within 1 nat). */
  ambiguousShare: number;
}

/** graphCutSegment, with how much the intensities alone could tell apart. */
export function graphCutDetailed(
  image: Pick<SegmentImage, 'width' | 'height' | 'pixels'>,
  prompts: SegmentPrompts,
  options: GraphCutOptions = DEFAULT_GRAPH_CUT_OPTIONS,
): GraphCutResult {
  const { width, height, pixels } = image;
  const problems = promptProblems(prompts, width, height);
  if (problems.length > 0) throw new RangeError(`invalid prompts: ${problems.join('; ')}`);
  const box: PixelBox = prompts.box ? (prompts.box.map(Math.round) as PixelBox) : boxFromPoints(prompts, width, height);
  const [bx0, by0, bx1, by1] = box;
  const boxWidth = bx1 - bx0 + 1;
  const boxHeight = by1 - by0 + 1;
  const size = Math.min(boxWidth, boxHeight);
  // Work on the box plus a margin: the margin is hard background and shows what surrounds the box.
  const margin = Math.max(2, Math.round(size * 0.05));
  const ox = Math.max(0, bx0 - margin);
  const oy = Math.max(0, by0 - margin);
  const ex = Math.min(width - 1, bx1 + margin);
  const ey = Math.min(height - 1, by1 + margin);
  const w = ex - ox + 1;
  const h = ey - oy + 1;
  const n = w * h;
  const values = new Float32Array(n);
  for (let y = 0; y < h; y++) values.set(pixels.subarray((oy + y) * width + ox, (oy + y) * width + ox + w), y * w);
  // What the intensity models judge: the raw values, or a lightly smoothed copy.
  const judged =
    options.intensityFilter === 'blur'
      ? smooth(values, w, h)
      : options.intensityFilter === 'bilateral'
        ? bilateral(values, w, h, options.bilateralRange * noiseSigma(values, w, h))
        : values;
  const inBox = (x: number, y: number) => x + ox >= bx0 && x + ox <= bx1 && y + oy >= by0 && y + oy <= by1;

  // Hard constraints, and the samples the intensity models start from.
  const hardForeground = new Uint8Array(n);
  const hardBackground = new Uint8Array(n);
  const backgroundSamples: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (inBox(x, y)) continue;
      hardBackground[y * w + x] = 1;
      backgroundSamples.push(judged[y * w + x]!);
    }
  }
  const seedRadius = Math.max(1, Math.round(size * 0.03));
  const sampleRadius = Math.max(2, Math.round(size * 0.06));
  const foregroundSamples: number[] = [];
  const disk = (cx: number, cy: number, r: number, visit: (p: number) => void) => {
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        if (dx * dx + dy * dy > r * r) continue;
        const x = Math.round(cx) - ox + dx;
        const y = Math.round(cy) - oy + dy;
        if (x >= 0 && y >= 0 && x < w && y < h && inBox(x, y)) visit(y * w + x);
      }
    }
  };
  for (const point of prompts.points) {
    if (point.label === 1) {
      disk(point.x, point.y, seedRadius, (p) => (hardForeground[p] = 1));
      disk(point.x, point.y, sampleRadius, (p) => foregroundSamples.push(judged[p]!));
    } else {
      disk(point.x, point.y, seedRadius, (p) => {
        hardBackground[p] = 1;
        backgroundSamples.push(judged[p]!);
      });
    }
  }
  for (let p = 0; p < n; p++) if (hardForeground[p]) hardBackground[p] = 0;
  const hasPositive = foregroundSamples.length > 0;
  if (backgroundSamples.length === 0) {
    // The box is the whole image: its border rows and columns stand in for the surroundings.
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x === 0 || y === 0 || x === w - 1 || y === h - 1) backgroundSamples.push(judged[y * w + x]!);
  }

  const sigma = noiseSigma(judged, w, h);
  const seedModel: Gaussian[] = [robustGaussian(hasPositive ? foregroundSamples : judged, sigma)];
  const clampCost = (cost: number) => Math.min(cost, options.maxIntensityCost);
  let lowest = Infinity;
  let highest = -Infinity;
  for (let p = 0; p < n; p++) {
    lowest = Math.min(lowest, judged[p]!);
    highest = Math.max(highest, judged[p]!);
  }
  const uniformDensity = options.backgroundUniform / Math.max(highest - lowest, sigma);
  const backgroundCost = (model: readonly Gaussian[], v: number) =>
    options.backgroundUniform > 0
      ? -Math.log((1 - options.backgroundUniform) * Math.exp(-negLogLikelihood(model, v)) + uniformDensity)
      : negLogLikelihood(model, v);

  // Shape prior: log-odds that decrease across the outline of the inscribed ellipse.
  const cx = (bx0 + bx1) / 2;
  const cy = (by0 + by1) / 2;
  const rx = Math.max(boxWidth / 2, 0.5);
  const ry = Math.max(boxHeight / 2, 0.5);
  const priorForeground = new Float64Array(n);
  const priorBackground = new Float64Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rho = Math.hypot((x + ox - cx) / rx, (y + oy - cy) / ry);
      const inside = 1 / (1 + Math.exp(options.shapeSteepness * (rho - 1)));
      priorForeground[y * w + x] = -options.shapePrior * Math.log(inside + EPSILON);
      priorBackground[y * w + x] = -options.shapePrior * Math.log(1 - inside + EPSILON);
    }
  }

  // Geodesic competition: is a pixel reached more cheaply from the positive points or from
  // outside the box? Tissue that continues past a loose box's border belongs to the outside.
  const geodesicForeground = new Float64Array(n);
  const geodesicBackground = new Float64Array(n);
  if (options.geodesic > 0 && hasPositive && hardBackground.some((v) => v === 1)) {
    const smoothed = smooth(values, w, h);
    const smoothSigma = noiseSigma(smoothed, w, h);
    const fromForeground = geodesicDistance(smoothed, w, h, hardForeground, smoothSigma, options.geodesicContrast);
    const fromBackground = geodesicDistance(smoothed, w, h, hardBackground, smoothSigma, options.geodesicContrast);
    for (let p = 0; p < n; p++) {
      const f = fromForeground[p]!;
      const b = fromBackground[p]!;
      const share = Number.isFinite(f) && Number.isFinite(b) && f + b > 0 ? f / (f + b) : Number.isFinite(f) ? 0 : 1;
      geodesicForeground[p] = options.geodesic * share;
      geodesicBackground[p] = options.geodesic * (1 - share);
    }
  }

  // Smoothness weights (GrabCut's β from the mean squared neighbour difference).
  let sumSquares = 0;
  let pairs = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x + 1 < w) {
        sumSquares += (values[p + 1]! - values[p]!) ** 2;
        pairs++;
      }
      if (y + 1 < h) {
        sumSquares += (values[p + w]! - values[p]!) ** 2;
        pairs++;
      }
    }
  }
  const beta = pairs > 0 && sumSquares > 0 ? pairs / (2 * sumSquares) : 1;
  const weightRight = new Float64Array(n);
  const weightDown = new Float64Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x + 1 < w) weightRight[p] = options.smoothness * Math.exp(-beta * (values[p + 1]! - values[p]!) ** 2);
      if (y + 1 < h) weightDown[p] = options.smoothness * Math.exp(-beta * (values[p + w]! - values[p]!) ** 2);
    }
  }

  let foregroundModel = seedModel;
  let backgroundModel = fitMixture(backgroundSamples, options.backgroundComponents, sigma);
  let segmentation: Uint8Array = new Uint8Array(n);
  let ambiguous = 0;
  let judgedInBox = 0;
  for (let iteration = 0; iteration < Math.max(1, options.iterations); iteration++) {
    const graph = createGridGraph(w, h);
    for (let p = 0; p < n; p++) {
      if (weightRight[p]! > 0) setEdge(graph, p, 0, weightRight[p]!);
      if (weightDown[p]! > 0) setEdge(graph, p, 2, weightDown[p]!);
      if (hardForeground[p]) addTerminal(graph, p, HARD, 0);
      else if (hardBackground[p]) addTerminal(graph, p, 0, HARD);
      else {
        const v = judged[p]!;
        // Cutting the source link labels p background (pay its background cost), and vice versa.
        addTerminal(
          graph,
          p,
          clampCost(backgroundCost(backgroundModel, v)) + priorBackground[p]! + geodesicBackground[p]!,
          clampCost(negLogLikelihood(foregroundModel, v)) + priorForeground[p]! + geodesicForeground[p]!,
        );
      }
    }
    segmentation = minCut(graph).sourceSide;
    if (iteration + 1 >= options.iterations) {
      for (let p = 0; p < n; p++) {
        if (hardForeground[p] || hardBackground[p]) continue;
        judgedInBox++;
        const v = judged[p]!;
        if (Math.abs(clampCost(backgroundCost(backgroundModel, v)) - clampCost(negLogLikelihood(foregroundModel, v))) < 1) ambiguous++;
      }
      break;
    }
    const inside: number[] = [];
    const outside: number[] = [];
    for (let p = 0; p < n; p++) (segmentation[p] ? inside : outside).push(judged[p]!);
    if (inside.length === 0 || outside.length === 0) break;
    // The seeds' own model keeps a share, so a leak cannot redefine what the target looks like.
    foregroundModel = [...scaled(seedModel, options.seedModelShare), ...scaled(fitMixture(inside, 2, sigma), 1 - options.seedModelShare)];
    backgroundModel = fitMixture(outside, options.backgroundComponents, sigma);
  }

  // Keep what is connected to a positive point (all of it when there is none).
  const { labels, count } = components(segmentation, w, h);
  const keep = new Uint8Array(count + 1);
  if (hasPositive) {
    for (let p = 0; p < n; p++) if (hardForeground[p] && labels[p]) keep[labels[p]!] = 1;
  } else keep.fill(1);
  let area = 0;
  for (let p = 0; p < n; p++) {
    segmentation[p] = labels[p] && keep[labels[p]!] ? 1 : 0;
    area += segmentation[p]!;
  }
  if (options.partialVolumeGate > 0) {
    const allowed = new Uint8Array(n);
    for (let p = 0; p < n; p++) allowed[p] = hardBackground[p] ? 0 : 1;
    for (let ring = 0; ring < options.partialVolumeRings; ring++) {
      const added = addPartialVolumeRim(segmentation, values, w, h, allowed, options.partialVolumeGate);
      area += added;
      if (added === 0) break;
    }
  }
  // Fill small holes: background components that do not touch the region's edge.
  const holes = components(segmentation.map((v) => 1 - v), w, h);
  const holeSize = new Int32Array(holes.count + 1);
  const touchesEdge = new Uint8Array(holes.count + 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const label = holes.labels[y * w + x]!;
      if (!label) continue;
      holeSize[label]!++;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) touchesEdge[label] = 1;
    }
  }
  for (let p = 0; p < n; p++) {
    const label = holes.labels[p]!;
    if (label && !touchesEdge[label] && holeSize[label]! <= options.fillHoleFraction * area) segmentation[p] = 1;
  }

  const mask = new Uint8Array(width * height);
  for (let y = 0; y < h; y++) mask.set(segmentation.subarray(y * w, y * w + w), (oy + y) * width + ox);
  return { mask, ambiguousShare: judgedInBox > 0 ? ambiguous / judgedInBox : 0 };
}

/** Below this share of the box's inscribed ellipse, a mask that reaches a side of the box is too small for it. */
export const PLAUSIBLE_FILL = 0.7;
/** Above this share of ambiguous pixels, the outline came from the box's shape more than from edges. */
export const AMBIGUOUS_EVIDENCE = 0.5;
/**
 * A tight box's re-cut is kept only if the intensity step across its outline is at least
 * this share of the step across the cut's: an outline that moved from an edge into flat
 * tissue spilled, it did not find the structure's border.
 */
export const KEPT_OUTLINE_STRENGTH = 0.6;

export interface DefaultSegmentation {
  mask: Uint8Array;
  /** Why the answer is doubtful, in words; null when the evidence was clear. */
  lowConfidence: string | null;
}

/**
 * Whether the mask comes within 5 % of the box's size of one of its sides: the sign that the
 * box is tight (a loose box leaves a margin all round), so the structure should span it.
 */
function reachesASide(mask: Uint8Array, width: number, height: number, box: PixelBox): boolean {
  const extent = maskBox(mask, width, height);
  if (!extent) return true;
  const [x0, y0, x1, y1] = box;
  const tolerance = 0.05 * Math.min(x1 - x0 + 1, y1 - y0 + 1);
  return Math.min(extent[0] - x0, x1 - extent[2], extent[1] - y0, y1 - extent[3]) <= tolerance;
}

/** Mean intensity step across a mask's outline (4-neighbour pairs, one inside and one outside). */
function outlineStrength(mask: Uint8Array, pixels: Float32Array, width: number, height: number): number {
  let sum = 0;
  let pairs = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x + 1 < width && mask[p] !== mask[p + 1]) {
        sum += Math.abs(pixels[p + 1]! - pixels[p]!);
        pairs++;
      }
      if (y + 1 < height && mask[p] !== mask[p + width]) {
        sum += Math.abs(pixels[p + width]! - pixels[p]!);
        pairs++;
      }
    }
  }
  return pairs > 0 ? sum / pairs : 0;
}

function maskArea(mask: Uint8Array): number {
  let area = 0;
  for (let i = 0; i < mask.length; i++) area += mask[i]!;
  return area;
}

/**
 * The graph cut with the box as the prior it is. A tight box touches its structure on all
 * four sides (a cut that reaches one of them is taken as the sign of a tight box; a loose
 * box leaves a margin all round, so its cut reaches none and keeps the intensities' word):
 *  - a cut that does not span the box stopped at soft edges: it is re-cut with a wider
 *    partial-volume rim (tightRimGate, tightRimRings) and a lower cap on intensity costs;
 *  - a cut that fills well under the box's ellipse stopped at weak edges inside the
 *    structure: the re-cut weighs the shape prior 2.5 times as strong, and the answer is
 *    said to be doubtful;
 *  - the re-cut is kept when it is no smaller and its outline still lies on an edge
 *    (KEPT_OUTLINE_STRENGTH).
 * An answer whose intensities barely told the structure from its surroundings is said to
 * be doubtful too.
 *
 * `prompts.boxKind` says what the box is when the caller knows: `tight` re-cuts without
 * waiting for the cut to reach a side, `loose` never does. A `propagated` box (the previous
 * slice's mask box, grown) is neither: it gets no stronger prior (the structure must be free
 * to shrink where it ends) and no partial-volume rim, since each ring added there widens the
 * next slice's box and the masks would creep outward slice by slice.
 */
export function segmentWithBoxPrior(image: Pick<SegmentImage, 'width' | 'height' | 'pixels'>, prompts: SegmentPrompts, options: GraphCutOptions = DEFAULT_GRAPH_CUT_OPTIONS): DefaultSegmentation {
  const kind = prompts.boxKind;
  const cutOptions = kind === 'propagated' ? { ...options, partialVolumeGate: 0 } : options;
  let result = graphCutDetailed(image, prompts, cutOptions);
  const reasons: string[] = [];
  const tight = prompts.box !== null && (kind === 'tight' || (kind === undefined && reachesASide(result.mask, image.width, image.height, prompts.box)));
  if (prompts.box && tight) {
    const ellipseArea = maskArea(inscribedEllipseMask(image.width, image.height, prompts.box));
    const fill = maskArea(result.mask) / Math.max(ellipseArea, 1);
    const tooSmall = fill < PLAUSIBLE_FILL;
    // A tight box touches its structure on all four sides: a cut that does not span it
    // stopped at soft edges, so the outline's mixed pixels are counted in more widely and a
    // pixel's intensity weighs less beside its neighbours and the box's shape.
    const extent = maskBox(result.mask, image.width, image.height);
    const [x0, y0, x1, y1] = prompts.box;
    const spans = extent !== null && extent[0] <= x0 && extent[1] <= y0 && extent[2] >= x1 && extent[3] >= y1;
    if (tooSmall || !spans) {
      const recut = graphCutDetailed(image, prompts, {
        ...cutOptions,
        ...(spans ? {} : { partialVolumeGate: options.tightRimGate, partialVolumeRings: options.tightRimRings, maxIntensityCost: options.tightMaxIntensityCost }),
        shapePrior: cutOptions.shapePrior * (tooSmall ? 2.5 : 1),
      });
      const recutFill = maskArea(recut.mask) / Math.max(ellipseArea, 1);
      if (tooSmall) {
        reasons.push(`the intensities alone gave a mask filling ${Math.round(fill * 100)} % of the box's ellipse; the box's shape was weighted up (now ${Math.round(recutFill * 100)} %)`);
      }
      const holdsAnEdge = outlineStrength(recut.mask, image.pixels, image.width, image.height) >= KEPT_OUTLINE_STRENGTH * outlineStrength(result.mask, image.pixels, image.width, image.height);
      if (recutFill >= fill && holdsAnEdge) result = recut;
    }
  }
  if (result.ambiguousShare > AMBIGUOUS_EVIDENCE) {
    reasons.push(`${Math.round(result.ambiguousShare * 100)} % of the box's pixels fit the structure and its surroundings alike: weak edges, the outline follows the box's shape`);
  }
  return { mask: result.mask, lowConfidence: reasons.length > 0 ? `low confidence: ${reasons.join('; ')}` : null };
}

/**
 * The default segmenter behind the ASM interface. It remembers its last answer so that a
 * refinement (the same slice and box, the same points plus new clicks) changes that answer
 * only around the new clicks (refinement-clicks.ts).
 */
export function createDefaultSegmenter(options: GraphCutOptions = DEFAULT_GRAPH_CUT_OPTIONS): Segmenter {
  let previous: PreviousAnswer | null = null;
  return {
    kind: 'default',
    id: 'default-graph-cut',
    label: DEFAULT_SEGMENTER_LABEL,
    async segment(image: SegmentImage, prompts: SegmentPrompts, signal?: AbortSignal): Promise<SegmentOutcome> {
      signal?.throwIfAborted();
      const started = performance.now();
      const clicks = addedClicks(previous, image.key, prompts);
      const { mask: cut, lowConfidence } = segmentWithBoxPrior(image, prompts, options);
      const mask = clicks && previous ? applyClicksLocally(previous.mask, cut, image.width, image.height, clicks, clickRadius(prompts.box, image.width, image.height)) : cut;
      previous = { key: image.key, box: prompts.box ? [...prompts.box] : null, points: prompts.points.map((p) => ({ ...p })), mask };
      return {
        mask,
        width: image.width,
        height: image.height,
        area: maskArea(mask),
        segmenter: { kind: 'default', id: 'default-graph-cut', label: DEFAULT_SEGMENTER_LABEL },
        score: null,
        scores: null,
        timings: { segment: performance.now() - started },
        embeddingCached: false,
        ...(lowConfidence ? { lowConfidence } : {}),
      };
    },
    async dispose() {
      previous = null;
    },
  };
}

/** The trivial answer a segmenter must beat: the ellipse inscribed in the (inclusive) box. */
export function inscribedEllipseMask(width: number, height: number, box: PixelBox): Uint8Array {
  const [x0, y0, x1, y1] = box;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const rx = (x1 - x0 + 1) / 2;
  const ry = (y1 - y0 + 1) / 2;
  const mask = new Uint8Array(width * height);
  for (let y = Math.max(0, Math.floor(y0)); y <= Math.min(height - 1, Math.ceil(y1)); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x <= Math.min(width - 1, Math.ceil(x1)); x++) {
      if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * width + x] = 1;
    }
  }
  return mask;
}
