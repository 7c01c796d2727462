// The brush's own keys: smaller and larger, for the one brush radius that the stack
// view's paint and erase and the planes' paint, erase and threshold paint share. They are
// the only keys the brush has — Cornerstone's brush tools come with keys of their own
// (i and e interpolate, which the viewer gives to Invert and Ellipse), and the planes'
// tool group drops those (mpr-tool-groups.ts). The shortcuts help lists these, and a host
// test checks them against the viewer's keys. No DOM here.

/** The brush radius the editor allows, in mm (the panel's slider covers the same range). */
export const BRUSH_RADIUS_MM = { min: 0.5, max: 50, sliderStep: 0.5 } as const;

/** How much one key press changes the radius, in mm. */
export const BRUSH_KEY_STEP_MM = 1;

export type BrushKey = { keys: readonly string[]; direction: -1 | 1; action: string };

export const brushKeys: readonly BrushKey[] = [
  { keys: ['-'], direction: -1, action: 'Brush radius smaller' },
  // '+' as well: on many layouts it has a key of its own, elsewhere it is Shift + '='.
  { keys: ['=', '+'], direction: 1, action: 'Brush radius larger' },
];

/** Which way a key changes the brush radius, or null when it is not a brush key. */
export function brushKeyDirection(key: string): -1 | 1 | null {
  return brushKeys.find((entry) => entry.keys.includes(key))?.direction ?? null;
}

/** The radius one key press in `direction` makes of `radiusMm`, kept within the allowed range. */
export function nextBrushRadius(radiusMm: number, direction: -1 | 1): number {
  const next = radiusMm + direction * BRUSH_KEY_STEP_MM;
  return Math.min(BRUSH_RADIUS_MM.max, Math.max(BRUSH_RADIUS_MM.min, next));
}
