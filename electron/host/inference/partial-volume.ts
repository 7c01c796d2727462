// Partial volume at a structure's outline. The cut puts the outline where the intensity
// models cross, but a pixel straddling the boundary is a mixture, and expert labels (atlases
// drawn on anatomy) count such pixels in. A pixel just outside the cut whose intensity is
// nearer the structure's own rim than the tissue beyond is taken as such a mixture.
import { distanceInside } from './ground-truth-prompts.ts';

/**
 * Adds the partial-volume pixels of the 1-pixel ring outside `mask` (in place). `allowed`
 * limits where it may grow (the box); a pixel joins when its distance to the rim's mean is at
 * most `gate` times its distance to the mean of the tissue 2–4 pixels beyond.
 */
export function addPartialVolumeRim(mask: Uint8Array, values: Float32Array, width: number, height: number, allowed: Uint8Array, gate: number): number {
  const inside = distanceInside(mask, width, height);
  const outside = distanceInside(
    mask.map((v) => 1 - v),
    width,
    height,
  );
  let rimSum = 0;
  let rimCount = 0;
  let beyondSum = 0;
  let beyondCount = 0;
  for (let p = 0; p < mask.length; p++) {
    if (mask[p] && inside[p]! <= 3) {
      rimSum += values[p]!;
      rimCount++;
    } else if (!mask[p] && allowed[p] && outside[p]! >= 2 && outside[p]! <= 4) {
      beyondSum += values[p]!;
      beyondCount++;
    }
  }
  // Without tissue beyond the rim inside the box (the cut already fills it) there is nothing to weigh against.
  if (rimCount === 0 || beyondCount === 0) return 0;
  const rim = rimSum / rimCount;
  const beyond = beyondSum / beyondCount;
  let added = 0;
  for (let p = 0; p < mask.length; p++) {
    if (mask[p] || !allowed[p] || outside[p]! > 1.01) continue;
    const v = values[p]!;
    if (Math.abs(v - rim) <= gate * Math.abs(v - beyond)) {
      mask[p] = 1;
      added++;
    }
  }
  return added;
}
