// The synthetic torso: where each structure is, what it is made of, in what
// order it is painted. Coordinates are millimetres in the DICOM patient system
// (LPS: +x patient's left, +y posterior, +z superior), with z = 0 at the middle
// of the default scan (about the T11 vertebra), so the default 300 mm range runs
// from the lower kidneys (L3) up to the upper thorax (T5).
//
// Placement is fixed, only textures and gentle deformations follow the seed:
// tests and benchmarks can rely on the anatomy being where it is described here.
import { LABEL } from './label-table.ts';
import {
  box,
  clamp01,
  ellipse2,
  ellipsoid,
  ellipsoidBox,
  frame,
  lerp,
  normalize,
  polyTube,
  smoothMin,
  smoothstep,
  taperedTube,
  tubeBox,
  yawFrame,
  type Box,
  type Sdf,
  type Vec3,
} from './shapes.ts';
import { gradientNoise3, smoothWobble, streamFor } from './random.ts';
import { bowelLoopsField } from './bowel.ts';

/** Signed distance in mm; `i` is the pixel's index in the slice, for per-slice fields. */
export type LayerSdf = (x: number, y: number, z: number, i: number) => number;
/** Attenuation where a layer covers a voxel; `d` is the signed distance there, `i` the pixel index. */
export type HuField = (x: number, y: number, z: number, d: number, i: number) => number;

export interface Layer {
  name: string;
  /** Conservative bounds in mm: the renderer skips everything outside. */
  box: Box;
  sdf: LayerSdf;
  hu: number | HuField;
  /** Label written where the layer covers at least half a voxel; null leaves the label as it is. */
  label: number | null;
  /** Paint only voxels already labelled with one of these (vessels inside the lungs). */
  within?: readonly number[];
}

export interface SliceGrid {
  /** Patient x of each column and y of each row (mm). */
  xs: Float64Array;
  ys: Float64Array;
}

export interface Anatomy {
  layers: Layer[];
  /** Fills the per-slice fields that several layers share; call before painting slice z. */
  prepareSlice(z: number): void;
}

/** Tissue attenuations (HU) of a non-contrast scan. */
export const TISSUE_HU = {
  air: -1000,
  lung: -860,
  fat: -100,
  mediastinalFat: -90,
  muscle: 45,
  blood: 40,
  liver: 60,
  spleen: 48,
  kidney: 30,
  bowel: 25,
  bile: 8,
  gastricFluid: 15,
  csf: 12,
  cord: 35,
  disc: 90,
  cancellousBone: 230,
  corticalBone: 700,
  cartilage: 110,
  tableShell: 250,
  liverLesion: 20,
  lungNodule: 30,
  kidneyCyst: 5,
} as const;

/** Where the anatomy's landmarks are; exported so tests state expectations in the same terms. */
export const LANDMARKS = {
  liverLesion: { center: [-80, 20, -10] as Vec3, radius: 11 },
  lungNodule: { center: [-80, 40, 70] as Vec3, radius: 5.5 },
  kidneyCyst: { center: [88, 56, -96] as Vec3, radius: 10 },
  rightKidney: [-68, 48, -90] as Vec3,
  leftKidney: [68, 48, -74] as Vec3,
  vertebralBodyY: 30,
} as const;

const BODY_CENTER_Y = -5;
const WALL_MM = 2.5;
const LUNG_APEX_Z = 230;

interface VertebraLevel {
  name: string;
  bottom: number;
  top: number;
  /** Disc above this body, up to the next body. */
  discTop: number;
  halfWidth: number;
  halfDepth: number;
}

/** Vertebral bodies from L4 up to T3, each followed by its disc. */
function vertebraLevels(): VertebraLevel[] {
  const plan: Array<[string, number, number, number, number]> = [
    // name, body height, disc above, half width (x), half depth (y)
    ['L4', 26, 10, 25, 18],
    ['L3', 26, 10, 25, 18],
    ['L2', 26, 10, 24, 17.5],
    ['L1', 26, 9, 23, 17],
    ['T12', 23, 7, 21.5, 16],
    ['T11', 23, 7, 20.5, 15.5],
    ['T10', 21, 6, 19.5, 15],
    ['T9', 20, 6, 18.5, 14.5],
    ['T8', 20, 6, 18, 14],
    ['T7', 20, 6, 17.5, 14],
    ['T6', 20, 6, 17, 13.5],
    ['T5', 19, 6, 16.5, 13.5],
    ['T4', 19, 6, 16, 13],
    ['T3', 19, 6, 15.5, 13],
  ];
  const levels: VertebraLevel[] = [];
  let z = -200;
  for (const [name, height, disc, halfWidth, halfDepth] of plan) {
    levels.push({ name, bottom: z, top: z + height, discTop: z + height + disc, halfWidth, halfDepth });
    z += height + disc;
  }
  return levels;
}

/** Per dome: apex z, apex x, apex y, fall over x, x scale, fall over y, y scale. */
const DIAPHRAGM_DOMES = Float64Array.from([
  35, -55, -20, 50, 90, 45, 100, // right: higher, over the liver
  20, 55, -15, 50, 90, 45, 100, // left
  22, 5, -30, 30, 70, 30, 70, // central tendon, under the heart
]);

/** Height of the diaphragm's upper surface above (x, y), and the factor from height difference to distance. */
function diaphragmAt(x: number, y: number, out: { height: number; norm: number }): void {
  let best = -Infinity;
  let gx = 0;
  let gy = 0;
  for (let d = 0; d < DIAPHRAGM_DOMES.length; d += 7) {
    const fx = DIAPHRAGM_DOMES[d + 3]!;
    const sx = DIAPHRAGM_DOMES[d + 4]!;
    const fy = DIAPHRAGM_DOMES[d + 5]!;
    const sy = DIAPHRAGM_DOMES[d + 6]!;
    const u = (x - DIAPHRAGM_DOMES[d + 1]!) / sx;
    const v = (y - DIAPHRAGM_DOMES[d + 2]!) / sy;
    const h = DIAPHRAGM_DOMES[d]! - fx * u * u - fy * v * v;
    if (h > best) {
      best = h;
      gx = (-2 * fx * u) / sx;
      gy = (-2 * fy * v) / sy;
    }
  }
  out.height = best;
  out.norm = 1 / Math.sqrt(1 + gx * gx + gy * gy);
}

/** A prism in z with a rounded-box combination of an in-plane distance and the z extent. */
function extrude(d2: number, z: number, z0: number, z1: number): number {
  const dz = Math.max(z0 - z, z - z1);
  const ox = d2 > 0 ? d2 : 0;
  const oz = dz > 0 ? dz : 0;
  return Math.sqrt(ox * ox + oz * oz) + Math.min(Math.max(d2, dz), 0);
}

export function buildTorsoAnatomy(seed: number, grid: SliceGrid, voxelSize: number): Anatomy {
  const { xs, ys } = grid;
  const columns = xs.length;
  const rows = ys.length;
  const pixels = columns * rows;
  const far = 1e6;
  const diaphragm = { height: 0, norm: 1 };

  // ---- Diaphragm: three domes (right higher than left, the central tendon under the heart).
  // Stored once as a height map with the factor that turns a height difference into distance.
  const diaphragmZ = new Float32Array(pixels);
  const diaphragmNorm = new Float32Array(pixels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      diaphragmAt(xs[c]!, ys[r]!, diaphragm);
      diaphragmZ[r * columns + c] = diaphragm.height;
      diaphragmNorm[r * columns + c] = diaphragm.norm;
    }
  }
  /** Distance above the diaphragm's upper surface (positive in the chest). */
  const aboveDiaphragm = (z: number, i: number) => (z - diaphragmZ[i]!) * diaphragmNorm[i]!;

  // ---- Per-slice fields.
  const bodyWobble = smoothWobble(streamFor(seed, 'body'), 3, 150);
  const fatWobble = smoothWobble(streamFor(seed, 'fat'), 2.5, 70);
  const dBody = new Float32Array(pixels);
  const fatDepth = new Float32Array(pixels);
  const dCavity = new Float32Array(pixels);
  const dLung = new Float32Array(pixels);
  const bodyBend = new Float32Array(pixels);
  const fatBend = new Float32Array(pixels);
  let preparedZ = NaN;

  const paraspinal = (x: number, y: number, z: number) => {
    const thorax = smoothstep(-40, 40, z);
    return ellipse2(0, 79, lerp(66, 60, thorax), lerp(27, 25, thorax), x, y);
  };
  const spineBlock = (x: number, y: number) => ellipse2(0, 42, 27, 32, x, y);

  // Mediastinum: the union of the structures between the lungs, inflated a little,
  // so the lungs' medial surfaces follow the heart and great vessels.
  const heartCenter: Vec3 = [22, -40, 56];
  const heartAxes = frame([0.55, -0.45, -0.7], [0, 0, 1]);
  const heart = ellipsoid(heartCenter, [44, 40, 58], heartAxes);
  const ascendingAorta = polyTube(
    [
      [-2, -10, 86],
      [-6, -22, 115],
      [-8, -28, 176],
      [4, -12, 190],
      [18, 6, 186],
      [26, 14, 176],
    ],
    15,
  );
  const descendingAortaPoints: Array<[Vec3, number]> = [
    [[26, 14, 200], 12.5],
    [[26, 14, 40], 12.5],
    [[20, 8, 0], 11.5],
    [[12, 0, -30], 10.5],
    [[12, 0, -220], 10],
  ];
  const descendingSegments: Sdf[] = [];
  for (let s = 0; s + 1 < descendingAortaPoints.length; s++) {
    const [p, rp] = descendingAortaPoints[s]!;
    const [q, rq] = descendingAortaPoints[s + 1]!;
    descendingSegments.push(taperedTube(p, q, rp, rq));
  }
  const descendingAorta: Sdf = (x, y, z) => {
    let d = Infinity;
    for (const s of descendingSegments) d = Math.min(d, s(x, y, z));
    return d;
  };
  const pulmonaryTrunk = taperedTube([18, -48, 88], [25, -35, 118], 14, 14);
  const rightPulmonaryArtery = polyTube(
    [
      [25, -35, 118],
      [2, -4, 124],
      [-42, 4, 112],
    ],
    10,
  );
  const leftPulmonaryArtery = polyTube(
    [
      [25, -35, 118],
      [42, -6, 122],
      [50, 10, 110],
    ],
    10,
  );
  const superiorVenaCava = taperedTube([-30, -20, 230], [-26, -16, 92], 10, 11);
  const trachea = taperedTube([0, -12, 240], [0, -8, 140], 9.5, 9.5);
  const rightBronchus = taperedTube([0, -8, 140], [-38, 2, 118], 7.5, 6.5);
  const leftBronchus = taperedTube([0, -8, 140], [40, 6, 112], 7, 6);
  const esophagus = polyTube(
    [
      [5, 3, 240],
      [7, 3, 60],
      [32, -8, 8],
    ],
    8,
  );
  const anteriorMediastinum = (x: number, y: number) => ellipse2(0, -30, 16, 75, x, y);
  const mediastinum = (x: number, y: number, z: number) => {
    let d = heart(x, y, z) - 6;
    d = smoothMin(d, ascendingAorta.sdf(x, y, z) - 5, 10);
    d = smoothMin(d, descendingAorta(x, y, z) - 4, 10);
    d = smoothMin(d, pulmonaryTrunk(x, y, z) - 4, 10);
    d = smoothMin(d, rightPulmonaryArtery.sdf(x, y, z) - 3, 10);
    d = smoothMin(d, leftPulmonaryArtery.sdf(x, y, z) - 3, 10);
    d = smoothMin(d, superiorVenaCava(x, y, z) - 4, 10);
    d = smoothMin(d, trachea(x, y, z) - 3, 10);
    d = smoothMin(d, rightBronchus(x, y, z) - 3, 10);
    d = smoothMin(d, leftBronchus(x, y, z) - 3, 10);
    d = smoothMin(d, esophagus.sdf(x, y, z) - 3, 10);
    d = smoothMin(d, anteriorMediastinum(x, y), 12);
    d = smoothMin(d, ellipse2(0, 30, 24, 20, x, y), 10);
    return d;
  };

  /**
   * Body outline, fat and muscle at one point: shared by the slice fields and
   * point queries. The two wobbles are passed in because slices take them from
   * precomputed planes.
   */
  const wall = { dBody: 0, fat: 0, cavity: 0 };
  function wallAt(x: number, y: number, z: number, bodyBend: number, fatBend: number): void {
    const thoraxWidth = smoothstep(-80, 60, z);
    const halfWidth = 152 + 10 * thoraxWidth;
    const dy = y - BODY_CENTER_Y;
    const b = dy < 0 ? 116 - 4 * thoraxWidth : 112;
    // Superellipse |x/a|^2.5 + |y/b|^2.5 = 1: a flatter back and sides than an ellipse.
    const n = 2.5;
    const u = Math.abs(x) / halfWidth;
    const v = Math.abs(dy) / b;
    const un = u * u * Math.sqrt(u);
    const vn = v * v * Math.sqrt(v);
    const sum = un + vn;
    let d: number;
    if (sum === 0) {
      d = -Math.min(halfWidth, b);
    } else if (sum > 1.3) {
      // Clearly outside (more than ~12 mm, beyond any wobble): only the sign matters.
      d = 20;
    } else {
      // g = sum^(1/n) is the superellipse's radial coordinate; its gradient is g^(1-n) = g / sum times the terms' gradient.
      const g = Math.pow(sum, 1 / n);
      const scale = g / sum;
      const gxv = (scale * (un / (u || 1))) / halfWidth;
      const gyv = (scale * (vn / (v || 1))) / b;
      d = (g - 1) / Math.sqrt(gxv * gxv + gyv * gyv);
    }
    d += bodyBend;
    wall.dBody = d;
    if (d > 4) {
      // Well outside the body only the sign matters.
      wall.fat = 13;
      wall.cavity = d + 24;
      return;
    }
    // Direction from the body's centre decides how thick fat and muscle are.
    const thorax = smoothstep(-90, -20, z);
    const len = Math.sqrt(x * x + dy * dy) || 1;
    const anteriorness = clamp01(-dy / len);
    const lateralness = Math.abs(x) / len;
    const fat = 13 + 10 * anteriorness * anteriorness * (1 - 0.6 * thorax) + 5 * lateralness * (1 - thorax) + fatBend;
    const pectoral = 14 * smoothstep(55, 110, z) * smoothstep(0.25, 0.65, anteriorness) * smoothstep(15, 45, Math.abs(x));
    const muscle = 11 + 7 * thorax + pectoral;
    wall.fat = fat;
    let cavity = d + fat + muscle;
    if (Math.abs(x) < 70 && y > 45) cavity = Math.max(cavity, -paraspinal(x, y, z));
    if (Math.abs(x) < 28 && y > 9 && y < 75) cavity = Math.max(cavity, -spineBlock(x, y));
    wall.cavity = cavity;
  }

  /** Signed distance to either lung at one point (slower than the slice fields; for placing things). */
  function lungAt(x: number, y: number, z: number): number {
    wallAt(x, y, z, bodyWobble(x, y, z), fatWobble(x, y, z));
    diaphragmAt(x, y, diaphragm);
    const above = (z - diaphragm.height) * diaphragm.norm;
    const outer = Math.max(wall.cavity, -above, z - LUNG_APEX_Z);
    // The mediastinum is the costly part: skip it for points already outside the chest.
    return outer > 0 ? outer : Math.max(outer, -mediastinum(x, y, z));
  }

  function prepareSlice(z: number): void {
    if (z === preparedZ) return;
    preparedZ = z;
    const chestSlice = z > -60 && z < LUNG_APEX_Z + voxelSize;
    bodyWobble.fillPlane(xs, ys, z, bodyBend);
    fatWobble.fillPlane(xs, ys, z, fatBend);
    for (let r = 0; r < rows; r++) {
      const y = ys[r]!;
      for (let c = 0; c < columns; c++) {
        const x = xs[c]!;
        const i = r * columns + c;
        wallAt(x, y, z, bodyBend[i]!, fatBend[i]!);
        dBody[i] = wall.dBody;
        fatDepth[i] = wall.fat;
        const cavity = wall.cavity;
        dCavity[i] = cavity;
        let lung = far;
        if (chestSlice && cavity < voxelSize) {
          const above = aboveDiaphragm(z, i);
          if (above > -voxelSize) {
            lung = Math.max(cavity, -above, z - LUNG_APEX_Z);
            if (lung < voxelSize) lung = Math.max(lung, -mediastinum(x, y, z));
          }
        }
        dLung[i] = lung;
      }
    }
  }

  const layers: Layer[] = [];
  const everywhere = (zMin = -1e4, zMax = 1e4): Box => box([-1e4, -1e4, zMin], [1e4, 1e4, zMax]);

  // ---- Outside the patient: the table, curved, under the back.
  layers.push({
    name: 'table',
    box: box([-175, 60, -1e4], [175, 130, 1e4]),
    sdf: (x, y) => {
      const top = 112 - 0.0004 * x * x;
      return Math.max(Math.abs(y - (top + 3.5)) - 3.5, Math.abs(x) - 175);
    },
    hu: TISSUE_HU.tableShell,
    label: null,
  });

  // ---- Body wall: skin and subcutaneous fat, then muscle, then the cavities.
  layers.push({ name: 'body', box: everywhere(), sdf: (_x, _y, _z, i) => dBody[i]!, hu: TISSUE_HU.fat, label: LABEL.body });
  layers.push({
    name: 'body wall muscle',
    box: everywhere(),
    sdf: (_x, _y, _z, i) => dBody[i]! + fatDepth[i]!,
    hu: TISSUE_HU.muscle,
    label: LABEL.body,
  });
  layers.push({
    name: 'paraspinal muscles',
    box: box([-70, 45, -1e4], [70, 110, 1e4]),
    sdf: (x, y, z, i) => Math.max(paraspinal(x, y, z), dBody[i]! + fatDepth[i]!),
    hu: TISSUE_HU.muscle + 5,
    label: LABEL.body,
  });
  const levels = vertebraLevels();
  const vertebraAt = (z: number) => {
    for (const level of levels) if (z < level.discTop) return level;
    return levels[levels.length - 1]!;
  };
  layers.push({
    name: 'psoas muscles',
    box: box([-80, 0, -1e4], [80, 60, -50]),
    sdf: (x, y, z) => {
      const radius = 6 + 16 * smoothstep(-55, -175, z);
      const cx = vertebraAt(z).halfWidth + 0.8 * radius;
      return ellipse2(Math.sign(x) * cx || cx, 30, radius, radius * 0.9, x, y);
    },
    hu: TISSUE_HU.muscle,
    label: LABEL.body,
  });

  // ---- Cavity contents: mediastinal fat in the chest, bowel loops in mesenteric fat below.
  const abdominalContents = bowelLoopsField(seed, {
    fat: TISSUE_HU.fat + 5,
    wall: TISSUE_HU.muscle,
    air: TISSUE_HU.air + 50,
    posteriorLimitY: 12,
  });
  layers.push({
    name: 'cavity contents',
    box: everywhere(),
    sdf: (_x, _y, _z, i) => dCavity[i]!,
    hu: (x, y, z, _d, i) => (z > diaphragmZ[i]! ? TISSUE_HU.mediastinalFat : abdominalContents(x, y, z)),
    label: LABEL.body,
  });
  layers.push({
    name: 'diaphragm',
    box: everywhere(-80, 60),
    sdf: (_x, _y, z, i) => Math.max(Math.abs((z - diaphragmZ[i]! + 2.5) * diaphragmNorm[i]!) - 2.5, dCavity[i]! - 1),
    hu: TISSUE_HU.muscle,
    label: LABEL.body,
  });
  const belowDiaphragm = (z: number, i: number) => aboveDiaphragm(z, i) + 5;

  // Colon: a frame around the small bowel, with mottled stool and gas.
  const stool = gradientNoise3(streamFor(seed, 'stool'), 7);
  const colon = polyTube(
    [
      [-96, 22, -240],
      [-96, 12, -60],
      [-80, -20, -42],
      [-30, -62, -50],
      [40, -58, -42],
      [76, -26, -22],
      [100, 2, -72],
      [98, 18, -240],
    ],
    17,
  );
  layers.push({
    name: 'colon',
    box: colon.box,
    sdf: (x, y, z, i) => Math.max(colon.sdf(x, y, z), dCavity[i]! + 1, belowDiaphragm(z, i)),
    hu: (x, y, z, d) => {
      if (d > -WALL_MM) return TISSUE_HU.muscle;
      const n = stool(x, y, z);
      return n > 0.35 ? TISSUE_HU.air + 60 : lerp(-60, 30, smoothstep(-0.5, 0.3, n));
    },
    label: LABEL.body,
  });

  // ---- Upper abdomen.
  const liverWobble = smoothWobble(streamFor(seed, 'liver'), 4, 90);
  const liverRight = ellipsoid([-55, 5, -12], [75, 88, 72]);
  const liverLeft = ellipsoid([10, -45, 5], [60, 32, 38], yawFrame(-15));
  layers.push({
    name: 'liver',
    box: box([-140, -95, -110], [80, 100, 70]),
    sdf: (x, y, z, i) => {
      const shape = smoothMin(liverRight(x, y, z), liverLeft(x, y, z), 20) + liverWobble(x, y, z);
      return Math.max(shape, dCavity[i]! + 1, belowDiaphragm(z, i));
    },
    hu: TISSUE_HU.liver,
    label: LABEL.liver,
  });
  // Hepatic and portal veins: slightly darker than the liver on a plain scan, and part of it.
  const hepaticVeins: Array<[Vec3, Vec3, number, number]> = [
    [[-18, 12, 28], [-100, -35, 14], 6.5, 2.5],
    [[-18, 12, 28], [-45, -70, 10], 6, 2.5],
    [[-18, 12, 28], [20, -58, 8], 5.5, 2.5],
    [[-5, -22, -58], [-40, -8, -22], 7, 6],
    [[-40, -8, -22], [-85, 5, -5], 6, 3],
    [[-40, -8, -22], [-10, -40, -5], 5, 3],
  ];
  for (const [a, b, ra, rb] of hepaticVeins) {
    layers.push({
      name: 'liver vessel',
      box: tubeBox(a, b, ra),
      sdf: taperedTube(a, b, ra, rb),
      hu: TISSUE_HU.blood,
      label: null,
      within: [LABEL.liver],
    });
  }
  const gallbladder = ellipsoid([-38, -55, -52], [14, 16, 30], yawFrame(20));
  layers.push({
    name: 'gallbladder',
    box: ellipsoidBox([-38, -55, -52], [14, 16, 30]),
    sdf: (x, y, z, i) => Math.max(gallbladder(x, y, z), dCavity[i]! + 2),
    hu: TISSUE_HU.bile,
    label: LABEL.body,
  });
  const stomachCenter: Vec3 = [52, -12, -15];
  const stomach = ellipsoid(stomachCenter, [38, 40, 50], yawFrame(30));
  const stomachWobble = smoothWobble(streamFor(seed, 'stomach'), 3, 60);
  layers.push({
    name: 'stomach',
    box: ellipsoidBox(stomachCenter, [38, 40, 50]),
    sdf: (x, y, z, i) => Math.max(stomach(x, y, z) + stomachWobble(x, y, z), dCavity[i]! + 1, belowDiaphragm(z, i)),
    // Wall, then fluid lying posteriorly and gas anteriorly (the patient is supine).
    hu: (_x, y, _z, d) => (d > -4 ? TISSUE_HU.muscle : y < stomachCenter[1] - 14 ? TISSUE_HU.air : TISSUE_HU.gastricFluid),
    label: LABEL.body,
  });
  const spleenCenter: Vec3 = [84, 40, -24];
  const spleenAxes = frame([0, 0, 1], normalize([84, 45, 0]));
  const spleenFrame: [Vec3, Vec3, Vec3] = [spleenAxes[0], spleenAxes[1], spleenAxes[2]];
  const spleenRadii: Vec3 = [26, 58, 52];
  const spleenOuter = ellipsoid(spleenCenter, spleenRadii, spleenFrame);
  // The hilum side is concave: a second ellipsoid, set medially, is cut away.
  const hilumCenter: Vec3 = [spleenCenter[0] - 34 * spleenFrame[0][0], spleenCenter[1] - 34 * spleenFrame[0][1], spleenCenter[2]];
  const spleenHilum = ellipsoid(hilumCenter, [20, 38, 40], spleenFrame);
  const spleenWobble = smoothWobble(streamFor(seed, 'spleen'), 2.5, 60);
  layers.push({
    name: 'spleen',
    box: ellipsoidBox(spleenCenter, spleenRadii),
    sdf: (x, y, z, i) =>
      Math.max(spleenOuter(x, y, z) + spleenWobble(x, y, z), -spleenHilum(x, y, z), dCavity[i]! + 1, belowDiaphragm(z, i)),
    hu: TISSUE_HU.spleen,
    label: LABEL.spleen,
  });

  // ---- Retroperitoneum: perirenal fat, kidneys with their sinus fat, great vessels.
  function kidneyLayers(center: Vec3, side: 1 | -1, label: number, name: string): void {
    const medial = -side;
    const hilumDirection = normalize([medial * 0.77, -0.64, 0]);
    const axes = frame([medial * 0.25, 0.15, 1], hilumDirection);
    const radii: Vec3 = [24, 30, 52];
    const wobble = smoothWobble(streamFor(seed, name), 2, 50);
    const parenchyma = ellipsoid(center, radii, axes);
    const sinusCenter: Vec3 = [center[0] + 14 * axes[0][0], center[1] + 14 * axes[0][1], center[2] + 14 * axes[0][2]];
    const sinus = ellipsoid(sinusCenter, [11, 10, 25], axes);
    layers.push({
      name: `${name} perirenal fat`,
      box: ellipsoidBox(center, [radii[0] + 10, radii[1] + 10, radii[2] + 10]),
      sdf: (x, y, z) => parenchyma(x, y, z) - 8,
      hu: TISSUE_HU.fat,
      label: LABEL.body,
    });
    layers.push({
      name,
      box: ellipsoidBox(center, radii),
      sdf: (x, y, z) => Math.max(parenchyma(x, y, z) + wobble(x, y, z), -sinus(x, y, z)),
      hu: TISSUE_HU.kidney,
      label,
    });
  }
  kidneyLayers(LANDMARKS.rightKidney, -1, LABEL.kidney_right, 'kidney_right');
  kidneyLayers(LANDMARKS.leftKidney, 1, LABEL.kidney_left, 'kidney_left');

  const venous: Array<{ name: string; points: Vec3[]; radius: number }> = [
    {
      name: 'inferior vena cava',
      points: [
        [-22, 6, -230],
        [-22, 6, -30],
        [-18, 13, 28],
        [-14, -6, 52],
      ],
      radius: 11,
    },
    {
      name: 'left renal vein',
      points: [
        [46, 36, -72],
        [26, -8, -70],
        [5, -17, -69],
        [-20, 2, -68],
      ],
      radius: 5,
    },
    {
      name: 'right renal vein',
      points: [
        [-46, 34, -88],
        [-22, 8, -84],
      ],
      radius: 5.5,
    },
    {
      name: 'superior mesenteric vein',
      points: [
        [-8, -40, -230],
        [-6, -33, -80],
        [-5, -22, -58],
      ],
      radius: 5,
    },
    {
      name: 'superior mesenteric artery',
      points: [
        [12, -9, -58],
        [10, -26, -72],
        [8, -34, -230],
      ],
      radius: 3.8,
    },
  ];
  for (const vessel of venous) {
    const tube = polyTube(vessel.points, vessel.radius);
    layers.push({ name: vessel.name, box: tube.box, sdf: tube.sdf, hu: TISSUE_HU.blood, label: LABEL.body });
  }

  // ---- Chest: lungs, then what lies in them and between them.
  const lungHu: HuField = (_x, y) => TISSUE_HU.lung + 45 * smoothstep(-90, 80, y);
  layers.push({
    name: 'right lung',
    box: box([-1e4, -1e4, -60], [1e4, 1e4, LUNG_APEX_Z]),
    sdf: (x, _y, _z, i) => Math.max(dLung[i]!, x),
    hu: lungHu,
    label: LABEL.lung_right,
  });
  layers.push({
    name: 'left lung',
    box: box([-1e4, -1e4, -60], [1e4, 1e4, LUNG_APEX_Z]),
    sdf: (x, _y, _z, i) => Math.max(dLung[i]!, -x),
    hu: lungHu,
    label: LABEL.lung_left,
  });
  for (const vessel of lungVesselTrees(seed, lungAt)) {
    layers.push({
      name: 'pulmonary vessel',
      box: tubeBox(vessel.a, vessel.b, vessel.ra),
      sdf: taperedTube(vessel.a, vessel.b, vessel.ra, vessel.rb),
      hu: TISSUE_HU.blood,
      label: null,
      within: [LABEL.lung_left, LABEL.lung_right],
    });
  }

  const heartBox = ellipsoidBox(heartCenter, [64, 64, 64]);
  layers.push({
    name: 'pericardial fat',
    box: heartBox,
    sdf: (x, y, z, i) => Math.max(heart(x, y, z) - 4, -aboveDiaphragm(z, i)),
    hu: TISSUE_HU.fat,
    label: LABEL.body,
  });
  layers.push({
    name: 'heart',
    box: heartBox,
    sdf: (x, y, z, i) => Math.max(heart(x, y, z), -aboveDiaphragm(z, i)),
    hu: TISSUE_HU.blood + 3,
    label: LABEL.body,
  });
  const pulmonaryTrunkAndBranches: Array<{ sdf: Sdf; box: Box }> = [
    { sdf: pulmonaryTrunk, box: tubeBox([18, -48, 88], [25, -35, 118], 14) },
    rightPulmonaryArtery,
    leftPulmonaryArtery,
    { sdf: superiorVenaCava, box: tubeBox([-30, -20, 230], [-26, -16, 92], 11) },
  ];
  for (const vessel of pulmonaryTrunkAndBranches) {
    layers.push({ name: 'mediastinal vessel', box: vessel.box, sdf: vessel.sdf, hu: TISSUE_HU.blood, label: LABEL.body });
  }
  layers.push({
    name: 'esophagus',
    box: esophagus.box,
    sdf: esophagus.sdf,
    hu: (_x, _y, z, d) => (z > 60 && d < -6 ? TISSUE_HU.air + 100 : TISSUE_HU.muscle),
    label: LABEL.body,
  });
  const airways: Array<{ sdf: Sdf; box: Box }> = [
    { sdf: trachea, box: tubeBox([0, -12, 240], [0, -8, 140], 9.5) },
    { sdf: rightBronchus, box: tubeBox([0, -8, 140], [-38, 2, 118], 7.5) },
    { sdf: leftBronchus, box: tubeBox([0, -8, 140], [40, 6, 112], 7) },
  ];
  for (const airway of airways) {
    layers.push({
      name: 'airway',
      box: airway.box,
      sdf: (x, y, z) => airway.sdf(x, y, z) - 1.5,
      hu: (_x, _y, _z, d) => (d < -1.8 ? TISSUE_HU.air : TISSUE_HU.muscle + 20),
      label: LABEL.body,
    });
  }
  layers.push({
    name: 'aorta',
    box: box([-30, -50, -1e4], [45, 35, 210]),
    sdf: (x, y, z) => Math.min(descendingAorta(x, y, z), ascendingAorta.sdf(x, y, z)),
    hu: TISSUE_HU.blood,
    label: LABEL.aorta,
  });

  // ---- Bones: ribs and sternum in the chest wall, then the spine.
  layers.push(ribLayer(levels, dCavity, dBody));
  layers.push({
    name: 'sternum',
    box: box([-25, -140, 30], [25, -60, 1e4]),
    // Measured outward from the chest cavity, so it sits in the anterior wall whatever the body's shape.
    sdf: (x, _y, z, i) => {
      const width = lerp(7, 15, smoothstep(30, 48, z));
      return extrude(ellipse2(0, 6.5, width, 6, x, dCavity[i]!), z, 30, 1e4);
    },
    hu: (_x, _y, _z, d) => (d > -1.6 ? TISSUE_HU.corticalBone - 150 : TISSUE_HU.cancellousBone),
    label: LABEL.body,
  });
  for (let l = 0; l < levels.length; l++) {
    const level = levels[l]!;
    const next = levels[l + 1];
    if (next) {
      const hw = (level.halfWidth + next.halfWidth) / 2 + 1;
      const hd = (level.halfDepth + next.halfDepth) / 2 + 1;
      layers.push({
        name: `disc above ${level.name}`,
        box: box([-hw, 30 - hd, level.top - 2], [hw, 30 + hd, next.bottom + 2]),
        sdf: (x, y, z) => extrude(ellipse2(0, LANDMARKS.vertebralBodyY, hw, hd, x, y), z, level.top - 1, next.bottom + 1),
        hu: TISSUE_HU.disc,
        label: LABEL.body,
      });
    }
  }
  for (const level of levels) {
    const { halfWidth: hw, halfDepth: hd } = level;
    const bodyY = LANDMARKS.vertebralBodyY;
    layers.push({
      name: `${level.name} body`,
      box: box([-hw, bodyY - hd, level.bottom], [hw, bodyY + hd, level.top]),
      sdf: (x, y, z) => {
        // Kidney-bean section: the posterior surface is pushed in by the canal.
        const d2 = Math.max(ellipse2(0, bodyY, hw, hd, x, y), -ellipse2(0, bodyY + hd + 7, 9, 9, x, y));
        return extrude(d2, z, level.bottom, level.top);
      },
      hu: (_x, _y, _z, d) => (d > -1.8 ? TISSUE_HU.corticalBone : TISSUE_HU.cancellousBone),
      label: LABEL.spine,
    });
    const canalY = bodyY + hd + 8;
    const thoracic = level.name.startsWith('T');
    const archBottom = level.bottom + 2;
    const archTop = level.discTop - 1;
    layers.push({
      name: `${level.name} posterior elements`,
      box: box([-50, canalY - 20, archBottom], [50, canalY + 40, archTop]),
      sdf: (x, y, z) => {
        const ring = Math.max(ellipse2(0, canalY, 15, 13.5, x, y), -ellipse2(0, canalY, 10, 8.5, x, y));
        const spinous = ellipse2(0, canalY + 22, 4.5, 13, x, y);
        const transverseX = thoracic ? 24 : 28;
        const transverse = ellipse2(Math.sign(x) * transverseX || transverseX, canalY + (thoracic ? 5 : -2), thoracic ? 11 : 15, 5.5, x, y);
        return extrude(Math.min(ring, spinous, transverse), z, archBottom, archTop);
      },
      hu: (_x, _y, _z, d) => (d > -1.5 ? TISSUE_HU.corticalBone - 100 : TISSUE_HU.cancellousBone + 60),
      label: LABEL.spine,
    });
  }
  layers.push({
    name: 'spinal canal',
    box: box([-12, 30, -1e4], [12, 90, 1e4]),
    sdf: (x, y, z) => ellipse2(0, LANDMARKS.vertebralBodyY + vertebraAt(z).halfDepth + 8, 10, 8.5, x, y),
    hu: (x, y, z) => {
      const canalY = LANDMARKS.vertebralBodyY + vertebraAt(z).halfDepth + 8;
      return z > -75 && ellipse2(0, canalY, 5.5, 4.5, x, y) < 0 ? TISSUE_HU.cord : TISSUE_HU.csf;
    },
    label: LABEL.body,
  });

  // ---- Lesions: drawn last, over their host organ.
  const lesion = (name: string, center: Vec3, radius: number, hu: number, label: number, lobulation: number): Layer => {
    const wobble = smoothWobble(streamFor(seed, name), lobulation, radius * 2.5);
    const sphere = ellipsoid(center, [radius, radius, radius]);
    return {
      name,
      box: ellipsoidBox(center, [radius + lobulation + 1, radius + lobulation + 1, radius + lobulation + 1]),
      sdf: (x, y, z) => sphere(x, y, z) + wobble(x, y, z),
      hu,
      label,
    };
  };
  layers.push(lesion('liver_lesion', LANDMARKS.liverLesion.center, LANDMARKS.liverLesion.radius, TISSUE_HU.liverLesion, LABEL.liver_lesion, 1.2));
  layers.push(lesion('lung_nodule', LANDMARKS.lungNodule.center, LANDMARKS.lungNodule.radius, TISSUE_HU.lungNodule, LABEL.lung_nodule, 0.8));
  layers.push(lesion('kidney_cyst', LANDMARKS.kidneyCyst.center, LANDMARKS.kidneyCyst.radius, TISSUE_HU.kidneyCyst, LABEL.kidney_cyst, 0.3));

  return { layers, prepareSlice };
}

interface VesselSegment {
  a: Vec3;
  b: Vec3;
  ra: number;
  rb: number;
}

/**
 * Pulmonary vessels: for each lung, end points are scattered through the lung
 * and a tree is grown from the hilum towards them, splitting the set of end
 * points in two at each branch point (along its widest axis), so branches fill
 * the lung and thin out towards the periphery. Radii follow Murray's law
 * (radius ∝ number of end points supplied ^ 1/3).
 */
function lungVesselTrees(seed: number, lungAt: (x: number, y: number, z: number) => number): VesselSegment[] {
  const random = streamFor(seed, 'pulmonary vessels');
  const segments: VesselSegment[] = [];
  const radiusFor = (count: number) => 1.0 * Math.cbrt(count) + 0.2;
  const grow = (from: Vec3, targets: Vec3[], fromRadius: number) => {
    if (targets.length === 1) {
      segments.push({ a: from, b: targets[0]!, ra: fromRadius, rb: Math.max(0.5, fromRadius * 0.6) });
      return;
    }
    let cx = 0;
    let cy = 0;
    let cz = 0;
    for (const t of targets) {
      cx += t[0];
      cy += t[1];
      cz += t[2];
    }
    cx /= targets.length;
    cy /= targets.length;
    cz /= targets.length;
    // Go part of the way towards the centre of what this branch supplies, with a little wander.
    const step = 0.35 + 0.15 * random();
    const wander = 3;
    const node: Vec3 = [
      from[0] + (cx - from[0]) * step + (random() - 0.5) * wander,
      from[1] + (cy - from[1]) * step + (random() - 0.5) * wander,
      from[2] + (cz - from[2]) * step + (random() - 0.5) * wander,
    ];
    segments.push({ a: from, b: node, ra: fromRadius, rb: fromRadius });
    const spans = [0, 1, 2].map((axis) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of targets) {
        lo = Math.min(lo, t[axis]!);
        hi = Math.max(hi, t[axis]!);
      }
      return hi - lo;
    });
    const axis = spans[0]! >= spans[1]! && spans[0]! >= spans[2]! ? 0 : spans[1]! >= spans[2]! ? 1 : 2;
    const sorted = [...targets].sort((p, q) => p[axis]! - q[axis]!);
    const half = Math.floor(sorted.length / 2);
    for (const group of [sorted.slice(0, half), sorted.slice(half)]) grow(node, group, radiusFor(group.length));
  };
  const hila: Array<[Vec3, 1 | -1]> = [
    [[-46, 4, 104], -1],
    [[48, 8, 100], 1],
  ];
  for (const [hilum, side] of hila) {
    const targets: Vec3[] = [];
    for (let tries = 0; targets.length < 800 && tries < 120000; tries++) {
      const p: Vec3 = [side * (10 + 150 * random()), -120 + 220 * random(), -40 + 240 * random()];
      if (lungAt(p[0], p[1], p[2]) < -6) targets.push(p);
    }
    grow(hilum, targets, radiusFor(targets.length));
  }
  return segments;
}

/**
 * Ribs: bands in the chest wall that start beside the spine and run forward
 * and downward, so an axial slice cuts several of them obliquely. Rib k leaves
 * the spine at its vertebra and drops `slope` mm per radian travelled around the
 * body; lower ribs are shorter (floating ribs).
 */
function ribLayer(levels: readonly { name: string; top: number }[], dCavity: Float32Array, dBody: Float32Array): Layer {
  const slope = 45;
  const startAngle = 0.42;
  const ribs: Array<{ z0: number; end: number }> = [];
  for (const level of levels) {
    if (!level.name.startsWith('T')) continue;
    const index = Number(level.name.slice(1));
    const end = index <= 7 ? 2.75 : index <= 10 ? lerp(2.5, 2.1, (index - 8) / 2) : index === 11 ? 1.7 : 1.25;
    ribs.push({ z0: level.top + 2, end });
  }
  const halfHeight = 5;
  const halfThickness = 3.2;
  const rounding = 2.5;
  return {
    name: 'ribs',
    box: box([-1e4, -1e4, -80], [1e4, 1e4, 1e4]),
    // Measured outward from the cavity wall, so the ribs hug the lungs and pass
    // in front of the paraspinal muscles up to the spine, as real ribs do.
    sdf: (x, y, z, i) => {
      if (dBody[i]! > 0) return 1e6;
      const dRadial = Math.abs(dCavity[i]! - (halfThickness + 0.5)) - (halfThickness - rounding);
      if (dRadial > 3 + rounding) return dRadial - rounding;
      const py = y - BODY_CENTER_Y;
      const radius = Math.hypot(x, py);
      const angle = Math.atan2(Math.abs(x), py);
      let best = Infinity;
      for (const rib of ribs) {
        const ribZ = rib.z0 - slope * (angle - startAngle);
        const dArc = ((Math.abs(z - ribZ) - halfHeight) * radius) / slope;
        const dEnds = Math.max(startAngle - angle, angle - rib.end) * radius;
        // A rounded rectangle in the (depth, arc length) plane: the rib's oblique cut.
        const inPlane = Math.max(dArc, dEnds) + rounding;
        const ox = Math.max(dRadial, 0);
        const oy = Math.max(inPlane, 0);
        const d = Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(dRadial, inPlane), 0) - rounding;
        if (d < best) best = d;
      }
      return best;
    },
    hu: (_x, _y, _z, d) => (d > -1.4 ? TISSUE_HU.corticalBone - 100 : TISSUE_HU.cancellousBone),
    label: LABEL.body,
  };
}
