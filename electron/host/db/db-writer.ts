// Writes an import into the study database. It runs where the import runs (the import
// worker, or a CLI process), never on the app's main thread. Files are written in
// transactions of at most BATCH_FILES files or BATCH_MS, each marking the studies it
// touched as dirty; the studies are re-grouped afterwards, one transaction each. A kill
// at any point leaves whole batches and a dirty list that the next import finishes.
import { statSync, type Stats } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { FileProblem } from '../../common/dicom-model.ts';
import type { HeaderResult } from '../dicom/header-reader.ts';
import { fileKeyForPath, isStackable, type InstanceRecord } from '../dicom/instance-record.ts';
import { regroupStudy } from './db-regroup.ts';

export const BATCH_FILES = 500;
export const BATCH_MS = 250;

interface FileRow {
  size: number;
  mtime_ms: number;
  state: string;
  problem_reason: string | null;
  problem_detail: string | null;
  record: string | null;
  study_instance_uid: string | null;
}

export interface StoreSummary {
  /** Series (keys after re-grouping) of the series this import touched. */
  seriesKeys: string[];
  /** Stacked instances that were not indexed before. */
  instancesAdded: number;
  /** Files known before and not read again (same size and modification time). */
  unchanged: number;
  /** Files under the walked folders that are gone: kept, marked missing. */
  markedMissing: number;
}

export class DbWriter {
  readonly #db: DatabaseSync;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #duplicateOf: StatementSync;
  readonly #dirty: StatementSync;
  readonly #directory: StatementSync;
  readonly #stats = new Map<string, Stats | null>();
  /** The row known() read, reused by put() for the same file: one lookup per file, not two. */
  readonly #rows = new Map<string, FileRow | undefined>();
  readonly #touchedSeries = new Set<string>();
  #inBatch = 0;
  #batchStarted = 0;
  #instancesAdded = 0;
  #unchanged = 0;
  /** Tests: told after each commit (a crash test kills its process there). */
  onBatchCommitted?: (batches: number, filesCommitted: number) => void;
  #batches = 0;
  #filesCommitted = 0;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#select = db.prepare('SELECT size, mtime_ms, state, problem_reason, problem_detail, record, study_instance_uid FROM files WHERE path = ?');
    this.#upsert = db.prepare(`INSERT INTO files (path, file_key, size, mtime_ms, state, problem_reason, problem_detail, sop_instance_uid,
        series_instance_uid, study_instance_uid, kind, record, first_seen_ms, checked_ms, missing_since_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
      ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, state = excluded.state,
        problem_reason = excluded.problem_reason, problem_detail = excluded.problem_detail, sop_instance_uid = excluded.sop_instance_uid,
        series_instance_uid = excluded.series_instance_uid, study_instance_uid = excluded.study_instance_uid, kind = excluded.kind,
        record = excluded.record, checked_ms = excluded.checked_ms, missing_since_ms = NULL`);
    this.#duplicateOf = db.prepare("SELECT path FROM files WHERE sop_instance_uid = ? AND state = 'indexed' AND path <> ? LIMIT 1");
    this.#dirty = db.prepare('INSERT OR IGNORE INTO dirty_studies (study_instance_uid) VALUES (?)');
    this.#directory = db.prepare('INSERT INTO directories (path, mtime_ms) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET mtime_ms = excluded.mtime_ms');
  }

  /** The stored result for a file whose size and modification time have not changed; null means read it. */
  known(path: string): HeaderResult | null {
    const stats = this.#stat(path);
    if (!stats) return null;
    const row = this.#select.get(path) as FileRow | undefined;
    this.#rows.set(path, row);
    if (!row || row.size !== stats.size || row.mtime_ms !== stats.mtimeMs) return null;
    this.#rows.delete(path);
    if (row.state === 'indexed' && row.record) {
      this.#unchanged++;
      const record = JSON.parse(row.record) as InstanceRecord;
      if (record.kind !== 'DICOMDIR') this.#touchedSeries.add(record.seriesInstanceUid);
      return { ok: true, record };
    }
    if (row.state === 'problem' && row.problem_reason !== 'duplicate-instance') {
      this.#unchanged++;
      return { ok: false, problem: { path, reason: row.problem_reason as FileProblem['reason'], detail: row.problem_detail ?? '' } };
    }
    return null;
  }

  /** Stores a file's result; a SOP Instance UID already indexed under another path turns it into a duplicate. */
  put(path: string, result: HeaderResult): HeaderResult {
    this.#begin();
    const stats = this.#stat(path);
    this.#stats.delete(path);
    const before = this.#rows.has(path) ? this.#rows.get(path) : (this.#select.get(path) as FileRow | undefined);
    this.#rows.delete(path);
    if (before?.study_instance_uid) this.#dirty.run(before.study_instance_uid);
    const now = Date.now();
    let stored = result;
    if (result.ok && result.record.kind !== 'DICOMDIR') {
      const other = this.#duplicateOf.get(result.record.sopInstanceUid, path) as { path: string } | undefined;
      if (other) {
        stored = {
          ok: false,
          problem: {
            path,
            reason: 'duplicate-instance',
            detail: `Same SOP Instance UID (${result.record.sopInstanceUid}) as ${other.path}, which is the one indexed.`,
          },
        };
      }
    }
    const size = stats?.size ?? 0;
    const mtime = stats?.mtimeMs ?? 0;
    if (stored.ok) {
      const r = stored.record;
      const isImageLike = r.kind !== 'DICOMDIR';
      this.#upsert.run(path, r.fileKey, size, mtime, 'indexed', null, null, isImageLike ? r.sopInstanceUid : null,
        isImageLike ? r.seriesInstanceUid : null, isImageLike ? r.studyInstanceUid : null, r.kind, JSON.stringify(r), now, now);
      if (isImageLike) {
        this.#dirty.run(r.studyInstanceUid);
        this.#touchedSeries.add(r.seriesInstanceUid);
        if (isStackable(r) && before?.state !== 'indexed') this.#instancesAdded++;
      }
    } else {
      const p = stored.problem;
      this.#upsert.run(path, fileKeyForPath(path), size, mtime, 'problem', p.reason, p.detail, null, null, null, null, null, now, now);
    }
    this.#inBatch++;
    if (this.#inBatch >= BATCH_FILES || performance.now() - this.#batchStarted >= BATCH_MS) this.commit();
    return stored;
  }

  directory(path: string, mtimeMs: number): void {
    this.#begin();
    this.#directory.run(path, mtimeMs);
  }

  commit(): void {
    if (!this.#db.isTransaction) return;
    this.#db.exec('COMMIT');
    this.#filesCommitted += this.#inBatch;
    this.#inBatch = 0;
    this.#batches++;
    this.onBatchCommitted?.(this.#batches, this.#filesCommitted);
  }

  /**
   * After a complete walk of `root` (a folder): rows under it that the walk did not see are
   * marked missing, keeping their record and history (first seen), so the file reappearing is indexed again in place.
   */
  markMissingUnder(root: string, seen: ReadonlySet<string>): number {
    this.commit();
    const prefix = root.endsWith('/') ? root : `${root}/`;
    const rows = this.#db
      .prepare("SELECT path, study_instance_uid FROM files WHERE path >= ? AND path < ? AND state <> 'missing'")
      .all(prefix, `${prefix.slice(0, -1)}0`) as Array<{ path: string; study_instance_uid: string | null }>;
    const gone = rows.filter((r) => !seen.has(r.path));
    if (gone.length === 0) return 0;
    const mark = this.#db.prepare("UPDATE files SET state = 'missing', missing_since_ms = ? WHERE path = ?");
    const now = Date.now();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const row of gone) {
        mark.run(now, row.path);
        if (row.study_instance_uid) this.#dirty.run(row.study_instance_uid);
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    return gone.length;
  }

  /** A single file that is gone. */
  markMissing(file: string): number {
    this.commit();
    const row = this.#select.get(file) as FileRow | undefined;
    if (!row || row.state === 'missing') return 0;
    this.#db.exec('BEGIN IMMEDIATE');
    this.#db.prepare("UPDATE files SET state = 'missing', missing_since_ms = ? WHERE path = ?").run(Date.now(), file);
    if (row.study_instance_uid) this.#dirty.run(row.study_instance_uid);
    this.#db.exec('COMMIT');
    return 1;
  }

  /**
   * Records the roots before the walk with no scan time (`complete` false), and stamps them
   * after a complete walk: a root left unstamped (a crash, a cancel) is walked again at the next start.
   */
  addRoots(roots: readonly string[], complete: boolean): void {
    this.commit();
    const insert = this.#db.prepare('INSERT INTO roots (path, added_ms, scanned_ms) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET scanned_ms = excluded.scanned_ms');
    const now = Date.now();
    this.#db.exec('BEGIN IMMEDIATE');
    for (const root of roots) insert.run(root, now, complete ? now : null);
    this.#db.exec('COMMIT');
  }

  /** Re-groups every dirty study (this import's and any a crash left), then names the touched series. */
  finish(markedMissing = 0): StoreSummary {
    this.commit();
    regroupDirtyStudies(this.#db);
    const seriesKeys: string[] = [];
    const select = this.#db.prepare('SELECT series_key FROM series WHERE series_instance_uid = ? ORDER BY position');
    for (const uid of this.#touchedSeries) for (const row of select.all(uid) as Array<{ series_key: string }>) seriesKeys.push(row.series_key);
    return { seriesKeys, instancesAdded: this.#instancesAdded, unchanged: this.#unchanged, markedMissing };
  }

  rollback(): void {
    if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
  }

  #begin(): void {
    if (this.#db.isTransaction) return;
    this.#db.exec('BEGIN IMMEDIATE');
    this.#batchStarted = performance.now();
  }

  #stat(path: string): Stats | null {
    if (this.#stats.has(path)) return this.#stats.get(path)!;
    let stats: Stats | null;
    try {
      stats = statSync(path);
    } catch {
      stats = null;
    }
    this.#stats.set(path, stats);
    return stats;
  }
}

export function regroupDirtyStudies(db: DatabaseSync): number {
  const dirty = (db.prepare('SELECT study_instance_uid FROM dirty_studies').all() as Array<{ study_instance_uid: string }>).map((r) => r.study_instance_uid);
  for (const uid of dirty) regroupStudy(db, uid);
  if (dirty.length > 0) db.exec('DELETE FROM patients WHERE patient_key NOT IN (SELECT patient_key FROM studies)');
  return dirty.length;
}
