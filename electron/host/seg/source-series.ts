// The series a segmentation is drawn on: its identity, the patient and study a SEG
// must copy, its grid, and each slice's SOP instance and position in slice order
// (ascending along the normal, index 0 first, as everywhere in the app).
// Validated on construction; a SEG can only be written on a SourceSeries.
import type { Vec3 } from '../../common/dicom-model.ts';
import { dot, normalOf } from '../dicom/vector-math.ts';
import { isLenientUid, Problems, quoted } from './validation.ts';

export type Orientation = [number, number, number, number, number, number];

export interface SourceSlice {
  sopClassUid: string;
  sopInstanceUid: string;
  /** 1-based frame of a multi-frame source instance; null for single-frame instances. */
  frameNumber: number | null;
  /** ImagePositionPatient of the slice's first voxel (LPS, mm). */
  position: Vec3;
}

/** Patient and study attributes a derived object copies from its source (Type 2: may be empty). */
export interface PatientStudy {
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  studyId: string;
  accessionNumber: string;
  referringPhysicianName: string;
  studyDescription: string;
}

export interface SourceSeriesInit {
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  rows: number;
  columns: number;
  /** PixelSpacing: [between rows, between columns] in mm. */
  pixelSpacing: [number, number];
  orientation: Orientation;
  /** SliceThickness of the source; the slice spacing stands in when null. */
  sliceThickness: number | null;
  patientStudy: PatientStudy;
  /** In slice order. */
  slices: SourceSlice[];
  /** The index's key, when the series came from the index. */
  seriesKey?: string;
}

const ORTHONORMAL_TOLERANCE = 1e-3;

export class SourceSeries {
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly pixelSpacing: readonly [number, number];
  readonly orientation: Readonly<Orientation>;
  readonly normal: Vec3;
  readonly sliceThickness: number | null;
  /** Median distance between consecutive slices along the normal; null for one slice. */
  readonly sliceSpacing: number | null;
  readonly patientStudy: Readonly<PatientStudy>;
  readonly slices: readonly Readonly<SourceSlice>[];
  readonly seriesKey: string | null;
  /** Signed distance of each slice along the normal, ascending. */
  readonly #distances: Float64Array;
  readonly #indexBySop = new Map<string, number>();

  constructor(init: SourceSeriesInit) {
    const problems = new Problems(`source series ${quoted(String(init?.seriesInstanceUid))}`);
    problems.check(isLenientUid(init.seriesInstanceUid), `SeriesInstanceUID ${quoted(String(init.seriesInstanceUid))} is not a UID`);
    problems.check(isLenientUid(init.frameOfReferenceUid), `FrameOfReferenceUID ${quoted(String(init.frameOfReferenceUid))} is not a UID: a SEG needs the source's Frame of Reference`);
    problems.check(isLenientUid(init.patientStudy?.studyInstanceUid), `StudyInstanceUID ${quoted(String(init.patientStudy?.studyInstanceUid))} is not a UID`);
    for (const [name, value] of [['rows', init.rows], ['columns', init.columns]] as const) {
      problems.check(Number.isInteger(value) && value >= 1 && value <= 65535, `${name} must be an integer 1..65535, got ${String(value)}`);
    }
    const spacingOk = Array.isArray(init.pixelSpacing) && init.pixelSpacing.length === 2 && init.pixelSpacing.every((v) => Number.isFinite(v) && v > 0);
    problems.check(spacingOk, `pixelSpacing must be two positive numbers, got ${JSON.stringify(init.pixelSpacing)}`);
    problems.check(init.sliceThickness === null || (Number.isFinite(init.sliceThickness) && init.sliceThickness > 0), `sliceThickness must be positive or null, got ${String(init.sliceThickness)}`);

    let normal: Vec3 | null = null;
    const o = init.orientation;
    if (problems.check(Array.isArray(o) && o.length === 6 && o.every(Number.isFinite), `orientation must be six numbers (ImageOrientationPatient), got ${JSON.stringify(o)}`)) {
      const row: Vec3 = [o[0], o[1], o[2]];
      const column: Vec3 = [o[3], o[4], o[5]];
      const unit = Math.abs(Math.hypot(...row) - 1) < ORTHONORMAL_TOLERANCE && Math.abs(Math.hypot(...column) - 1) < ORTHONORMAL_TOLERANCE;
      const orthogonal = Math.abs(dot(row, column)) < ORTHONORMAL_TOLERANCE;
      if (problems.check(unit && orthogonal, `orientation ${o.join('\\')} is not two orthogonal unit vectors`)) normal = normalOf(o);
    }

    const slices = Array.isArray(init.slices) ? init.slices : [];
    problems.check(slices.length > 0, 'has no slices');
    const distances = new Float64Array(slices.length);
    const indexBySop = this.#indexBySop;
    slices.forEach((slice, k) => {
      const at = `slice ${k}`;
      problems.check(isLenientUid(slice.sopInstanceUid), () => `${at}: SOPInstanceUID ${quoted(String(slice.sopInstanceUid))} is not a UID`);
      problems.check(isLenientUid(slice.sopClassUid), () => `${at}: SOPClassUID ${quoted(String(slice.sopClassUid))} is not a UID`);
      problems.check(slice.frameNumber === null || (Number.isInteger(slice.frameNumber) && slice.frameNumber >= 1), () => `${at}: frameNumber must be null or ≥ 1`);
      const key = sopKey(slice.sopInstanceUid, slice.frameNumber);
      problems.check(!indexBySop.has(key), () => `${at}: instance ${slice.sopInstanceUid}${slice.frameNumber ? ` frame ${slice.frameNumber}` : ''} is also slice ${indexBySop.get(key)}`);
      indexBySop.set(key, k);
      const p = slice.position;
      if (problems.check(Array.isArray(p) && p.length === 3 && p.every(Number.isFinite), () => `${at} has no ImagePositionPatient: a SEG must give each frame's position`) && normal) {
        distances[k] = dot(p, normal);
      }
    });
    if (normal && problems.count === 0) {
      for (let k = 1; k < slices.length; k++) {
        const step = distances[k]! - distances[k - 1]!;
        if (step <= 1e-4) {
          problems.add(
            step > -1e-4
              ? `slices ${k - 1} and ${k} share one position: a SEG frame could not say which it belongs to`
              : `slices are not in slice order (ascending along the normal) at index ${k}`,
          );
          break;
        }
      }
    }
    problems.throwIfAny();

    this.seriesInstanceUid = init.seriesInstanceUid;
    this.frameOfReferenceUid = init.frameOfReferenceUid;
    this.rows = init.rows;
    this.columns = init.columns;
    this.pixelSpacing = Object.freeze([init.pixelSpacing[0], init.pixelSpacing[1]] as const);
    this.orientation = Object.freeze([...o] as Orientation);
    this.normal = normal!;
    this.sliceThickness = init.sliceThickness;
    this.sliceSpacing = medianStep(distances);
    this.patientStudy = Object.freeze({ ...init.patientStudy });
    this.slices = Object.freeze(slices.map((s) => Object.freeze({ ...s, position: [s.position[0], s.position[1], s.position[2]] as Vec3 })));
    this.seriesKey = init.seriesKey ?? null;
    this.#distances = distances;
  }

  get sliceCount(): number {
    return this.slices.length;
  }

  get pixelsPerSlice(): number {
    return this.rows * this.columns;
  }

  /** The slice showing this instance (and frame), or undefined. */
  sliceIndexOf(sopInstanceUid: string, frameNumber: number | null = null): number | undefined {
    return this.#indexBySop.get(sopKey(sopInstanceUid, frameNumber)) ?? (frameNumber === null ? undefined : this.#indexBySop.get(sopKey(sopInstanceUid, null)));
  }

  /** Distance of a point along the slice normal (mm). */
  distanceAlongNormal(position: Vec3): number {
    return dot(position, this.normal);
  }

  /**
   * The slice whose plane holds this position: nearest along the normal, within
   * `tolerance` mm, and with the same in-plane origin (within half a pixel).
   */
  sliceIndexAt(position: Vec3, tolerance = this.defaultTolerance()): number | undefined {
    const d = this.distanceAlongNormal(position);
    const distances = this.#distances;
    let lo = 0;
    let hi = distances.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (distances[mid]! < d) lo = mid + 1;
      else hi = mid;
    }
    let best = lo;
    if (lo > 0 && Math.abs(distances[lo - 1]! - d) < Math.abs(distances[lo]! - d)) best = lo - 1;
    if (Math.abs(distances[best]! - d) > tolerance) return undefined;
    const origin = this.slices[best]!.position;
    const offset: Vec3 = [position[0] - origin[0], position[1] - origin[1], position[2] - origin[2]];
    const o = this.orientation;
    const alongRow = offset[0] * o[0] + offset[1] * o[1] + offset[2] * o[2];
    const alongColumn = offset[0] * o[3] + offset[1] * o[4] + offset[2] * o[5];
    if (Math.abs(alongRow) > this.pixelSpacing[1] / 2 || Math.abs(alongColumn) > this.pixelSpacing[0] / 2) return undefined;
    return best;
  }

  /** A quarter of the slice spacing (or of the thickness for one slice), at least 1 µm. */
  defaultTolerance(): number {
    return Math.max(1e-3, (this.sliceSpacing ?? this.sliceThickness ?? 1) / 4);
  }

  toInit(): SourceSeriesInit {
    const init: SourceSeriesInit = {
      seriesInstanceUid: this.seriesInstanceUid,
      frameOfReferenceUid: this.frameOfReferenceUid,
      rows: this.rows,
      columns: this.columns,
      pixelSpacing: [this.pixelSpacing[0], this.pixelSpacing[1]],
      orientation: [...this.orientation] as Orientation,
      sliceThickness: this.sliceThickness,
      patientStudy: { ...this.patientStudy },
      slices: this.slices.map((s) => ({ ...s, position: [...s.position] as Vec3 })),
    };
    if (this.seriesKey !== null) init.seriesKey = this.seriesKey;
    return init;
  }
}

function sopKey(uid: string, frame: number | null): string {
  return frame === null ? uid : `${uid}#${frame}`;
}

function medianStep(distances: Float64Array): number | null {
  if (distances.length < 2) return null;
  const steps = Array.from({ length: distances.length - 1 }, (_, k) => distances[k + 1]! - distances[k]!).sort((a, b) => a - b);
  return steps[steps.length >> 1]!;
}
