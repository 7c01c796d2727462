// The outbox on disk: <dir>/items/<id>/ holds instance.dcm (our own copy of what is to
// be sent) and state.json (where it stands). An item is built in <dir>/staging/<id>/
// and renamed into items/ in one step, so an item either exists whole or not at all;
// state.json is replaced atomically on every change. Plain files rather than a
// database: one item's damage stays with that item, any tool can read them, and
// Electron's Node and ours need no native module or experimental API (node:sqlite).
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { OutboxState, PacsFailure, PacsNode, type OutboxItemView } from '../../common/contract-pacs.ts';
import { mkdirPrivate, PRIVATE_FILE_MODE, readJsonIfExists, syncDirectory, writeJsonAtomic } from '../atomic-file.ts';

export const OutboxTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('saved'), name: z.string() }),
  /** An ad-hoc node (CLI address): kept whole, since no settings entry describes it. */
  z.object({ kind: z.literal('inline'), node: PacsNode }),
]);
export type OutboxTarget = z.infer<typeof OutboxTarget>;

export const OutboxRecord = z.object({
  version: z.literal(1),
  id: z.string(),
  batchId: z.string(),
  target: OutboxTarget,
  label: z.string(),
  sopInstanceUid: z.string(),
  sopClassUid: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  modality: z.string(),
  transferSyntaxUid: z.string(),
  datasetOffset: z.number().int().nonnegative(),
  sourcePath: z.string(),
  bytes: z.number().int().nonnegative(),
  state: OutboxState,
  attempts: z.number().int().nonnegative(),
  createdAt: z.string(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  lastFailure: PacsFailure.nullable(),
  uncertain: z.boolean(),
  confirmedBy: z.enum(['store-response', 'pacs-query']).nullable(),
});
export type OutboxRecord = z.infer<typeof OutboxRecord>;

const STATE_FILE = 'state.json';
export const PAYLOAD_FILE = 'instance.dcm';

/** Sortable by creation time, unique without coordination between processes. */
export function newId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}

export function targetKey(target: OutboxTarget): string {
  if (target.kind === 'saved') return `saved:${target.name.trim().toLowerCase()}`;
  const node = target.node;
  return node.type === 'dimse'
    ? `dimse:${node.calledAet}@${node.host}:${node.port}:${node.callingAet}:${node.tls}`
    : `dicomweb:${node.baseUrl.replace(/\/+$/, '')}`;
}

export function viewOfRecord(record: OutboxRecord): OutboxItemView {
  return {
    id: record.id,
    batchId: record.batchId,
    node: record.label,
    sopInstanceUid: record.sopInstanceUid,
    sopClassUid: record.sopClassUid,
    studyInstanceUid: record.studyInstanceUid,
    seriesInstanceUid: record.seriesInstanceUid,
    modality: record.modality,
    sourcePath: record.sourcePath,
    bytes: record.bytes,
    state: record.state,
    attempts: record.attempts,
    createdAt: record.createdAt,
    lastAttemptAt: record.lastAttemptAt,
    nextAttemptAt: record.nextAttemptAt,
    deliveredAt: record.deliveredAt,
    lastFailure: record.lastFailure,
    uncertain: record.uncertain,
    confirmedBy: record.confirmedBy,
  };
}

export class OutboxStore {
  readonly dir: string;
  readonly itemsDir: string;
  readonly stagingDir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.itemsDir = path.join(this.dir, 'items');
    this.stagingDir = path.join(this.dir, 'staging');
  }

  async ensure(): Promise<void> {
    await mkdirPrivate(this.itemsDir);
    await mkdirPrivate(this.stagingDir);
  }

  payloadPath(id: string): string {
    return path.join(this.itemsDir, id, PAYLOAD_FILE);
  }

  /** Copies the file and its record into staging, flushes both, then publishes the item with one rename. */
  async add(source: string, record: OutboxRecord): Promise<void> {
    // Named by process: a worker clears only the leftovers of processes that are gone.
    const staging = path.join(this.stagingDir, `${process.pid}.${record.id}`);
    await mkdirPrivate(staging);
    try {
      const payload = path.join(staging, PAYLOAD_FILE);
      await copyFile(source, payload);
      // copyFile keeps the source's mode (often 0644); the queued copy is ours, owner-only.
      await chmod(payload, PRIVATE_FILE_MODE);
      await syncFile(payload);
      await writeJsonAtomic(path.join(staging, STATE_FILE), record);
      await rename(staging, path.join(this.itemsDir, record.id));
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    await syncDirectory(this.itemsDir);
  }

  async write(record: OutboxRecord): Promise<void> {
    await writeJsonAtomic(path.join(this.itemsDir, record.id, STATE_FILE), record);
  }

  async dropPayload(id: string): Promise<void> {
    await rm(this.payloadPath(id), { force: true });
  }

  async remove(id: string): Promise<void> {
    await rm(path.join(this.itemsDir, id), { recursive: true, force: true });
  }

  /** Every item, oldest first. A record that does not parse is reported, not silently dropped. */
  async readAll(onBadRecord?: (id: string, reason: string) => void): Promise<OutboxRecord[]> {
    let ids: string[];
    try {
      ids = (await readdir(this.itemsDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    ids.sort();
    const records: OutboxRecord[] = [];
    for (const id of ids) {
      try {
        const raw = await readJsonIfExists(path.join(this.itemsDir, id, STATE_FILE));
        if (raw === undefined) {
          onBadRecord?.(id, 'no state.json');
          continue;
        }
        const parsed = OutboxRecord.safeParse(raw);
        if (parsed.success) records.push(parsed.data);
        else onBadRecord?.(id, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      } catch (error) {
        onBadRecord?.(id, error instanceof Error ? error.message : String(error));
      }
    }
    return records;
  }

  /** Leftovers of enqueues that died half-way (never published, so never reported as queued). */
  async clearStaging(isAlive: (pid: number) => boolean): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.stagingDir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const pid = Number(entry.split('.')[0]);
      if (!Number.isInteger(pid) || !isAlive(pid)) await rm(path.join(this.stagingDir, entry), { recursive: true, force: true });
    }
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
