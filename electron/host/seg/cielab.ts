// sRGB display colours ↔ DICOM RecommendedDisplayCIELabValue. DICOM stores CIELab in
// the ICC profile connection space (D50 white, PS3.3 C.10.7.1.1), each component
// scaled to 0..65535: L* 0..100, a* and b* -128..127. sRGB is D65, so XYZ is adapted
// to D50 with the Bradford transform on the way in and back on the way out.

export type Rgb = [number, number, number];
export type DicomLab = [number, number, number];

const D50_WHITE = [0.96422, 1, 0.82521] as const;
const EPSILON = (6 / 29) ** 3;
const KAPPA_INVERSE = 3 * (6 / 29) ** 2;

const SRGB_TO_XYZ_D65 = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
] as const;
const BRADFORD_D65_TO_D50 = [
  [1.0478112, 0.0228866, -0.050127],
  [0.0295424, 0.9904844, -0.0170491],
  [-0.0092345, 0.0150436, 0.7521316],
] as const;

type Matrix = readonly (readonly [number, number, number])[];

function multiply(m: Matrix, v: readonly [number, number, number]): [number, number, number] {
  return [0, 1, 2].map((r) => m[r]![0] * v[0] + m[r]![1] * v[1] + m[r]![2] * v[2]) as [number, number, number];
}

function invert(m: Matrix): [number, number, number][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

const XYZ_D65_TO_SRGB = invert(SRGB_TO_XYZ_D65);
const BRADFORD_D50_TO_D65 = invert(BRADFORD_D65_TO_D50);

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const fromLinear = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const f = (t: number) => (t > EPSILON ? Math.cbrt(t) : t / KAPPA_INVERSE + 4 / 29);
const fInverse = (t: number) => (t > 6 / 29 ? t ** 3 : KAPPA_INVERSE * (t - 4 / 29));
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function rgbProblem(rgb: unknown): string | null {
  if (!Array.isArray(rgb) || rgb.length !== 3) return 'must be three values [red, green, blue]';
  if (!rgb.every((c) => Number.isInteger(c) && c >= 0 && c <= 255)) return `must hold integers 0..255, got [${rgb.join(', ')}]`;
  return null;
}

/** sRGB 0..255 → DICOM-scaled CIELab (three unsigned 16-bit integers). */
export function rgbToDicomLab(rgb: Rgb): DicomLab {
  const linear = rgb.map((c) => toLinear(c / 255)) as [number, number, number];
  const [x, y, z] = multiply(BRADFORD_D65_TO_D50, multiply(SRGB_TO_XYZ_D65, linear));
  const fx = f(x / D50_WHITE[0]);
  const fy = f(y / D50_WHITE[1]);
  const fz = f(z / D50_WHITE[2]);
  const l = 116 * fy - 16;
  const a = 500 * (fx - fy);
  const b = 200 * (fy - fz);
  return [
    Math.round(clamp(l, 0, 100) * (65535 / 100)),
    Math.round(clamp(a + 128, 0, 255) * (65535 / 255)),
    Math.round(clamp(b + 128, 0, 255) * (65535 / 255)),
  ];
}

/** DICOM-scaled CIELab → sRGB 0..255 (out-of-gamut colours are clipped). */
export function dicomLabToRgb(lab: DicomLab): Rgb {
  const l = (lab[0] * 100) / 65535;
  const a = (lab[1] * 255) / 65535 - 128;
  const b = (lab[2] * 255) / 65535 - 128;
  const fy = (l + 16) / 116;
  const xyzD50: [number, number, number] = [
    D50_WHITE[0] * fInverse(fy + a / 500),
    D50_WHITE[1] * fInverse(fy),
    D50_WHITE[2] * fInverse(fy - b / 200),
  ];
  const linear = multiply(XYZ_D65_TO_SRGB, multiply(BRADFORD_D50_TO_D65, xyzD50));
  return linear.map((c) => Math.round(clamp(fromLinear(clamp(c, 0, 1)), 0, 1) * 255)) as Rgb;
}
