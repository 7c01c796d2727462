// `medreasoner <command> …`: the host's services for scripts, batch use and tests.
import { createRequire } from 'node:module';
import { EXIT_OK, EXIT_USAGE, processIO, type CliIO } from './cli-io.ts';
import { runIndexCommand } from './commands/index-command.ts';
import { runSampleCommand } from './commands/sample-command.ts';
import { runServeCommand } from './commands/serve-command.ts';
import { runPacsCommand } from './commands/pacs-command.ts';
import { runOutboxCommand } from './commands/outbox-command.ts';
import { runAskCommand } from './commands/ask-command.ts';
import { runSegmentCommand } from './commands/segment-command.ts';
import { runModelsCommand } from './commands/models-command.ts';
import { runSegCommand } from './commands/seg-command.ts';
import { runDbCommand } from './commands/db-command.ts';
import { runEvalCommand } from './commands/eval-command.ts';
import { runCrmCommand } from './commands/crm-command.ts';

const USAGE = `Usage: medreasoner <command> [options]

Commands:
  index <path>… [--json] [--data-dir <dir> | --save]
                                Index DICOM files, folders or DICOMDIRs: patients, studies, series,
                                geometry warnings and per-file problems (--json: every file's outcome);
                                --data-dir/--save also write them into the app's study database
  db stats|check|rebuild [--data-dir <dir>] [--json]
                                The study database (<data>/studies.db): counts, integrity, re-index all
  sample <dir> [--size small|512]
                                Write the embedded synthetic CT sample (and its ground-truth masks)
  serve [--port N] [--no-open]  Start browser mode: the app on http://127.0.0.1 with a per-launch secret
  ask --series <dir> --slice <n> --question "…" [--out mask.png] [--json] [--models <dir>]
                                The CRM answers with reasoning, a box and two key points; the ASM makes the mask
                                Many slices in one process: --slices 10-40, several --series, or --batch
                                items.jsonl, with --results out.jsonl (resumable); --server <url>
                                --server-model <id> asks a GPU server (OpenAI API) instead of the local CRM
  eval <dataset> [--json] [--server <url> --server-model <id>]
                                The seed's evaluation of a U-MRG-14K-layout folder: box IoU, pDice, Dice,
                                overall and per super-category
  crm show|set|test|local       Which CRM answers: the local model or a GPU server (--url, --model; key in
                                MEDREASONER_CRM_API_KEY), and the connection test
  segment --series <dir> --slice <n> --box x0,y0,x1,y1 [--point x,y[,label]]… [--out mask.png] [--json]
                                A mask from prompts (MedSAM2 when installed, else the default segmenter)
  models list|status|install <id> [--from <folder> | --from-hub]|verify|remove
                                The models folder (--models <dir> or MEDREASONER_MODELS overrides it)
  seg info <file> [--json]      Segments, codes and frames of a DICOM-SEG
  pacs echo|find|get|send|node|listen <node> …
                                Query, retrieve and send over DIMSE or DICOMweb; a node is a saved name,
                                dimse://CALLED_AET@host:port (--aet: our AE title) or a DICOMweb base URL
  outbox list|flush|retry|remove
                                What waits to be sent to PACS, and sending it now
  help                          This text
  version                       The app version

Exit status: 0 when the command ran, 1 when it failed, 2 on usage errors.`;

type Command = (args: string[], io: CliIO) => Promise<number>;

const commands: Record<string, Command> = {
  index: runIndexCommand,
  db: runDbCommand,
  sample: runSampleCommand,
  serve: runServeCommand,
  ask: runAskCommand,
  segment: runSegmentCommand,
  models: runModelsCommand,
  seg: runSegCommand,
  eval: runEvalCommand,
  crm: runCrmCommand,
  pacs: (args, io) => runPacsCommand(args, io),
  outbox: (args, io) => runOutboxCommand(args, io),
};

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(USAGE);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === 'version' || name === '--version') {
    io.out((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    io.err(`Unknown command "${name}".\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return command(rest, io);
}
