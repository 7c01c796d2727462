// The study database part of the contract: the persistent index's state, re-scans, and
// forgetting or deleting a study. Same shape as `calls`/`events` in contract.ts, which
// spreads these in. No Node imports: the renderer bundles this file.
import { z } from 'zod';
import { ImportResult } from './dicom-model.ts';

const JobId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'job ids are letters, digits and _.:-');
const Uid = z.string().min(1).max(128);

export const DatabaseInfo = z.object({
  path: z.string(),
  schemaVersion: z.number().int(),
  patients: z.number().int().nonnegative(),
  studies: z.number().int().nonnegative(),
  series: z.number().int().nonnegative(),
  /** Files indexed, files gone from disk (rows kept), files that could not be indexed. */
  indexed: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  problems: z.number().int().nonnegative(),
  /** Set when the database could not be read at start: it was moved aside and rebuilt from the files. */
  notice: z.string().nullable(),
  /** True while the start-up re-scan (or a rebuild) runs. */
  scanning: z.boolean(),
});
export type DatabaseInfo = z.infer<typeof DatabaseInfo>;

export const dbCalls = {
  'dicom.database': { params: z.object({}).strict(), result: DatabaseInfo },
  /** Re-scans every imported folder, the retrieved-files store and the segmentations folder. */
  'dicom.rescan': { params: z.object({ jobId: JobId }).strict(), result: ImportResult },
  /** Removes a study from the index only; its files stay where they are. */
  'dicom.forgetStudy': {
    params: z.object({ studyInstanceUid: Uid }).strict(),
    result: z.object({ forgottenFiles: z.number().int().nonnegative() }),
  },
  /** Deletes the copies the app itself stored (retrieved files, exported SEGs and SRs), and forgets the rest. */
  'dicom.deleteStudy': {
    params: z.object({ studyInstanceUid: Uid }).strict(),
    result: z.object({ deletedFiles: z.number().int().nonnegative(), forgottenFiles: z.number().int().nonnegative() }),
  },
} as const;

export const dbEvents = {
  /** The database was unreadable at start, moved aside and rebuilt (or is being rebuilt). */
  'dicom.databaseNotice': z.object({ message: z.string() }),
} as const;
