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
  /** Run PRAGMA quick_check before use (the app and `db check`); workers skip it. */
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

/** Null when the file is a readable database; else why not. */
export function checkDatabase(dbPath: string, quickCheck: boolean): string | null {
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(dbPath, { timeout: BUSY_TIMEOUT_MS });
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    if (quickCheck) {
      const rows = db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>;
      const messages = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (messages.length > 0) return `SQLite's quick check failed: ${messages.slice(0, 3).join('; ')}`;
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    db?.close();
  }
}

function moveAside(dbPath: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = `${dbPath}.corrupt-${stamp}`;
  renameSync(dbPath, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, target + suffix);
  }
  return target;
}
