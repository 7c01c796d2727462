// PACS nodes and the storage listener's settings, in <dataDir>/pacs-nodes.json.
// Written atomically with owner-only permissions: the file holds DICOMweb passwords
// and tokens. Whatever leaves the host (listings, logs, errors) goes through
// viewOfNode, which replaces each secret by whether it is set.
import path from 'node:path';
import { z } from 'zod';
import {
  ListenerSettings,
  PacsNode,
  PacsNodeInput,
  type PacsNodeView,
} from '../../common/contract-pacs.ts';
import { readJsonIfExists, writeJsonAtomic } from '../atomic-file.ts';

export const SETTINGS_FILE = 'pacs-nodes.json';

export const PacsSettings = z.object({
  version: z.literal(2),
  nodes: z.array(PacsNode),
  listener: ListenerSettings,
});
export type PacsSettings = z.infer<typeof PacsSettings>;

export function defaultSettings(): PacsSettings {
  return { version: 2, nodes: [], listener: ListenerSettings.parse({}) };
}

/**
 * Version 1 wrote the listener's default bind address, 0.0.0.0, into every file, so a
 * 0.0.0.0 there says nothing about what the user chose: it becomes the new default,
 * loopback. Any other address was typed by someone and is kept.
 */
function migrate(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || (raw as { version?: unknown }).version !== 1) return raw;
  const v1 = raw as { listener?: Record<string, unknown> };
  const listener = { ...(v1.listener ?? {}) };
  if (listener.bindAddress === '0.0.0.0') delete listener.bindAddress;
  return { ...v1, version: 2, listener };
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export class PacsSettingsStore {
  readonly file: string;
  /** Serializes read-modify-write cycles within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, SETTINGS_FILE);
  }

  async load(): Promise<PacsSettings> {
    const raw = await readJsonIfExists(this.file).catch((error: unknown) => {
      throw new SettingsError(`${this.file} is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix or remove it.`);
    });
    if (raw === undefined) return defaultSettings();
    const parsed = PacsSettings.safeParse(migrate(raw));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ');
      throw new SettingsError(`${this.file} does not hold valid PACS settings: ${issues}`);
    }
    return parsed.data;
  }

  /** Applies a change to the current settings and saves the result atomically. */
  update(change: (settings: PacsSettings) => PacsSettings): Promise<PacsSettings> {
    const run = this.queue.then(async () => {
      const next = PacsSettings.parse(change(await this.load()));
      await writeJsonAtomic(this.file, next);
      return next;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  async node(name: string): Promise<PacsNode | undefined> {
    const settings = await this.load();
    return settings.nodes.find((node) => sameName(node.name, name));
  }

  /** Adds or replaces by name (originalName renames). An omitted secret keeps the stored one. */
  saveNode(input: PacsNodeInput, originalName?: string): Promise<PacsSettings> {
    return this.update((settings) => {
      const previousName = originalName ?? PacsNodeInput.parse(input).name;
      const previous = settings.nodes.find((node) => sameName(node.name, previousName));
      const node = completeNode(input, previous);
      const clash = settings.nodes.find((other) => sameName(other.name, node.name) && other !== previous);
      if (clash) throw new SettingsError(`A node named "${node.name}" exists already.`);
      const nodes = previous ? settings.nodes.map((other) => (other === previous ? node : other)) : [...settings.nodes, node];
      return { ...settings, nodes };
    });
  }

  removeNode(name: string): Promise<PacsSettings> {
    return this.update((settings) => {
      if (!settings.nodes.some((node) => sameName(node.name, name))) throw new SettingsError(`No PACS node named "${name}".`);
      return { ...settings, nodes: settings.nodes.filter((node) => !sameName(node.name, name)) };
    });
  }

  saveListener(change: Partial<ListenerSettings>): Promise<PacsSettings> {
    return this.update((settings) => ({ ...settings, listener: ListenerSettings.parse({ ...settings.listener, ...change }) }));
  }
}

/** Node names are matched without regard to case: "Main PACS" and "main pacs" are one node. */
export function sameName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Scheme, host and port: the server a secret was given for. */
export function urlOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * A full node from what the renderer sent, taking omitted secrets from the stored node of
 * that name — only when the stored node's base URL has the same origin. A name is not a
 * server: without this, testing "Main PACS" at http://elsewhere/ would hand the stored
 * token to elsewhere.
 */
export function completeNode(input: PacsNodeInput, previous?: PacsNode): PacsNode {
  const parsed = PacsNodeInput.parse(input);
  if (parsed.type === 'dimse') return parsed;
  const auth = parsed.auth;
  const origin = urlOrigin(parsed.baseUrl);
  const sameServer = previous?.type === 'dicomweb' && origin !== null && urlOrigin(previous.baseUrl) === origin;
  const previousAuth = sameServer && previous.type === 'dicomweb' ? previous.auth : undefined;
  const elsewhere =
    previous?.type === 'dicomweb' && !sameServer ? ` (the stored one was saved for ${urlOrigin(previous.baseUrl) ?? previous.baseUrl} and is not sent to ${origin ?? parsed.baseUrl})` : '';
  if (auth.type === 'basic') {
    const password = auth.password ?? (previousAuth?.type === 'basic' ? previousAuth.password : undefined);
    if (!password) throw new SettingsError(`Node "${parsed.name}": basic authentication needs a password${elsewhere}.`);
    return { ...parsed, auth: { type: 'basic', username: auth.username, password } };
  }
  if (auth.type === 'bearer') {
    const token = auth.token ?? (previousAuth?.type === 'bearer' ? previousAuth.token : undefined);
    if (!token) throw new SettingsError(`Node "${parsed.name}": bearer authentication needs a token${elsewhere}.`);
    return { ...parsed, auth: { type: 'bearer', token } };
  }
  return { ...parsed, auth: { type: 'none' } };
}

export function viewOfNode(node: PacsNode): PacsNodeView {
  if (node.type === 'dimse') return { ...node };
  const { auth } = node;
  const view =
    auth.type === 'basic'
      ? { type: 'basic' as const, username: auth.username, passwordSet: auth.password.length > 0 }
      : auth.type === 'bearer'
        ? { type: 'bearer' as const, tokenSet: auth.token.length > 0 }
        : { type: 'none' as const };
  return { ...node, auth: view };
}

/** How a node is named in messages and logs: never a secret. */
export function describePacsNode(node: PacsNode): string {
  return node.type === 'dimse' ? `${node.name} (${node.calledAet}@${node.host}:${node.port})` : `${node.name} (${node.baseUrl})`;
}
