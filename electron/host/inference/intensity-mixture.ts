// One-dimensional Gaussian mixtures for intensity models (the default segmenter's
// foreground and background). Gaussians rather than histograms because partial-volume
// pixels between two tissues have intensities neither histogram has seen: Gaussian
// tails put the decision at the midpoint between the nearest tissues, as a radiologist's
// threshold would.

export interface Gaussian {
  weight: number;
  mean: number;
  sigma: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Median and robust σ (1.4826 · MAD) of samples, σ at least `minSigma`. */
export function robustGaussian(samples: ArrayLike<number>, minSigma: number): Gaussian {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) throw new RangeError('robustGaussian needs at least one sample');
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const deviations = sorted.map((v) => Math.abs(v - median)).sort();
  const mad = deviations[Math.floor(deviations.length / 2)]!;
  return { weight: 1, mean: median, sigma: Math.max(1.4826 * mad, minSigma) };
}

/**
 * Fits up to `maxComponents` Gaussians by 1-D k-means (centres started at quantiles, so the
 * result is deterministic); components closer than two minimum σ are merged.
 */
export function fitMixture(samples: ArrayLike<number>, maxComponents: number, minSigma: number): Gaussian[] {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) throw new RangeError('fitMixture needs at least one sample');
  const k = Math.max(1, Math.min(maxComponents, n));
  let centres = Array.from({ length: k }, (_, i) => sorted[Math.min(n - 1, Math.floor(((i + 0.5) / k) * n))]!);
  centres = [...new Set(centres)];
  let boundaries: number[] = [];
  for (let iteration = 0; iteration < 20; iteration++) {
    // On sorted data each cluster is a run; its ends lie at the midpoints between centres.
    boundaries = [];
    let start = 0;
    for (let c = 0; c < centres.length; c++) {
      const limit = c + 1 < centres.length ? (centres[c]! + centres[c + 1]!) / 2 : Infinity;
      let end = start;
      while (end < n && sorted[end]! <= limit) end++;
      boundaries.push(end);
      start = end;
    }
    const next: number[] = [];
    start = 0;
    for (const end of boundaries) {
      if (end > start) {
        let sum = 0;
        for (let i = start; i < end; i++) sum += sorted[i]!;
        next.push(sum / (end - start));
      }
      start = end;
    }
    const converged = next.length === centres.length && next.every((c, i) => Math.abs(c - centres[i]!) < 1e-6);
    centres = next;
    if (converged) break;
  }
  const components: Gaussian[] = [];
  let start = 0;
  for (let c = 0; c < centres.length; c++) {
    const limit = c + 1 < centres.length ? (centres[c]! + centres[c + 1]!) / 2 : Infinity;
    let end = start;
    while (end < n && sorted[end]! <= limit) end++;
    if (end > start) {
      let sum = 0;
      let sumSquares = 0;
      for (let i = start; i < end; i++) {
        sum += sorted[i]!;
        sumSquares += sorted[i]! ** 2;
      }
      const mean = sum / (end - start);
      const variance = Math.max(0, sumSquares / (end - start) - mean * mean);
      components.push({ weight: (end - start) / n, mean, sigma: Math.max(Math.sqrt(variance), minSigma) });
    }
    start = end;
  }
  // Merge neighbours that are really one tissue.
  const merged: Gaussian[] = [];
  for (const component of components) {
    const last = merged[merged.length - 1];
    if (last && component.mean - last.mean < 2 * minSigma) {
      const weight = last.weight + component.weight;
      const mean = (last.mean * last.weight + component.mean * component.weight) / weight;
      const variance =
        (last.weight * (last.sigma ** 2 + (last.mean - mean) ** 2) + component.weight * (component.sigma ** 2 + (component.mean - mean) ** 2)) / weight;
      merged[merged.length - 1] = { weight, mean, sigma: Math.max(Math.sqrt(variance), minSigma) };
    } else merged.push({ ...component });
  }
  return merged;
}

/** −log of the mixture's density at v. */
export function negLogLikelihood(mixture: readonly Gaussian[], v: number): number {
  // log-sum-exp over components, for values far out in every tail.
  let best = -Infinity;
  for (const g of mixture) {
    const z = (v - g.mean) / g.sigma;
    const t = Math.log(g.weight / g.sigma) - LOG_SQRT_2PI - 0.5 * z * z;
    if (t > best) best = t;
  }
  let sum = 0;
  for (const g of mixture) {
    const z = (v - g.mean) / g.sigma;
    sum += Math.exp(Math.log(g.weight / g.sigma) - LOG_SQRT_2PI - 0.5 * z * z - best);
  }
  return -(best + Math.log(sum));
}

/** The mixture with each weight scaled by `share` (for mixing two models). */
export function scaled(mixture: readonly Gaussian[], share: number): Gaussian[] {
  return mixture.map((g) => ({ ...g, weight: g.weight * share }));
}
