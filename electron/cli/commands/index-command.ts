// `medreasoner index <path>… [--json]`: index files, folders or DICOMDIRs and report
// every file. Exit 0 when the import ran (problems with files are part of the report),
// 2 for usage errors.
import { formatIndexText, toIndexJson } from '../../host/dicom/index-report.ts';
import { importDicom } from '../../host/dicom/importer.ts';
import { EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';

const USAGE = 'usage: medreasoner index <path>... [--json]\n';

export async function runIndexCommand(args: string[], io: CliIO): Promise<number> {
  const paths: string[] = [];
  let json = false;
  let onlyPaths = false;
  for (const arg of args) {
    if (!onlyPaths && arg === '--') onlyPaths = true;
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
  const outcome = await importDicom({ paths });
  io.out(json ? `${JSON.stringify(toIndexJson(outcome), null, 2)}\n` : formatIndexText(outcome));
  return EXIT_OK;
}
