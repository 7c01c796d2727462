// Which CRM answers (the local ONNX model or a GPU server) and the server's settings, in
// <data>/crm-server.json, written atomically with owner-only permissions like the PACS nodes
// (pacs-settings.ts): the API key lives only here. What leaves the host goes through
// viewOfServer (the key becomes apiKeySet). A key is kept across edits only while the
// server's origin stays the same, so it is never sent to a host it was not given for.
import path from 'node:path';
import { z } from 'zod';
import { readJsonIfExists, writeJsonAtomic } from '../../atomic-file.ts';
import { CrmServerConfig, CrmServerConfigError, parseServerConfig, serverOrigin, type CrmServerConfigInput } from './crm-server-config.ts';

export const CRM_SETTINGS_FILE = 'crm-server.json';

export const CrmSettings = z.object({
  version: z.literal(1),
  mode: z.enum(['local', 'server']),
  server: CrmServerConfig.nullable(),
});
export type CrmSettings = z.infer<typeof CrmSettings>;

export type CrmServerView = Omit<CrmServerConfig, 'apiKey'> & { apiKeySet: boolean; origin: string };

export function viewOfServer(config: CrmServerConfig): CrmServerView {
  const { apiKey, ...rest } = config;
  return { ...rest, apiKeySet: apiKey !== undefined && apiKey.length > 0, origin: serverOrigin(config) };
}

/** What the settings UI sends: an omitted apiKey keeps the stored one (same origin only); clearApiKey drops it. */
export type CrmServerInput = Omit<CrmServerConfigInput, 'apiKey'> & { apiKey?: string; clearApiKey?: boolean };

export function completeServer(input: CrmServerInput, previous: CrmServerConfig | null): CrmServerConfig {
  const { clearApiKey, apiKey, ...rest } = input;
  const candidate = parseServerConfig({ ...rest });
  const sameOrigin = previous !== null && serverOrigin(previous) === serverOrigin(candidate);
  const key = clearApiKey ? undefined : apiKey !== undefined && apiKey !== '' ? apiKey : sameOrigin ? previous.apiKey : undefined;
  return parseServerConfig({ ...rest, ...(key !== undefined ? { apiKey: key } : {}) });
}

export class CrmSettingsStore {
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, CRM_SETTINGS_FILE);
  }

  async load(): Promise<CrmSettings> {
    const raw = await readJsonIfExists(this.file).catch((error: unknown) => {
      throw new CrmServerConfigError(`${this.file} is not valid JSON (${(error as Error).message}); fix or remove it.`);
    });
    if (raw === undefined) return { version: 1, mode: 'local', server: null };
    const parsed = CrmSettings.safeParse(raw);
    if (!parsed.success) throw new CrmServerConfigError(`${this.file} does not hold valid CRM settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  update(change: (settings: CrmSettings) => CrmSettings): Promise<CrmSettings> {
    const run = this.queue.then(async () => {
      const next = CrmSettings.parse(change(await this.load()));
      if (next.mode === 'server' && next.server === null) throw new CrmServerConfigError('choose a server before switching the CRM to it');
      await writeJsonAtomic(this.file, next);
      return next;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  saveServer(input: CrmServerInput, mode?: CrmSettings['mode']): Promise<CrmSettings> {
    return this.update((settings) => ({ ...settings, server: completeServer(input, settings.server), mode: mode ?? settings.mode }));
  }

  useLocal(): Promise<CrmSettings> {
    return this.update((settings) => ({ ...settings, mode: 'local' }));
  }

  /** The server the CRM answers from now, or null for the local model. */
  async active(): Promise<CrmServerConfig | null> {
    const settings = await this.load();
    return settings.mode === 'server' ? settings.server : null;
  }
}
