// `medreasoner db stats|check|rebuild [--data-dir <dir>] [--json]`: the study database the
// app lists from. check exits 1 when the file is damaged or left inconsistent; rebuild moves
// the database aside and indexes every imported folder, the store and the segmentations again.
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { defaultDataDir } from '../../host/app-paths.ts';
import { dbStats, type DbStats } from '../../host/db/db-index.ts';
import { regroupDirtyStudies } from '../../host/db/db-writer.ts';
import { readRootsFile } from '../../host/db/roots-file.ts';
import { checkDatabase, openStudyDb, studyDbPath } from '../../host/db/study-db.ts';
import { importDicom } from '../../host/dicom/importer.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';

const USAGE = `Usage: medreasoner db stats|check|rebuild [--data-dir <dir>] [--json]
  stats    patients, studies, series and files (indexed, missing, problems) in <dir>/studies.db
  check    SQLite's integrity check and the index's own consistency; exit 1 when either fails
  rebuild  move the database aside and index every imported folder, the store and the segmentations again
  --data-dir <dir>  the app's data folder (default: $MEDREASONER_HOME or the per-OS folder)`;

export async function runDbCommand(args: string[], io: CliIO): Promise<number> {
  let sub: string | undefined;
  let dataDir = defaultDataDir();
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      io.out(USAGE);
      return EXIT_OK;
    } else if (arg === '--json') json = true;
    else if (arg === '--data-dir' || arg.startsWith('--data-dir=')) {
      const value = arg === '--data-dir' ? args[++i] : arg.slice('--data-dir='.length);
      if (!value) {
        io.err(`db: --data-dir needs a folder\n\n${USAGE}`);
        return EXIT_USAGE;
      }
      dataDir = path.resolve(value);
    } else if (sub === undefined && !arg.startsWith('-')) sub = arg;
    else {
      io.err(`db: unexpected argument ${arg}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  const dbPath = studyDbPath(dataDir);
  switch (sub) {
    case 'stats':
      return stats(dbPath, json, io);
    case 'check':
      return check(dbPath, json, io);
    case 'rebuild':
      return rebuild(dataDir, dbPath, json, io);
    default:
      io.err(`db: give stats, check or rebuild\n\n${USAGE}`);
      return EXIT_USAGE;
  }
}

function stats(dbPath: string, json: boolean, io: CliIO): number {
  if (!existsSync(dbPath)) {
    io.err(`db: there is no study database at ${dbPath} yet`);
    return EXIT_FAILED;
  }
  const opened = openStudyDb(dbPath);
  try {
    const s = dbStats(opened.db);
    const bytes = statSync(dbPath).size;
    if (json) io.out(`${JSON.stringify({ path: dbPath, bytes, ...s }, null, 2)}\n`);
    else io.out(formatStats(dbPath, bytes, s));
    return EXIT_OK;
  } finally {
    opened.db.close();
  }
}

function formatStats(dbPath: string, bytes: number, s: DbStats): string {
  return [
    `${dbPath} (schema ${s.schemaVersion}, ${(bytes / 1048576).toFixed(1)} MiB)`,
    `  ${s.patients} patient(s), ${s.studies} study(ies), ${s.series} series`,
    `  ${s.files} file(s): ${s.indexed} indexed, ${s.missing} missing, ${s.problems} with problems`,
    `  ${s.roots} imported root(s); ${s.dirtyStudies} study(ies) waiting to be re-grouped`,
    '',
  ].join('\n');
}

function check(dbPath: string, json: boolean, io: CliIO): number {
  if (!existsSync(dbPath)) {
    io.err(`db: there is no study database at ${dbPath} yet`);
    return EXIT_FAILED;
  }
  const findings: string[] = [];
  const damage = checkDatabase(dbPath, true);
  if (damage !== null) findings.push(damage);
  else {
    const opened = openStudyDb(dbPath);
    try {
      const db = opened.db;
      const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
      const dirty = count('SELECT count(*) AS n FROM dirty_studies');
      if (dirty > 0) findings.push(`${dirty} study(ies) have files not yet grouped into series (an import was interrupted; the next import or rebuild finishes them)`);
      const orphans = count("SELECT count(DISTINCT study_instance_uid) AS n FROM files WHERE state = 'indexed' AND study_instance_uid IS NOT NULL AND study_instance_uid NOT IN (SELECT study_instance_uid FROM studies)");
      if (orphans > 0) findings.push(`${orphans} study(ies) with indexed files are not listed`);
      const countsOff = count('SELECT count(*) AS n FROM studies s WHERE s.instance_count <> (SELECT coalesce(sum(instance_count), 0) FROM series WHERE study_instance_uid = s.study_instance_uid)');
      if (countsOff > 0) findings.push(`${countsOff} study(ies) whose instance count does not match their series`);
    } finally {
      opened.db.close();
    }
  }
  if (json) io.out(`${JSON.stringify({ path: dbPath, ok: findings.length === 0, findings }, null, 2)}\n`);
  else io.out(findings.length === 0 ? `${dbPath}: ok\n` : `${dbPath}:\n${findings.map((f) => `  ${f}`).join('\n')}\n`);
  return findings.length === 0 ? EXIT_OK : EXIT_FAILED;
}

async function rebuild(dataDir: string, dbPath: string, json: boolean, io: CliIO): Promise<number> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let roots = readRootsFile(dbPath);
  if (existsSync(dbPath)) {
    if (checkDatabase(dbPath, false) === null) {
      const opened = openStudyDb(dbPath);
      const fromDb = (opened.db.prepare('SELECT path FROM roots').all() as Array<{ path: string }>).map((r) => r.path);
      opened.db.close();
      roots = [...new Set([...roots, ...fromDb])];
    }
    const aside = `${dbPath}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dbPath, aside);
    for (const suffix of ['-wal', '-shm']) if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
    io.err(`db: the old database is kept as ${aside}`);
  }
  const own = ['store', 'segmentations', 'sample'].map((f) => path.join(dataDir, f)).filter((f) => existsSync(f));
  const paths = [...new Set([...own, ...roots])].filter((p) => existsSync(p));
  const opened = openStudyDb(dbPath);
  regroupDirtyStudies(opened.db);
  opened.db.close();
  const outcome = paths.length > 0 ? await importDicom({ paths, dbPath }) : null;
  const check = openStudyDb(dbPath);
  const s = dbStats(check.db);
  check.db.close();
  if (json) io.out(`${JSON.stringify({ path: dbPath, paths, elapsedMs: Math.round(outcome?.elapsedMs ?? 0), ...s }, null, 2)}\n`);
  else io.out(`Rebuilt ${dbPath} from ${paths.length} folder(s) in ${((outcome?.elapsedMs ?? 0) / 1000).toFixed(1)} s.\n${formatStats(dbPath, statSync(dbPath).size, s)}`);
  return EXIT_OK;
}
