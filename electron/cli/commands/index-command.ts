// `medreasoner index <path>… [--json] [--data-dir <dir> | --save]`: index files, folders or
// DICOMDIRs and report every file. With a data folder the import is written into its
// study database, the one the app lists from (and may have open: WAL and a busy timeout).
// Exit 0 when the import ran (problems with files are part of the report), 2 for usage errors.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { defaultDataDir } from '../../host/app-paths.ts';
import { openStudyDb, studyDbPath } from '../../host/db/study-db.ts';
import { formatIndexText, toIndexJson } from '../../host/dicom/index-report.ts';
import { importDicom } from '../../host/dicom/importer.ts';
import { EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';

const USAGE = 'usage: medreasoner index <path>... [--json] [--data-dir <dir> | --save]\n' +
  '  --data-dir <dir>  also write into <dir>/studies.db (the app\'s study database)\n' +
  '  --save            the same, into the default data folder ($MEDREASONER_HOME or the per-OS one)\n';

export async function runIndexCommand(args: string[], io: CliIO): Promise<number> {
  const paths: string[] = [];
  let json = false;
  let onlyPaths = false;
  let dataDir: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!onlyPaths && arg === '--') onlyPaths = true;
    else if (!onlyPaths && arg === '--save') dataDir = defaultDataDir();
    else if (!onlyPaths && (arg === '--data-dir' || arg.startsWith('--data-dir='))) {
      const value = arg === '--data-dir' ? args[++i] : arg.slice('--data-dir='.length);
      if (!value) {
        io.err(`medreasoner index: --data-dir needs a folder\n${USAGE}`);
        return EXIT_USAGE;
      }
      dataDir = path.resolve(value);
    }
    else if (!onlyPaths && arg === '--json') json = true;
    else if (!onlyPaths && (arg === '--help' || arg === '-h')) {
      io.out(USAGE);
      return EXIT_OK;
    } else if (!onlyPaths && arg.startsWith('-') && arg !== '-') {
      io.err(`medreasoner index: unknown option ${arg}\n${USAGE}`);
      return EXIT_USAGE;
    } else paths.push(arg);
  }
  if (paths.length === 0) {
    io.err(`medreasoner index: give at least one file, folder or DICOMDIR\n${USAGE}`);
    return EXIT_USAGE;
  }
  let dbPath: string | undefined;
  if (dataDir !== null) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    dbPath = studyDbPath(dataDir);
    const opened = openStudyDb(dbPath, { check: true });
    opened.db.close();
    if (opened.recovery) io.err(`medreasoner index: ${dbPath} could not be read (${opened.recovery.reason}); moved to ${opened.recovery.movedTo}, starting a new one (\`medreasoner db rebuild\` re-indexes everything).`);
  }
  const outcome = await importDicom({ paths, ...(dbPath ? { dbPath } : {}) });
  if (json) {
    io.out(`${JSON.stringify({ ...toIndexJson(outcome), ...(outcome.stored ? { database: { path: dbPath, ...outcome.stored } } : {}) }, null, 2)}\n`);
  } else {
    io.out(formatIndexText(outcome));
    if (outcome.stored) {
      const s = outcome.stored;
      io.out(`Written to ${dbPath}: ${s.instancesAdded} new image instance(s), ${s.unchanged} file(s) unchanged since the last index, ${s.markedMissing} marked missing.\n`);
    }
  }
  return EXIT_OK;
}
