// Opens the study database (<data>/studies.db) on Node's built-in SQLite. WAL and a
// busy timeout let the app, the CLI and the import workers use it at once; a file that
// is not a database, or fails SQLite's quick check, is moved aside and a fresh one
// made, and the caller is told so it can rebuild from the files and tell the user.
import { closeSync, existsSync, openSync, renameSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './schema.ts';

export const DB_FILE = 'studies.db';
/** How long a writer waits for another process's transaction before failing. */
export const BUSY_TIMEOUT_MS = 15_000;

export interface Recovery {
  /** Where the unreadable database was moved. */
  movedTo: string;
  reason: string;
}

export interface OpenedDb {
  db: DatabaseSync;
  path: string;
  /** Set when the database was unreadable and has been replaced by an empty one. */
  recovery: Recovery | null;
}

export interface OpenDbOptions {
  /** Run PRAGMA quick_check before use (the CLI); the app runs it in the start-up job's worker instead. */
  check?: boolean;
  readOnly?: boolean;
}

export function studyDbPath(dataDir: string): string {
  return path.join(dataDir, DB_FILE);
}

export function openStudyDb(dbPath: string, options: OpenDbOptions = {}): OpenedDb {
  let recovery: Recovery | null = null;
  if (existsSync(dbPath)) {
    const problem = checkDatabase(dbPath, options.check ?? false);
    if (problem !== null) recovery = { movedTo: moveAside(dbPath), reason: problem };
  }
  const db = openConnection(dbPath);
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, path: dbPath, recovery };
}

/** A connection for a worker or a second process: no check, no migration beyond what is needed. */
export function openConnection(dbPath: string): DatabaseSync {
  // Created owner-only before SQLite sees it: SQLite gives -wal and -shm the database file's mode.
  closeSync(openSync(dbPath, 'a', 0o600));
  chmodSync(dbPath, 0o600);
  const db = new DatabaseSync(dbPath, { timeout: BUSY_TIMEOUT_MS });
  db.exec('PRAGMA journal_mode = WAL');
  // NORMAL in WAL mode: a power cut may lose the last commits, never consistency.
  db.exec('PRAGMA synchronous = NORMAL');
  return db;
}

/** SQLite's answer for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB), in whatever statement met it. */
export function isCorruption(error: unknown): boolean {
  return error instanceof Error && /database disk image is malformed|file is not a database|database corruption/i.test(error.message);
}

/** Thrown (and sent from the import worker) when the database turns out damaged: the host moves it aside and rebuilds. */
export class DatabaseCorruptError extends Error {
  override name = 'DatabaseCorruptError';
}

/** PRAGMA quick_check on an open connection: null when fine. O(database size): run it off the main thread. */
export function quickCheck(db: DatabaseSync): string | null {
  const rows = db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>;
  const messages = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
  return messages.length > 0 ? `SQLite's quick check failed: ${messages.slice(0, 3).join('; ')}` : null;
}

/** Null when the file is a readable database; else why not. */
export function checkDatabase(dbPath: string, fullCheck: boolean): string | null {
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(dbPath, { timeout: BUSY_TIMEOUT_MS });
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return fullCheck ? quickCheck(db) : null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    db?.close();
  }
}

/** Moves an unreadable database (and its -wal/-shm) aside; returns where to. */
export function moveAside(dbPath: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${dbPath}.corrupt-${stamp}`;
  renameSync(dbPath, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, target + suffix);
  }
  return target;
}
