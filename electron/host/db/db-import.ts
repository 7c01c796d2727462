// An import that writes into the study database: the same walk and header reading as
// an in-memory import (import-run.ts), with unchanged files taken from the database
// unread, missing ones marked, and the touched studies re-grouped. Synchronous: it runs
// in the import worker or a CLI process, never on the app's main thread.
import { statSync } from 'node:fs';
import path from 'node:path';
import { runImport, type RunImportOptions } from '../dicom/import-run.ts';
import type { ImportOutcome } from '../dicom/import-types.ts';
import { DbWriter, type StoreSummary } from './db-writer.ts';
import { DatabaseCorruptError, openConnection, quickCheck } from './study-db.ts';
import { writeRootsFile } from './roots-file.ts';

export type StoredOutcome = Omit<ImportOutcome, 'elapsedMs'> & { stored: StoreSummary };

export interface DbImportOptions extends Omit<RunImportOptions, 'store'> {
  /** Run SQLite's quick check first (the app's start-up job: the check is O(size), so not on the main thread). */
  check?: boolean;
  /** Start-up re-scan: walk only the roots with a folder whose modification time changed (or that are gone). */
  onlyChanged?: boolean;
  /** Tests: called after each committed batch (a crash test kills the process there). */
  onBatchCommitted?: (batches: number, filesCommitted: number) => void;
}

export function runDbImport(dbPath: string, paths: readonly string[], options: DbImportOptions = {}): StoredOutcome {
  const db = openConnection(dbPath);
  try {
    if (options.check) {
      const damage = quickCheck(db);
      if (damage !== null) throw new DatabaseCorruptError(damage);
    }
    const writer = new DbWriter(db);
    const gone = paths.filter((p) => !exists(p));
    const walked = paths.filter((p) => exists(p) && (!options.onlyChanged || rootChanged(db, p)));
    const roots = walked.filter((p) => !isAppOwned(dbPath, p));
    if (roots.length > 0) {
      writer.addRoots(roots, false);
      writeRootsFile(dbPath, writerRoots(db));
    }
    if (options.onBatchCommitted) writer.onBatchCommitted = options.onBatchCommitted;
    let outcome: Omit<ImportOutcome, 'elapsedMs'>;
    try {
      outcome = runImport(walked, { ...options, store: writer });
      writer.commit();
    } catch (error) {
      writer.rollback();
      throw error;
    }
    let markedMissing = 0;
    if (!outcome.cancelled) {
      const seen = new Set(outcome.files.map((f) => f.path));
      for (const root of walked) if (isDirectory(root)) markedMissing += writer.markMissingUnder(root, seen);
      // A folder that is gone: everything indexed under it (or the file itself) is missing.
      for (const root of gone) markedMissing += writer.markMissingUnder(root, seen) + writer.markMissing(root);
      writer.addRoots(roots, true);
    }
    return { ...outcome, stored: writer.finish(markedMissing) };
  } finally {
    db.close();
  }
}

function writerRoots(db: ReturnType<typeof openConnection>): string[] {
  return (db.prepare('SELECT path FROM roots ORDER BY path').all() as Array<{ path: string }>).map((r) => r.path);
}

/** The store and the segmentations folder are re-scanned always, so what lands there is not a root of its own. */
function isAppOwned(dbPath: string, file: string): boolean {
  const dataDir = path.dirname(dbPath);
  return ['store', 'segmentations', 'sample'].some((folder) => file.startsWith(path.join(dataDir, folder) + path.sep));
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** A root changed when its last walk did not complete, one of its folders has another modification time, or it was never walked as a folder. */
function rootChanged(db: ReturnType<typeof openConnection>, root: string): boolean {
  const recorded = db.prepare('SELECT scanned_ms FROM roots WHERE path = ?').get(root) as { scanned_ms: number | null } | undefined;
  if (recorded && recorded.scanned_ms === null) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  const folders = db
    .prepare('SELECT path, mtime_ms FROM directories WHERE path = ? OR (path >= ? AND path < ?)')
    .all(root, prefix, `${prefix.slice(0, -1)}${String.fromCharCode(path.sep.charCodeAt(0) + 1)}`) as Array<{ path: string; mtime_ms: number }>;
  if (folders.length === 0) return true;
  for (const folder of folders) {
    try {
      if (statSync(folder.path).mtimeMs !== folder.mtime_ms) return true;
    } catch {
      return true;
    }
  }
  return false;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
