// The study database's schema, as numbered migrations. PRAGMA user_version holds the
// number of migrations applied; each runs in its own transaction, so a database is
// always at one version. A database newer than this build is refused, never guessed at.
import type { DatabaseSync } from 'node:sqlite';

/** Files of the index: one row per path ever indexed, kept (as 'missing') when the file goes away. */
const V1 = `
CREATE TABLE files (
  path TEXT PRIMARY KEY,
  file_key TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('indexed', 'problem', 'missing')),
  problem_reason TEXT,
  problem_detail TEXT,
  sop_instance_uid TEXT,
  series_instance_uid TEXT,
  study_instance_uid TEXT,
  kind TEXT,
  record TEXT,
  first_seen_ms INTEGER NOT NULL,
  checked_ms INTEGER NOT NULL,
  missing_since_ms INTEGER
) STRICT;
CREATE INDEX files_sop ON files (sop_instance_uid) WHERE state = 'indexed';
CREATE INDEX files_study ON files (study_instance_uid);
CREATE TABLE patients (
  patient_key TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  patient_name TEXT NOT NULL,
  birth_date TEXT NOT NULL,
  sex TEXT NOT NULL
) STRICT;
CREATE TABLE studies (
  study_instance_uid TEXT PRIMARY KEY,
  patient_key TEXT NOT NULL,
  study_date TEXT NOT NULL,
  study_time TEXT NOT NULL,
  description TEXT NOT NULL,
  accession_number TEXT NOT NULL,
  modalities TEXT NOT NULL,
  series_count INTEGER NOT NULL,
  instance_count INTEGER NOT NULL
) STRICT;
CREATE INDEX studies_patient ON studies (patient_key);
CREATE TABLE series (
  series_key TEXT PRIMARY KEY,
  study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL,
  position INTEGER NOT NULL,
  modality TEXT NOT NULL,
  kind TEXT NOT NULL,
  instance_count INTEGER NOT NULL,
  summary TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX series_study ON series (study_instance_uid);
CREATE TABLE geometry_warnings (
  series_key TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;
CREATE INDEX geometry_warnings_series ON geometry_warnings (series_key);
-- SEG and SR objects and the study they belong to, so a study's derived objects are found without parsing.
CREATE TABLE object_references (
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL,
  frame_of_reference_uid TEXT
) STRICT;
CREATE INDEX object_references_study ON object_references (study_instance_uid);
-- Studies whose files changed but whose series are not re-grouped yet: a crash between the two leaves this list.
CREATE TABLE dirty_studies (study_instance_uid TEXT PRIMARY KEY) STRICT;
-- What was imported, so a re-scan (or a rebuild) knows where to look.
CREATE TABLE roots (path TEXT PRIMARY KEY, added_ms INTEGER NOT NULL, scanned_ms INTEGER) STRICT;
CREATE TABLE directories (path TEXT PRIMARY KEY, mtime_ms REAL NOT NULL) STRICT;
`;

/**
 * What SEG/SR (KO, PR, RTSTRUCT) objects refer to, one row per reference, so "the SEG's
 * source series", "the SR that documents this SEG" and "what replaces this SEG" are
 * indexed look-ups. Files indexed before this version have no links in their records:
 * they are marked changed (mtime -1) and their roots unscanned, so the next start-up
 * scan reads just those headers again.
 */
const V2 = `
CREATE TABLE object_links (
  object_sop_uid TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('source-series', 'source-instance', 'documents', 'supersedes', 'predecessor')),
  target_uid TEXT NOT NULL,
  target_series_uid TEXT
) STRICT;
CREATE INDEX object_links_object ON object_links (object_sop_uid);
CREATE INDEX object_links_target ON object_links (target_uid);
CREATE INDEX object_links_study ON object_links (study_instance_uid);
UPDATE files SET mtime_ms = -1 WHERE state = 'indexed' AND kind IN ('SEG', 'SR', 'KO', 'PR', 'RTSTRUCT');
UPDATE roots SET scanned_ms = NULL WHERE EXISTS (SELECT 1 FROM files WHERE mtime_ms = -1);
`;

export const MIGRATIONS: readonly string[] = [V1, V2];
export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {}

export function migrate(db: DatabaseSync): number {
  const current = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(`The study database is at schema version ${current}; this build knows up to ${SCHEMA_VERSION}.`);
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while we waited for the write lock.
      const now = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
      if (now > version) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  return SCHEMA_VERSION;
}
