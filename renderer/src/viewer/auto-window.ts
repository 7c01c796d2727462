// The automatic window for images without presets (MR, PET, secondary captures): it
// spans the 1st to the 99th percentile of the values shown, so a few very bright or
// very dark pixels (fat, vessels, noise) do not flatten the grey scale. Pure, so the
// host tests and the e2e tests' reference can share the definition of a percentile.

export const AUTO_WINDOW_PERCENTILES = { low: 0.01, high: 0.99 } as const;

/** Nearest-rank percentile (p in 0…1) of values sorted ascending. */
export function nearestRankPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('no values to take a percentile of');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * The VOI range (lowest value shown black, highest shown white) spanning the percentiles
 * of `values`; a flat image gets a range of 1 so it still draws.
 */
export function autoVoiRange(values: ArrayLike<number>): { lower: number; upper: number } {
  const sorted = Float64Array.from(values).sort();
  const lower = nearestRankPercentile(sorted, AUTO_WINDOW_PERCENTILES.low);
  const upper = nearestRankPercentile(sorted, AUTO_WINDOW_PERCENTILES.high);
  return { lower, upper: upper > lower ? upper : lower + 1 };
}
