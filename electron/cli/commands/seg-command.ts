// `medreasoner seg info <file> [--json]`: the segments of a DICOM-SEG with their codes
// and frame counts, the series it references, and what was read leniently.
// Exit 0 when the command ran, 1 when the file could not be read as a SEG, 2 on usage errors.
// writeMaskAsSeg is re-exported for the `segment` and `ask` commands (--seg, --sr).
import path from 'node:path';
import { formatSegInfo } from '../../host/seg/seg-info.ts';
import { inspectParsedSeg, readSegFile } from '../../host/seg/seg-jobs.ts';
import { SegReadError } from '../../host/seg/seg-reader.ts';
export { writeMaskAsSeg, type WriteMaskAsSegInput } from '../../host/seg/mask-to-seg.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const USAGE = `usage: medreasoner seg info <file> [--json]
  info   list a DICOM-SEG's segments (label, SNOMED CT category and type, algorithm,
         frames), the series it references, and anything read leniently
`;

export async function runSegCommand(args: string[], io: { out(s: string): void; err(s: string): void }): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) {
    io.err(`medreasoner seg: name a subcommand\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(USAGE);
    return EXIT_OK;
  }
  if (sub !== 'info') {
    io.err(`medreasoner seg: unknown subcommand "${sub}"\n${USAGE}`);
    return EXIT_USAGE;
  }
  let json = false;
  const files: string[] = [];
  let onlyPaths = false;
  for (const arg of rest) {
    if (!onlyPaths && arg === '--') onlyPaths = true;
    else if (!onlyPaths && arg === '--json') json = true;
    else if (!onlyPaths && (arg === '--help' || arg === '-h')) {
      io.out(USAGE);
      return EXIT_OK;
    } else if (!onlyPaths && arg.startsWith('-') && arg !== '-') {
      io.err(`medreasoner seg info: unknown option ${arg}\n${USAGE}`);
      return EXIT_USAGE;
    } else files.push(arg);
  }
  if (files.length !== 1) {
    io.err(`medreasoner seg info: give exactly one SEG file (got ${files.length})\n${USAGE}`);
    return EXIT_USAGE;
  }
  const file = path.resolve(files[0]!);
  try {
    const { info } = inspectParsedSeg(await readSegFile(file));
    io.out(json ? `${JSON.stringify({ file, ...info }, null, 2)}\n` : formatSegInfo(info, file));
    return EXIT_OK;
  } catch (error) {
    if (error instanceof SegReadError) {
      io.err(`medreasoner seg info: ${error.message}`);
      return EXIT_FAILED;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      io.err(`medreasoner seg info: cannot read ${file} (${code})`);
      return EXIT_FAILED;
    }
    throw error;
  }
}
