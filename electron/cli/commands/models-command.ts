// `medreasoner models list | status | install <id> --from <folder> | install <id> --from-hub |
// verify [<id>] | remove <id>`, each with [--models <dir>] and (list, status, verify) [--json].
// Exit 0 on success, 1 when something failed (a verification problem, an install refused),
// 2 on usage errors.
import path from 'node:path';
import { decideExecutionProvider } from '../../host/inference/execution-provider.ts';
import { inferenceStatus, modelsList } from '../../host/inference/model-status.ts';
import { installFromHub } from '../../host/models/hub-download.ts';
import { installFromFolder, ModelInstallError, removeModel, verifyInstalled } from '../../host/models/install.ts';
import { ManifestError } from '../../host/models/manifest.ts';
import { knownManifests, listInstalled, resolveModelsDir } from '../../host/models/registry.ts';
import { parseOptions, single, UsageError, type CommandIO, type ParsedOptions } from './ask-command.ts';

const USAGE = `usage: medreasoner models <command> [--models <dir>]

  list [--json]                    models the app knows, and what the models folder holds
  status [--json]                  execution provider, and what the CRM and ASM will run with
  install <id> --from <folder>     install an exported model folder (copied, sha256-verified)
  install <id> --from-hub          download a published copy (resumable), then install it
  verify [<id>] [--json]           check every installed file's size and sha256
  remove <id>                      delete an installed model

  --models <dir>  models folder (default: MEDREASONER_MODELS, else <app data>/models)
`;

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Progress lines at most every 10 % (the CLI io writes whole lines). */
function progressReporter(io: CommandIO, verb: string) {
  let lastDecile = -1;
  let lastFile = '';
  return (file: string, done: number, total: number | null) => {
    const decile = total ? Math.floor((done / total) * 10) : -1;
    if (file !== lastFile || decile !== lastDecile) {
      lastFile = file;
      lastDecile = decile;
      io.err(`${verb} ${file}: ${megabytes(done)}${total ? ` of ${megabytes(total)} (${Math.min(100, decile * 10)} %)` : ''}`);
    }
  };
}

export async function runModelsCommand(args: string[], io: CommandIO): Promise<number> {
  let options: ParsedOptions;
  try {
    options = parseOptions(args, { values: ['models', 'from'], flags: ['json', 'help', 'from-hub'] });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner models: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const [command, ...rest] = options.positional;
  if (options.flags.has('help') || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`medreasoner models: ${message}\n${USAGE}`);
    return 2;
  };
  const models = resolveModelsDir(single(options, 'models'));
  const json = options.flags.has('json');
  try {
    switch (command) {
      case 'list': {
        if (rest.length > 0) return usage(`list takes no arguments`);
        const list = await modelsList(models);
        if (json) {
          io.out(`${JSON.stringify(list, null, 2)}\n`);
          return 0;
        }
        const lines = [`Models folder: ${list.modelsDir} (${list.modelsDirSource})`, '', 'Known models:'];
        for (const m of list.known) lines.push(`  ${m.id.padEnd(18)} ${m.role.toUpperCase()}  ${m.displayName} — ${m.licence}; ${m.downloadable ? 'downloadable (--from-hub)' : `export with native-models/${m.exportScript ?? '?'}`}`);
        lines.push('', 'Installed:');
        if (list.installed.length === 0) lines.push('  (none)');
        for (const m of list.installed) {
          const variants = m.variants.map((v) => `${v.name}${v.complete ? '' : ' (incomplete)'}`).join(', ');
          lines.push(`  ${m.id.padEnd(18)} ${(m.role ?? '?').toUpperCase()}  ${m.manifestProblem ?? `${m.displayName}${m.testFixture ? ' [test fixture]' : ''}; variants: ${variants}${m.usable ? '' : ' — NOT USABLE'}`}`);
        }
        io.out(lines.join('\n'));
        return 0;
      }
      case 'status': {
        if (rest.length > 0) return usage(`status takes no arguments`);
        const status = await inferenceStatus(models, await decideExecutionProvider());
        if (json) {
          io.out(`${JSON.stringify(status, null, 2)}\n`);
          return 0;
        }
        const role = (r: typeof status.crm) => `${r.state.toUpperCase()}: ${r.label}${r.message ? `\n    ${r.message.replace(/\n/g, '\n    ')}` : ''}`;
        io.out(
          [
            `Execution provider: ${status.provider.name.toUpperCase()} — ${status.provider.reason}`,
            `Models folder: ${status.modelsDir} (${status.modelsDirSource})`,
            `CRM (reasoning): ${role(status.crm)}`,
            `ASM (segmentation): ${role(status.asm)}`,
          ].join('\n'),
        );
        return 0;
      }
      case 'install': {
        const [id, ...extra] = rest;
        if (!id || extra.length > 0) return usage('install needs exactly one model id');
        const from = single(options, 'from');
        const fromHub = options.flags.has('from-hub');
        if ((from === undefined) === !fromHub) return usage('install needs --from <folder> or --from-hub (one of them)');
        const known = await knownManifests();
        const note = (text: string) => io.err(`note: ${text}`);
        let result;
        if (fromHub) {
          const manifest = known.find((m) => m.id === id);
          if (!manifest) return usage(`no known model "${id}" (known: ${known.map((m) => m.id).join(', ')})`);
          const report = progressReporter(io, 'downloading');
          result = await installFromHub({ manifest, modelsDir: models.dir, known, onNote: note, onProgress: (p) => report(p.file, p.bytesDone, p.bytesTotal) });
        } else {
          const report = progressReporter(io, 'copying');
          result = await installFromFolder({ id, from: path.resolve(from!), modelsDir: models.dir, known, onNote: note, onProgress: (p) => report(p.file, p.bytesDone, p.bytesTotal) });
        }
        io.out(`Installed ${result.id} (${result.variants.join(', ')}): ${result.files} files, ${megabytes(result.bytes)}, sha256-verified, in ${result.dir}`);
        return 0;
      }
      case 'verify': {
        if (rest.length > 1) return usage('verify takes at most one model id');
        const installed = await listInstalled(models.dir);
        const targets = rest[0] ? installed.filter((m) => m.id === rest[0] || path.basename(m.dir) === rest[0]) : installed;
        if (rest[0] && targets.length === 0) {
          io.err(`medreasoner models: "${rest[0]}" is not installed in ${models.dir}`);
          return 1;
        }
        const results = [];
        for (const target of targets) {
          const { model, problems } = await verifyInstalled(target.dir);
          results.push({ id: model.id, dir: model.dir, ok: problems.length === 0, problems });
        }
        if (json) io.out(`${JSON.stringify({ modelsDir: models.dir, models: results }, null, 2)}\n`);
        else {
          if (results.length === 0) io.out(`No models installed in ${models.dir}.`);
          for (const r of results) io.out(r.ok ? `${r.id}: OK (every file's size and sha256 match)` : `${r.id}: ${r.problems.length} problem(s)\n${r.problems.map((p) => `  - ${p.message}`).join('\n')}`);
        }
        return results.every((r) => r.ok) ? 0 : 1;
      }
      case 'remove': {
        const [id, ...extra] = rest;
        if (!id || extra.length > 0) return usage('remove needs exactly one model id');
        if (!(await removeModel(models.dir, id))) {
          io.err(`medreasoner models: "${id}" is not installed in ${models.dir}`);
          return 1;
        }
        io.out(`Removed ${id} from ${models.dir}`);
        return 0;
      }
      case undefined:
        return usage('give a command');
      default:
        return usage(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ModelInstallError || error instanceof ManifestError) {
      io.err(`medreasoner models: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
