// Pure geometry behind the orientation markers and the scale bar (no DOM, no
// Cornerstone), so the host tests can check it.

/** DICOM patient axes (LPS): the letter of the axis a direction mostly points along. */
export function patientDirection(vector: readonly number[]): string {
  const letters: Array<[string, string]> = [['L', 'R'], ['P', 'A'], ['S', 'I']];
  let best = 0;
  for (let axis = 1; axis < 3; axis++) if (Math.abs(vector[axis] ?? 0) > Math.abs(vector[best] ?? 0)) best = axis;
  const [positive, negative] = letters[best] as [string, string];
  return (vector[best] ?? 0) >= 0 ? positive : negative;
}

export type EdgeLetters = { left: string; right: string; top: string; bottom: string };

/**
 * The patient direction each screen edge faces, from the patient-space vectors that
 * point rightward and downward on the screen (they already include flips and rotation).
 */
export function edgeLetters(rightward: readonly number[], downward: readonly number[]): EdgeLetters {
  return {
    right: patientDirection(rightward),
    left: patientDirection(rightward.map((value) => -value)),
    bottom: patientDirection(downward),
    top: patientDirection(downward.map((value) => -value)),
  };
}

const NICE_LENGTHS_MM = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * The longest round length (1, 2 or 5 × 10ⁿ mm) whose bar fits in maxPx screen pixels,
 * and its length in pixels. Null when even 1 mm does not fit (or the scale is unknown).
 */
export function scaleBarLength(mmPerPixel: number, maxPx: number): { mm: number; px: number } | null {
  if (!(mmPerPixel > 0) || !Number.isFinite(mmPerPixel)) return null;
  let chosen: number | null = null;
  for (const mm of NICE_LENGTHS_MM) if (mm / mmPerPixel <= maxPx) chosen = mm;
  return chosen === null ? null : { mm: chosen, px: chosen / mmPerPixel };
}
