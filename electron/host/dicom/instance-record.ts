// What the header reader learns about one file: plain data (structured-clone-able) so
// it crosses the worker boundary as is, and so later imports can be merged with it.
import { createHash } from 'node:crypto';
import type { ObjectKind, Vec3 } from '../../common/dicom-model.ts';
import type { ObjectLinks } from './object-links.ts';

export type Orientation = [number, number, number, number, number, number];
export type PixelSpacing = [number, number];

/** Geometry of one frame of a multi-frame instance, resolved from the functional groups or the RTDOSE grid. */
export interface FrameGeometry {
  position: Vec3 | null;
  orientation: Orientation | null;
  pixelSpacing: PixelSpacing | null;
  sliceThickness: number | null;
}

export interface InstanceRecord {
  path: string;
  fileKey: string;
  size: number;
  transferSyntaxUid: string;
  /** Set when the encoding was guessed: no meta header, or one that does not match the data. */
  encodingNote: string | null;
  sopClassUid: string;
  sopInstanceUid: string;
  kind: ObjectKind;

  patientId: string;
  patientName: string;
  birthDate: string;
  sex: string;

  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accessionNumber: string;

  seriesInstanceUid: string;
  seriesNumber: number | null;
  seriesDescription: string;
  modality: string;

  instanceNumber: number | null;
  rows: number | null;
  columns: number | null;
  /** 1 when the attribute is absent (single-frame objects). */
  numberOfFrames: number;
  pixelSpacing: PixelSpacing | null;
  imageOrientationPatient: Orientation | null;
  imagePositionPatient: Vec3 | null;
  sliceThickness: number | null;
  frameOfReferenceUid: string | null;
  hasPixelData: boolean;
  /**
   * One entry per frame when the object is multi-frame and says where its frames are
   * (Shared/Per-Frame Functional Groups, or an RTDOSE GridFrameOffsetVector); null otherwise.
   */
  frames: FrameGeometry[] | null;
  /** DICOMDIR only: absolute paths of the files its directory records reference. */
  referencedFiles: string[] | null;
  /** DICOMDIR only: references that could not be followed, in words (unsafe or missing file IDs). */
  referenceNotes: string[] | null;
  /** SEG, SR, KO, PR, RTSTRUCT: what the object refers to. Absent on images, and on records stored before schema 2. */
  links?: ObjectLinks;
}

/** The opaque handle the renderer uses to ask for a file: it reveals nothing about the path. */
export function fileKeyForPath(absolutePath: string): string {
  return createHash('sha256').update(absolutePath).digest('hex').slice(0, 24);
}

/** True for objects whose frames are stacked as slices: images, and RTDOSE grids that carry pixels. */
export function isStackable(record: Pick<InstanceRecord, 'kind' | 'hasPixelData' | 'rows' | 'columns'>): boolean {
  if (record.kind !== 'image' && record.kind !== 'RTDOSE') return false;
  return record.hasPixelData && (record.rows ?? 0) > 0 && (record.columns ?? 0) > 0;
}
