// `medreasoner crm show|set|test|local`: the Models setting of which CRM answers, from the
// command line (the same <data>/crm-server.json the app's Models settings write). The API
// key is read from MEDREASONER_CRM_API_KEY, never from an argument (it would show in `ps`),
// and never printed.
import { defaultDataDir } from '../../host/app-paths.ts';
import { AUDIT_FILE } from '../../host/inference/remote/crm-audit.ts';
import { CrmServerConfigError } from '../../host/inference/remote/crm-server-config.ts';
import { probeServer } from '../../host/inference/remote/crm-server-probe.ts';
import { completeServer, CrmSettingsStore, viewOfServer, type CrmSettings } from '../../host/inference/remote/crm-server-settings.ts';
import type { CliIO } from '../cli-io.ts';
import { parseOptions, requireValue, single, UsageError } from './ask-command.ts';
import { API_KEY_ENV } from './crm-server-options.ts';
import path from 'node:path';

const USAGE = `usage: medreasoner crm show [--json]
       medreasoner crm set --url <base url> --model <id> [--name <n>] [--timeout <s>] [--in-flight <n>]
                           [--allow-insecure-http] [--clear-key] [--local]
       medreasoner crm test [--json]
       medreasoner crm local

  show   which CRM answers asks (the local model or a GPU server) and the server's settings
  set    save the server and make it answer (--local: save it but keep the local model);
         the API key is taken from ${API_KEY_ENV} when set, else the stored one is kept
         while the server's origin stays the same
  test   the connection test: what the server lists and whether the model answers (no image)
  local  the local model answers again (the server's settings are kept)
`;

function describe(settings: CrmSettings, dataDir: string): string {
  const lines = [`CRM: ${settings.mode === 'server' && settings.server ? `${settings.server.model} on ${settings.server.name} (${new URL(settings.server.baseUrl).origin})` : 'the local model'}`];
  if (settings.server) {
    const v = viewOfServer(settings.server);
    lines.push(`Server: ${v.name} ${v.baseUrl}, model ${v.model}, API key ${v.apiKeySet ? 'stored' : 'none'}, timeout ${v.timeoutS} s, ${v.maxInFlight} in flight${v.insecureConfirmed ? ', plain HTTP confirmed' : ''}`);
  }
  lines.push(`Audit log: ${path.join(dataDir, AUDIT_FILE)}`);
  return lines.join('\n');
}

export async function runCrmCommand(args: string[], io: CliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = args;
  const dataDir = defaultDataDir(env);
  const store = new CrmSettingsStore(dataDir);
  try {
    const options = parseOptions(rest, { values: ['url', 'model', 'name', 'timeout', 'in-flight'], flags: ['json', 'allow-insecure-http', 'clear-key', 'local', 'help'] });
    if (sub === undefined || sub === 'help' || options.flags.has('help')) {
      (sub === undefined ? io.err : io.out)(USAGE);
      return sub === undefined ? 2 : 0;
    }
    const json = options.flags.has('json');
    switch (sub) {
      case 'show': {
        const settings = await store.load();
        io.out(json ? `${JSON.stringify({ mode: settings.mode, server: settings.server ? viewOfServer(settings.server) : null, auditLog: path.join(dataDir, AUDIT_FILE) }, null, 2)}\n` : `${describe(settings, dataDir)}\n`);
        return 0;
      }
      case 'set': {
        const url = requireValue(options, 'url');
        const timeout = single(options, 'timeout');
        const inFlight = single(options, 'in-flight');
        if (timeout !== undefined && !(Number(timeout) > 0)) throw new UsageError(`--timeout must be seconds > 0, got "${timeout}"`);
        if (inFlight !== undefined && !/^\d+$/.test(inFlight)) throw new UsageError(`--in-flight must be a whole number, got "${inFlight}"`);
        const key = env[API_KEY_ENV];
        const saved = await store.saveServer(
          {
            name: single(options, 'name') ?? new URL(url).host,
            baseUrl: url,
            model: requireValue(options, 'model'),
            ...(key ? { apiKey: key } : {}),
            ...(options.flags.has('clear-key') ? { clearApiKey: true } : {}),
            ...(timeout !== undefined ? { timeoutS: Number(timeout) } : {}),
            ...(inFlight !== undefined ? { maxInFlight: Number(inFlight) } : {}),
            insecureConfirmed: options.flags.has('allow-insecure-http'),
          },
          options.flags.has('local') ? 'local' : 'server',
        );
        io.out(`${describe(saved, dataDir)}\n`);
        return 0;
      }
      case 'test': {
        const settings = await store.load();
        if (!settings.server) {
          io.err('medreasoner crm test: no server is configured (medreasoner crm set --url … --model …)');
          return 1;
        }
        const probe = await probeServer(completeServer({ ...settings.server }, settings.server));
        if (json) io.out(`${JSON.stringify(probe, null, 2)}\n`);
        else if (probe.ok) io.out(`OK: ${probe.origin} answers for ${settings.server.model}${probe.answeredAs ? ` (as ${probe.answeredAs})` : ''}; ${probe.models === null ? (probe.modelsNote ?? 'it does not list its models') : `it lists ${probe.models.join(', ') || 'nothing'}`} (${Math.round(probe.ms)} ms)\n`);
        else io.err(`medreasoner crm test: ${probe.failure?.message ?? 'the server did not answer'}`);
        return probe.ok ? 0 : 1;
      }
      case 'local':
        io.out(`${describe(await store.useLocal(), dataDir)}\n`);
        return 0;
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof CrmServerConfigError) {
      io.err(`medreasoner crm: ${error.message}\n${error instanceof UsageError ? USAGE : ''}`);
      return 2;
    }
    throw error;
  }
}
