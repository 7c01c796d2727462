// What an import produces, host side: the renderer-facing summaries (dicom-model.ts)
// plus the paths the host needs to serve files. All plain data (structured-clone-able).
import type { FileProblem, ObjectKind, PatientSummary, ProblemReason, SeriesSummary, SliceRef } from '../../common/dicom-model.ts';
import type { InstanceRecord } from './instance-record.ts';
import type { StoreSummary } from '../db/db-writer.ts';

/** A slice as the renderer sees it, plus the absolute path only the host keeps. */
export interface HostSlice extends SliceRef {
  path: string;
}

/** Every instance of a (sub-)series, in slice order for images: the listing for non-image kinds. */
export interface SeriesInstance {
  path: string;
  fileKey: string;
  sopInstanceUid: string;
  instanceNumber: number | null;
  kind: ObjectKind;
}

export interface HostSeries {
  summary: SeriesSummary;
  patient: { patientId: string; patientName: string };
  /** Slices in slice order; empty for kinds that are not stacked. */
  slices: HostSlice[];
  instances: SeriesInstance[];
}

/** Where each input file went: every file appears exactly once. */
export type FileOutcome =
  | { path: string; outcome: 'instance'; seriesKey: string; sopInstanceUid: string; frames: number }
  /** seriesKey is null for a DICOMDIR, which belongs to no series. */
  | { path: string; outcome: 'non-image'; seriesKey: string | null; kind: ObjectKind }
  | { path: string; outcome: 'problem'; reason: ProblemReason; detail: string };

export interface ImportOutcome {
  files: FileOutcome[];
  /** Everything indexed (duplicates excluded), so a DicomIndex can merge later imports. */
  records: InstanceRecord[];
  patients: PatientSummary[];
  series: HostSeries[];
  problems: FileProblem[];
  cancelled: boolean;
  elapsedMs: number;
  /** Set when the import wrote into the study database (db/db-import.ts). */
  stored?: StoreSummary;
}

export type ImportPhase = 'scan' | 'parse' | 'group' | 'done';

export interface ImportProgressUpdate {
  phase: ImportPhase;
  /** Files read so far. */
  done: number;
  /** Files found so far (grows while the scan runs). */
  total: number;
  problems: number;
}
