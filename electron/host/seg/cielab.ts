// sRGB display colours ↔ DICOM RecommendedDisplayCIELabValue: each component scaled to
// 0..65535 (L* 0..100, a* and b* -128..127). The standard's PCS nominally uses a D50
// white, but Slicer (dcmqi), dcmjs and highdicom all convert sRGB with the D65 white
// and no chromatic adaptation; we do the same so colours survive a round trip through
// those tools (pydicom's liver_1frame.dcm, written by dcmqi, decodes to Slicer's liver
// colour 221,130,101 within one step).

export type Rgb = [number, number, number];
export type DicomLab = [number, number, number];

const D65_WHITE = [0.95047, 1, 1.08883] as const;
const EPSILON = (6 / 29) ** 3;
const KAPPA_INVERSE = 3 * (6 / 29) ** 2;

const SRGB_TO_XYZ = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
] as const;
const XYZ_TO_SRGB = [
  [3.2404542, -1.5371385, -0.4985314],
  [-0.969266, 1.8760108, 0.041556],
  [0.0556434, -0.2040259, 1.0572252],
] as const;

type Matrix = readonly (readonly [number, number, number])[];

function multiply(m: Matrix, v: readonly [number, number, number]): [number, number, number] {
  return [0, 1, 2].map((r) => m[r]![0] * v[0] + m[r]![1] * v[1] + m[r]![2] * v[2]) as [number, number, number];
}

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
  const [x, y, z] = multiply(SRGB_TO_XYZ, rgb.map((c) => toLinear(c / 255)) as [number, number, number]);
  const fx = f(x / D65_WHITE[0]);
  const fy = f(y / D65_WHITE[1]);
  const fz = f(z / D65_WHITE[2]);
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
  const xyz: [number, number, number] = [D65_WHITE[0] * fInverse(fy + a / 500), D65_WHITE[1] * fInverse(fy), D65_WHITE[2] * fInverse(fy - b / 200)];
  return multiply(XYZ_TO_SRGB, xyz).map((c) => Math.round(clamp(fromLinear(clamp(c, 0, 1)), 0, 1) * 255)) as Rgb;
}
