// The DICOM index as the renderer, the CLI and the tests see it.
// Schemas, not only types: the host validates what it sends in tests, and the
// renderer can trust the shape of what arrives. No Node imports here.
import { z } from 'zod';

export const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
export type Vec3 = z.infer<typeof Vec3>;

/** Why a file did not become an instance. Stable codes: tests and scripts match on them. */
export const ProblemReason = z.enum([
  'not-dicom', // no DICM preamble and no plausible implicit-VR start
  'empty-file',
  'truncated', // ends inside an element or before pixel data that the header announces
  'unsupported-transfer-syntax',
  'missing-attribute', // a Type 1 attribute that the index needs (SOP Instance UID, Series UID, …)
  'invalid-value', // present but unusable (absurd length, rows = 0, …)
  'unreadable', // I/O error: permissions, vanished file
  'duplicate-instance', // same SOP Instance UID as a file already indexed
]);
export type ProblemReason = z.infer<typeof ProblemReason>;

export const FileProblem = z.object({
  path: z.string(),
  reason: ProblemReason,
  detail: z.string(),
});
export type FileProblem = z.infer<typeof FileProblem>;

export const GeometryWarningCode = z.enum([
  'missing-slices', // a gap larger than the usual spacing
  'uneven-spacing',
  'duplicate-position',
  'mixed-orientation', // the series was split: see SeriesSummary.splitFrom
  'mixed-size', // the series was split: see SeriesSummary.splitFrom
  'no-position', // slice order fell back to InstanceNumber
  'oblique', // not aligned with the patient axes (informative)
]);
export type GeometryWarningCode = z.infer<typeof GeometryWarningCode>;

export const GeometryWarning = z.object({
  code: GeometryWarningCode,
  message: z.string(),
});
export type GeometryWarning = z.infer<typeof GeometryWarning>;

export const SeriesGeometry = z.object({
  rows: z.number().int().nonnegative(),
  columns: z.number().int().nonnegative(),
  /** [row spacing, column spacing] in mm, as PixelSpacing stores it. */
  pixelSpacing: z.tuple([z.number(), z.number()]).nullable(),
  /** ImageOrientationPatient: row direction cosines then column direction cosines. */
  orientation: z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]).nullable(),
  /** row direction × column direction: slice order is ascending position along it. */
  normal: Vec3.nullable(),
  /** Median distance between consecutive slices along the normal, in mm. */
  sliceSpacing: z.number().nullable(),
  frameOfReferenceUid: z.string().nullable(),
  warnings: z.array(GeometryWarning),
});
export type SeriesGeometry = z.infer<typeof SeriesGeometry>;

/** Objects that are not images to stack: listed, never put in a viewport. */
export const ObjectKind = z.enum(['image', 'SEG', 'SR', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'PR', 'KO', 'ECG', 'DICOMDIR', 'OTHER']);
export type ObjectKind = z.infer<typeof ObjectKind>;

const InstanceRef = z.object({ sopInstanceUid: z.string(), seriesInstanceUid: z.string() });

/** What a SEG/SR/KO/PR/RTSTRUCT series refers to (the union over its instances), from the headers. */
export const SeriesLinks = z.object({
  /** Series Instance UIDs the objects were derived from or measure. */
  sourceSeries: z.array(z.string()),
  /** SR: the SEGs it reports on. */
  documents: z.array(InstanceRef),
  /** SEG: the version(s) it replaces. */
  supersedes: z.array(InstanceRef),
  /** SR: the report(s) it replaces. */
  predecessors: z.array(InstanceRef),
});
export type SeriesLinks = z.infer<typeof SeriesLinks>;

export const SeriesSummary = z.object({
  /** Stable within an index: the Series Instance UID, with "#n" added when the series was split. */
  seriesKey: z.string(),
  seriesInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  seriesNumber: z.number().nullable(),
  modality: z.string(),
  description: z.string(),
  kind: ObjectKind,
  sopClassUid: z.string(),
  instanceCount: z.number().int().nonnegative(),
  /** Slices in this (sub-)series: frames of multi-frame instances count one each. */
  sliceCount: z.number().int().nonnegative(),
  geometry: SeriesGeometry.nullable(),
  /** Set on the parts of a series that was split for mixed orientation or size. */
  splitFrom: z.string().nullable(),
  /** Non-image objects only; absent on images and on rows indexed before links were read. */
  links: SeriesLinks.optional(),
});
export type SeriesSummary = z.infer<typeof SeriesSummary>;

export const StudySummary = z.object({
  studyInstanceUid: z.string(),
  studyDate: z.string(),
  studyTime: z.string(),
  description: z.string(),
  accessionNumber: z.string(),
  series: z.array(SeriesSummary),
});
export type StudySummary = z.infer<typeof StudySummary>;

export const PatientSummary = z.object({
  /** PatientID, or a key derived from the name when the ID is empty. */
  patientKey: z.string(),
  patientId: z.string(),
  patientName: z.string(),
  birthDate: z.string(),
  sex: z.string(),
  studies: z.array(StudySummary),
});
export type PatientSummary = z.infer<typeof PatientSummary>;

/** One slice of a series, in slice order. */
export const SliceRef = z.object({
  /** Opaque handle to the file: the only way the renderer asks for its bytes. */
  fileKey: z.string(),
  sopInstanceUid: z.string(),
  instanceNumber: z.number().nullable(),
  /** 1-based frame number inside a multi-frame instance; null for single-frame. */
  frame: z.number().int().positive().nullable(),
  /** ImagePositionPatient of this slice (or frame), null when absent. */
  position: Vec3.nullable(),
});
export type SliceRef = z.infer<typeof SliceRef>;

export const SeriesDetail = z.object({
  series: SeriesSummary,
  patient: z.object({ patientId: z.string(), patientName: z.string() }),
  slices: z.array(SliceRef),
  /** Every instance with its file key: how a SEG or SR series is opened (seg.import, seg.info). */
  instances: z.array(z.object({ fileKey: z.string(), sopInstanceUid: z.string(), instanceNumber: z.number().nullable(), kind: ObjectKind })),
});
export type SeriesDetail = z.infer<typeof SeriesDetail>;

export const ImportResult = z.object({
  jobId: z.string(),
  cancelled: z.boolean(),
  filesSeen: z.number().int().nonnegative(),
  instancesAdded: z.number().int().nonnegative(),
  seriesKeys: z.array(z.string()),
  problems: z.array(FileProblem),
  elapsedMs: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;
