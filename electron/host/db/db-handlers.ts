// The study database's calls: its state, re-scans, forget and delete. Forgetting writes
// on the caller's thread, but only one study's rows in one short transaction.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { CallHandlers } from '../dispatch.ts';
import { HostError } from '../dispatch.ts';
import type { ImportResult } from '../../common/dicom-model.ts';
import type { DbIndex } from './db-index.ts';
import { regroupStudy } from './db-regroup.ts';
import { readRootsFile } from './roots-file.ts';

export interface DbHandlerOptions {
  index: DbIndex;
  dbPath: string;
  dataDir: string;
  /** Folders the app writes itself: always re-scanned. */
  ownFolders: string[];
  /** Of those, where "delete" may remove files: the app's copies (retrieved, exported), not the sample it regenerates. */
  deletableFolders: string[];
  notice: () => string | null;
  scanning: () => boolean;
  runImport: (jobId: string, paths: string[], options?: { onlyChanged?: boolean }) => Promise<ImportResult>;
}

/** Every folder the index should cover: the imported roots and the app's own folders that exist. */
export function rescanPaths(options: Pick<DbHandlerOptions, 'index' | 'dbPath' | 'ownFolders'>, fromRootsFile = false): string[] {
  const roots = fromRootsFile ? readRootsFile(options.dbPath) : options.index.roots();
  return [...new Set([...options.ownFolders.filter((f) => existsSync(f)), ...roots])];
}

type DbCallHandlers = Pick<CallHandlers, 'dicom.database' | 'dicom.rescan' | 'dicom.forgetStudy' | 'dicom.deleteStudy'>;

export function dbHandlers(options: DbHandlerOptions): DbCallHandlers {
  const { index } = options;
  const studyFiles = (uid: string) =>
    (index.db.prepare('SELECT path FROM files WHERE study_instance_uid = ?').all(uid) as Array<{ path: string }>).map((r) => r.path);
  const forget = (uid: string): number => {
    const paths = studyFiles(uid);
    if (paths.length === 0) throw new HostError('not-found', `No study "${uid}" in the index.`);
    index.db.exec('BEGIN IMMEDIATE');
    try {
      index.db.prepare('DELETE FROM files WHERE study_instance_uid = ?').run(uid);
      index.db.prepare('INSERT OR IGNORE INTO dirty_studies (study_instance_uid) VALUES (?)').run(uid);
      index.db.exec('COMMIT');
    } catch (error) {
      index.db.exec('ROLLBACK');
      throw error;
    }
    regroupStudy(index.db, uid);
    index.db.exec('DELETE FROM patients WHERE patient_key NOT IN (SELECT patient_key FROM studies)');
    index.invalidate();
    return paths.length;
  };
  const own = options.deletableFolders.map((f) => f + path.sep);
  return {
    'dicom.database': async () => {
      const stats = index.stats();
      return {
        path: options.dbPath,
        schemaVersion: stats.schemaVersion,
        patients: stats.patients,
        studies: stats.studies,
        series: stats.series,
        indexed: stats.indexed,
        missing: stats.missing,
        problems: stats.problems,
        notice: options.notice(),
        scanning: options.scanning(),
      };
    },
    'dicom.rescan': async ({ jobId }) => options.runImport(jobId, rescanPaths(options)),
    'dicom.forgetStudy': async ({ studyInstanceUid }) => ({ forgottenFiles: forget(studyInstanceUid) }),
    'dicom.deleteStudy': async ({ studyInstanceUid }) => {
      const paths = studyFiles(studyInstanceUid);
      if (paths.length === 0) throw new HostError('not-found', `No study "${studyInstanceUid}" in the index.`);
      // Only the app's own copies are deleted: a folder the user imported is theirs.
      const owned = paths.filter((p) => own.some((prefix) => p.startsWith(prefix)));
      await Promise.all(owned.map((p) => rm(p, { force: true })));
      const forgotten = forget(studyInstanceUid);
      return { deletedFiles: owned.length, forgottenFiles: forgotten - owned.length };
    },
  };
}
