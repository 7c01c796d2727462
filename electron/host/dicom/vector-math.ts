// The few vector operations slice geometry needs.
import type { Vec3 } from '../../common/dicom-model.ts';

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** Unit vector, or null for a (near) zero vector. */
export function normalize(v: Vec3): Vec3 | null {
  const length = Math.hypot(v[0], v[1], v[2]);
  if (!(length > 1e-9)) return null;
  return [v[0] / length, v[1] / length, v[2] / length];
}

/** Row × column direction of an ImageOrientationPatient, normalised; null when degenerate. */
export function normalOf(orientation: readonly number[]): Vec3 | null {
  const [r0 = 0, r1 = 0, r2 = 0, c0 = 0, c1 = 0, c2 = 0] = orientation;
  return normalize(cross([r0, r1, r2], [c0, c1, c2]));
}
