// Signed-distance building blocks for the phantom, in millimetres of patient
// space (LPS). Negative inside, positive outside. Most are first-order
// approximations of the true distance, which is all the renderer needs: it
// turns distance into partial-volume coverage within about one voxel of a
// surface, so surfaces come out smooth instead of staircased.

export type Vec3 = readonly [number, number, number];
export type Sdf = (x: number, y: number, z: number) => number;

export interface Box {
  min: Vec3;
  max: Vec3;
}

export function box(min: Vec3, max: Vec3): Box {
  return { min, max };
}

export function boxAround(center: Vec3, radius: number): Box {
  return {
    min: [center[0] - radius, center[1] - radius, center[2] - radius],
    max: [center[0] + radius, center[1] + radius, center[2] + radius],
  };
}

export function unionBox(a: Box, b: Box): Box {
  return {
    min: [Math.min(a.min[0], b.min[0]), Math.min(a.min[1], b.min[1]), Math.min(a.min[2], b.min[2])],
    max: [Math.max(a.max[0], b.max[0]), Math.max(a.max[1], b.max[1]), Math.max(a.max[2], b.max[2])],
  };
}

export function normalize(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/**
 * An orthonormal frame whose third axis is `long` and whose first axis is as
 * close as possible to `towards`: how organs are oriented (e.g. a kidney's long
 * axis tilted, its hilum facing forward and inward).
 */
export function frame(long: Vec3, towards: Vec3): [Vec3, Vec3, Vec3] {
  const e3 = normalize(long);
  const t = dot(towards, e3);
  const e1 = normalize([towards[0] - t * e3[0], towards[1] - t * e3[1], towards[2] - t * e3[2]]);
  const e2 = cross(e3, e1);
  return [e1, e2, e3];
}

export const AXES: [Vec3, Vec3, Vec3] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** A frame turned by `degrees` about the patient's z axis (axial rotation). */
export function yawFrame(degrees: number): [Vec3, Vec3, Vec3] {
  const a = (degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [
    [c, s, 0],
    [-s, c, 0],
    [0, 0, 1],
  ];
}

/** Ellipsoid with semi-axes `radii` along the frame's axes (Quilez's distance bound). */
export function ellipsoid(center: Vec3, radii: Vec3, axes: [Vec3, Vec3, Vec3] = AXES): Sdf {
  const [cx, cy, cz] = center;
  const [e1, e2, e3] = axes;
  const [ra, rb, rc] = radii;
  const minR = Math.min(ra, rb, rc);
  return (x, y, z) => {
    const px = x - cx;
    const py = y - cy;
    const pz = z - cz;
    const a = (px * e1[0] + py * e1[1] + pz * e1[2]) / ra;
    const b = (px * e2[0] + py * e2[1] + pz * e2[2]) / rb;
    const c = (px * e3[0] + py * e3[1] + pz * e3[2]) / rc;
    const k0 = Math.sqrt(a * a + b * b + c * c);
    const k1 = Math.sqrt((a * a) / (ra * ra) + (b * b) / (rb * rb) + (c * c) / (rc * rc));
    if (k1 === 0) return -minR;
    return (k0 * (k0 - 1)) / k1;
  };
}

export function ellipsoidBox(center: Vec3, radii: Vec3): Box {
  return boxAround(center, Math.max(radii[0], radii[1], radii[2]));
}

/** Ellipse in the axial plane, semi-axes a (x) and b (y), distance in-plane only. */
export function ellipse2(cx: number, cy: number, a: number, b: number, x: number, y: number): number {
  const u = (x - cx) / a;
  const v = (y - cy) / b;
  const k0 = Math.sqrt(u * u + v * v);
  const k1 = Math.sqrt((u * u) / (a * a) + (v * v) / (b * b));
  if (k1 === 0) return -Math.min(a, b);
  return (k0 * (k0 - 1)) / k1;
}

/** Distance from a point to a tube from a to b whose radius tapers from ra to rb. */
export function taperedTube(a: Vec3, b: Vec3, ra: number, rb: number): Sdf {
  const [ax, ay, az] = a;
  const dx = b[0] - ax;
  const dy = b[1] - ay;
  const dz = b[2] - az;
  const len2 = dx * dx + dy * dy + dz * dz;
  return (x, y, z) => {
    const px = x - ax;
    const py = y - ay;
    const pz = z - az;
    let t = len2 === 0 ? 0 : (px * dx + py * dy + pz * dz) / len2;
    if (t < 0) t = 0;
    else if (t > 1) t = 1;
    const qx = px - t * dx;
    const qy = py - t * dy;
    const qz = pz - t * dz;
    return Math.sqrt(qx * qx + qy * qy + qz * qz) - (ra + (rb - ra) * t);
  };
}

export function tubeBox(a: Vec3, b: Vec3, radius: number): Box {
  return {
    min: [Math.min(a[0], b[0]) - radius, Math.min(a[1], b[1]) - radius, Math.min(a[2], b[2]) - radius],
    max: [Math.max(a[0], b[0]) + radius, Math.max(a[1], b[1]) + radius, Math.max(a[2], b[2]) + radius],
  };
}

/** A tube through several points with one radius: the union of its segments. */
export function polyTube(points: readonly Vec3[], radius: number): { sdf: Sdf; box: Box } {
  const segments: Sdf[] = [];
  let b: Box | null = null;
  for (let i = 0; i + 1 < points.length; i++) {
    const p = points[i]!;
    const q = points[i + 1]!;
    segments.push(taperedTube(p, q, radius, radius));
    const sb = tubeBox(p, q, radius);
    b = b ? unionBox(b, sb) : sb;
  }
  if (!b) throw new Error('polyTube needs at least two points');
  return {
    sdf: (x, y, z) => {
      let d = Infinity;
      for (const s of segments) {
        const v = s(x, y, z);
        if (v < d) d = v;
      }
      return d;
    },
    box: b,
  };
}

/** Polynomial smooth minimum: a union whose crease is rounded over about k mm. */
export function smoothMin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Hermite step from 0 at edge0 to 1 at edge1 (either order). */
export function smoothstep(edge0: number, edge1: number, v: number): number {
  const t = clamp01((v - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}
