// The CLI's choice of CRM: --server <url> --server-model <id> asks that OpenAI-compatible
// server (key from MEDREASONER_CRM_API_KEY: a key on the command line would show in `ps`),
// --local the installed model, and neither what Models settings chose (<data>/crm-server.json).
import { defaultDataDir } from '../../host/app-paths.ts';
import { CrmServerConfigError, parseServerConfig } from '../../host/inference/remote/crm-server-config.ts';
import { CrmSettingsStore } from '../../host/inference/remote/crm-server-settings.ts';
import type { CrmServerChoice } from '../../host/inference/remote/remote-crm-loader.ts';
import { single, UsageError, type ParsedOptions } from './ask-command.ts';

export const API_KEY_ENV = 'MEDREASONER_CRM_API_KEY';

export const SERVER_VALUES = ['server', 'server-model', 'server-name', 'prompt', 'server-timeout', 'in-flight'] as const;
export const SERVER_FLAGS = ['allow-insecure-http', 'local'] as const;

export const SERVER_USAGE = `  --server <url>     ask the CRM on an OpenAI-compatible server (vLLM, SGLang, transformers serve),
                     e.g. https://gpu1:8000/v1; the API key is read from ${API_KEY_ENV}
  --server-model <id> the model id the server serves MedReasoner under (with --server)
  --server-name <n>  how the server is named in provenance and the audit log (default: its host)
  --prompt <file>    the model package's prompt.json (default: the installed MedReasoner package's)
  --server-timeout <s> longest silence from the server (default 120)
  --in-flight <n>    requests open at once against the server (default 4)
  --allow-insecure-http  send slices over plain HTTP to a host that is not this machine
  --local            use the installed model even when Models settings chose a server
`;

export async function crmServerChoice(options: ParsedOptions, env: NodeJS.ProcessEnv = process.env, dataDir = defaultDataDir(env)): Promise<CrmServerChoice | null> {
  const url = single(options, 'server');
  const model = single(options, 'server-model');
  const prompt = single(options, 'prompt');
  const inFlight = single(options, 'in-flight');
  const timeout = single(options, 'server-timeout');
  if (options.flags.has('local') && url !== undefined) throw new UsageError('--local and --server exclude each other');
  if (url === undefined && model !== undefined) throw new UsageError('--server-model needs --server');
  if (inFlight !== undefined && !/^\d+$/.test(inFlight)) throw new UsageError(`--in-flight must be a whole number, got "${inFlight}"`);
  if (timeout !== undefined && !(Number(timeout) > 0)) throw new UsageError(`--server-timeout must be seconds > 0, got "${timeout}"`);
  if (options.flags.has('local')) return null;
  try {
    if (url !== undefined) {
      if (model === undefined) throw new UsageError('--server needs --server-model <id> (the id the server serves the model under)');
      const apiKey = env[API_KEY_ENV];
      const config = parseServerConfig({
        name: single(options, 'server-name') ?? new URL(url).host,
        baseUrl: url,
        model,
        ...(apiKey ? { apiKey } : {}),
        ...(timeout !== undefined ? { timeoutS: Number(timeout) } : {}),
        ...(inFlight !== undefined ? { maxInFlight: Number(inFlight) } : {}),
        insecureConfirmed: options.flags.has('allow-insecure-http'),
      });
      return { config, auditDir: dataDir, ...(prompt !== undefined ? { promptFile: prompt } : {}) };
    }
    const active = await new CrmSettingsStore(dataDir).active();
    if (active === null) {
      if (prompt !== undefined) throw new UsageError('--prompt is for a CRM server (--server)');
      return null;
    }
    const config = inFlight !== undefined ? { ...active, maxInFlight: Number(inFlight) } : active;
    return { config, auditDir: dataDir, ...(prompt !== undefined ? { promptFile: prompt } : {}) };
  } catch (error) {
    if (error instanceof CrmServerConfigError) throw new UsageError(error.message);
    throw error;
  }
}
