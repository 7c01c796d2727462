// The outbox: what the user sends to a PACS is first copied to disk, then delivered in
// the background, retried with backoff while the PACS cannot be reached, and kept
// across restarts. Delivered once: when an attempt may have reached the PACS without
// us hearing the answer (connection lost after sending, app killed mid-send), the next
// attempt first asks the PACS for the SOP Instance UID and only sends if it is missing.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OutboxItemView, OutboxListing, PacsFailure, PacsNode } from '../../common/contract-pacs.ts';
import { readInstanceInfo } from './instance-info.ts';
import { OutboxStore, newId, targetKey, viewOfRecord, type OutboxRecord, type OutboxTarget } from './outbox-store.ts';
import { hasInstanceOnNode, storeOnNode, type InstanceIdentity, type StoreRequestItem } from './pacs-client.ts';
import type { StoreOutcome } from './dimse-scu.ts';
import { isTransient, pacsFailure, PacsError } from './pacs-failure.ts';
import { acquireWorkerLock } from './worker-lock.ts';
import { isProcessAlive } from '../process-alive.ts';

export interface OutboxTransport {
  store(node: PacsNode, items: StoreRequestItem[]): Promise<StoreOutcome[]>;
  hasInstance(node: PacsNode, instance: InstanceIdentity): Promise<{ found: boolean; failure: PacsFailure | null }>;
}

export const pacsTransport: OutboxTransport = { store: storeOnNode, hasInstance: hasInstanceOnNode };

export interface BackoffPolicy {
  /** Wait after the first failure; doubles with each further one. */
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 5 * 60_000 };

export interface OutboxOptions {
  dir: string;
  /** A saved node by name, at delivery time (so fixing a node's port fixes what waits for it). */
  resolveNode: (name: string) => Promise<PacsNode | undefined>;
  transport?: OutboxTransport;
  backoff?: Partial<BackoffPolicy>;
  /** How often to look for items queued by other processes, and for a lock to take over. */
  pollMs?: number;
  /** Instances per association (DIMSE) or request (STOW-RS). */
  batchSize?: number;
  /** Deliver in the background (the app). Off: only enqueue, list and explicit flushes (tests, CLI). */
  autoStart?: boolean;
  onChange?: (items: OutboxItemView[]) => void;
  log?: (message: string) => void;
}

export interface EnqueueResult {
  batchId: string;
  queued: OutboxItemView[];
  skipped: { path: string; reason: string }[];
}

export class OutboxBusyError extends Error {
  readonly holderPid: number | null;
  constructor(holderPid: number | null) {
    super(
      `Another MedReasoner process${holderPid ? ` (pid ${holderPid})` : ''} delivers this outbox; it sends what is queued. ` +
        'Flush, retry or remove items there, or close it first.',
    );
    this.name = 'OutboxBusyError';
    this.holderPid = holderPid;
  }
}

const DELIVERY_STATES_ACTIVE = new Set(['queued', 'sending', 'failed']);

/** How long the record of a delivered item stays listed (its file copy goes at delivery). */
export const DELIVERED_RECORD_DAYS = 30;

export class Outbox {
  readonly store: OutboxStore;
  private readonly options: OutboxOptions;
  private readonly transport: OutboxTransport;
  private readonly backoff: BackoffPolicy;
  private release: (() => Promise<void>) | undefined;
  private holderPid: number | null = null;
  /** Passes, retries and removals run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private enqueueChain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  private constructor(options: OutboxOptions) {
    this.options = options;
    this.store = new OutboxStore(options.dir);
    this.transport = options.transport ?? pacsTransport;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options);
    await outbox.store.ensure();
    await outbox.tryToDeliver();
    if (options.autoStart) outbox.schedule(0);
    return outbox;
  }

  /** Whether this object delivers (holds the folder's worker lock). */
  get delivering(): boolean {
    return this.release !== undefined;
  }

  /** Files and folders (searched recursively) to send to the target. */
  enqueue(target: OutboxTarget, label: string, paths: string[]): Promise<EnqueueResult> {
    this.assertOpen();
    // One at a time: two concurrent calls would both find an instance not yet queued and queue it twice.
    const run = this.enqueueChain.then(() => this.enqueueNow(target, label, paths));
    this.enqueueChain = run.catch(() => {});
    return run;
  }

  private async enqueueNow(target: OutboxTarget, label: string, paths: string[]): Promise<EnqueueResult> {
    this.assertOpen();
    const batchId = newId();
    const skipped: { path: string; reason: string }[] = [];
    const files: string[] = [];
    for (const input of paths) await collectFiles(path.resolve(input), files, skipped);
    const existing = await this.store.readAll();
    const key = targetKey(target);
    const active = new Map(
      existing.filter((record) => DELIVERY_STATES_ACTIVE.has(record.state) && targetKey(record.target) === key).map((record) => [record.sopInstanceUid, record]),
    );
    const queued: OutboxItemView[] = [];
    const now = new Date().toISOString();
    for (const file of files) {
      let info;
      try {
        info = await readInstanceInfo(file);
      } catch (error) {
        skipped.push({ path: file, reason: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const already = active.get(info.sopInstanceUid);
      if (already) {
        // Queued already (same instance, same node): one delivery is what the user wants.
        queued.push(viewOfRecord(already));
        continue;
      }
      const record: OutboxRecord = {
        version: 1,
        id: newId(),
        batchId,
        target,
        label,
        sopInstanceUid: info.sopInstanceUid,
        sopClassUid: info.sopClassUid,
        studyInstanceUid: info.studyInstanceUid,
        seriesInstanceUid: info.seriesInstanceUid,
        modality: info.modality,
        transferSyntaxUid: info.transferSyntaxUid,
        datasetOffset: info.datasetOffset,
        sourcePath: file,
        bytes: info.bytes,
        state: 'queued',
        attempts: 0,
        createdAt: now,
        lastAttemptAt: null,
        nextAttemptAt: now,
        deliveredAt: null,
        lastFailure: null,
        uncertain: false,
        confirmedBy: null,
      };
      await this.store.add(file, record);
      active.set(record.sopInstanceUid, record);
      queued.push(viewOfRecord(record));
    }
    const fresh = queued.filter((item) => item.batchId === batchId);
    if (fresh.length > 0) this.options.onChange?.(fresh);
    if (this.delivering && this.options.autoStart) this.schedule(0);
    return { batchId, queued, skipped };
  }

  async list(): Promise<OutboxListing> {
    const records = await this.store.readAll((id, reason) => this.options.log?.(`outbox item ${id} is unreadable: ${reason}`));
    return { items: records.map(viewOfRecord), delivering: this.delivering, delivererPid: this.delivering ? process.pid : this.holderPid };
  }

  /** Tries every queued item now, waiting ones included; resolves when that pass is done. */
  async flush(): Promise<OutboxListing> {
    this.assertOpen();
    await this.tryToDeliver();
    if (!this.delivering) throw new OutboxBusyError(this.holderPid);
    await this.serial(() => this.pass(true));
    return this.list();
  }

  /** Failed items (all, or those named) go back to the queue, due now. */
  async retry(ids?: string[]): Promise<OutboxListing> {
    this.assertOpen();
    await this.requireDelivering();
    await this.serial(async () => {
      const wanted = ids ? new Set(ids) : undefined;
      const changed: OutboxRecord[] = [];
      for (const record of await this.store.readAll()) {
        if (record.state !== 'failed' || (wanted && !wanted.has(record.id))) continue;
        const next: OutboxRecord = { ...record, state: 'queued', nextAttemptAt: new Date().toISOString() };
        await this.store.write(next);
        changed.push(next);
      }
      this.notify(changed);
    });
    if (this.options.autoStart) this.schedule(0);
    return this.list();
  }

  async remove(ids: string[]): Promise<OutboxListing> {
    this.assertOpen();
    await this.requireDelivering();
    await this.serial(async () => {
      for (const id of ids) await this.store.remove(id);
    });
    return this.list();
  }

  /** Resolves when each named item is delivered or failed, or when the time is up: the items as they stand. */
  async waitFor(ids: string[], timeoutMs: number): Promise<OutboxItemView[]> {
    const deadline = Date.now() + timeoutMs;
    const wanted = new Set(ids);
    for (;;) {
      const items = (await this.list()).items.filter((item) => wanted.has(item.id));
      const settled = items.every((item) => item.state === 'delivered' || item.state === 'failed');
      if (settled || Date.now() >= deadline) return items;
      if (this.delivering && !this.options.autoStart) {
        // Nobody else will deliver: do the due work here while waiting.
        await this.serial(() => this.pass(false));
      }
      await delay(Math.min(200, Math.max(0, deadline - Date.now())));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.chain.catch(() => {});
    await this.release?.();
    this.release = undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The outbox is closed.');
  }

  private async requireDelivering(): Promise<void> {
    await this.tryToDeliver();
    if (!this.delivering) throw new OutboxBusyError(this.holderPid);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Takes the worker lock if free (or left by a dead process) and recovers what that process left. */
  private async tryToDeliver(): Promise<void> {
    if (this.delivering || this.closed) return;
    const attempt = await acquireWorkerLock(path.join(this.store.dir, 'worker.lock'));
    if (!attempt.acquired) {
      this.holderPid = attempt.holderPid;
      return;
    }
    this.release = attempt.release;
    this.holderPid = null;
    await this.serial(() => this.recover());
  }

  /**
   * Items left 'sending' were on the wire when their deliverer stopped: the PACS may have them.
   * Records of deliveries older than DELIVERED_RECORD_DAYS go, so the folder does not grow forever.
   */
  private async recover(): Promise<void> {
    await this.store.clearStaging(isProcessAlive);
    const changed: OutboxRecord[] = [];
    const keepAfter = Date.now() - DELIVERED_RECORD_DAYS * 24 * 3600 * 1000;
    for (const record of await this.store.readAll()) {
      if (record.state === 'delivered' && Date.parse(record.deliveredAt ?? '') < keepAfter) {
        await this.store.remove(record.id);
        continue;
      }
      if (record.state !== 'sending') continue;
      changed.push(await this.requeueInterrupted(record, 'The app stopped while this item was being sent; the PACS is asked whether it has it before sending again.'));
    }
    this.notify(changed);
  }

  private async requeueInterrupted(record: OutboxRecord, message: string): Promise<OutboxRecord> {
    const next: OutboxRecord = {
      ...record,
      state: 'queued',
      uncertain: true,
      nextAttemptAt: new Date().toISOString(),
      lastFailure: pacsFailure('connection-lost', message),
    };
    await this.store.write(next);
    return next;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.tryToDeliver();
      if (this.delivering) await this.serial(() => this.pass(false));
    } catch (error) {
      this.options.log?.(`outbox delivery pass failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    if (this.closed) return;
    const poll = this.options.pollMs ?? 3000;
    const next = await this.nextDueIn().catch(() => poll);
    this.schedule(Math.min(poll, next));
  }

  private async nextDueIn(): Promise<number> {
    const now = Date.now();
    let soonest = Infinity;
    for (const record of await this.store.readAll()) {
      if (record.state !== 'queued') continue;
      soonest = Math.min(soonest, Math.max(0, Date.parse(record.nextAttemptAt ?? '') - now || 0));
    }
    return soonest;
  }

  /** One delivery pass over due items (all queued items when forced), node by node. */
  private async pass(force: boolean): Promise<void> {
    if (!this.delivering) return;
    // Passes run one at a time under the worker lock, so an item still 'sending' now is not on
    // the wire: its outcome could not be written (disk full). Without this it would wait for
    // the next start-up; asked about first, it is neither lost nor sent twice.
    const interrupted: OutboxRecord[] = [];
    for (const record of await this.store.readAll()) {
      if (record.state === 'sending') interrupted.push(await this.requeueInterrupted(record, 'The outcome of the last attempt could not be saved; the PACS is asked whether it has this item before sending again.'));
    }
    this.notify(interrupted);
    const now = Date.now();
    const due = (await this.store.readAll()).filter(
      (record) => record.state === 'queued' && (force || !record.nextAttemptAt || Date.parse(record.nextAttemptAt) <= now),
    );
    const groups = new Map<string, OutboxRecord[]>();
    for (const record of due) {
      const key = targetKey(record.target);
      groups.set(key, [...(groups.get(key) ?? []), record]);
    }
    for (const records of groups.values()) {
      if (this.closed) return;
      await this.deliverGroup(records);
    }
  }

  private async deliverGroup(records: OutboxRecord[]): Promise<void> {
    const target = records[0]!.target;
    let node: PacsNode | undefined;
    try {
      node = target.kind === 'inline' ? target.node : await this.options.resolveNode(target.name);
    } catch (error) {
      node = undefined;
      this.options.log?.(`outbox: cannot read the PACS settings: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!node) {
      const name = target.kind === 'saved' ? target.name : '?';
      await this.settle(records, () => ({
        kind: 'failed',
        failure: pacsFailure('config', `No PACS node named "${name}" in the settings (removed or renamed?). Add it again, then retry.`),
      }));
      return;
    }

    // Uncertain items first: ask the PACS before sending anything twice.
    const toSend: OutboxRecord[] = [];
    for (const [index, record] of records.entries()) {
      if (!record.uncertain) {
        toSend.push(record);
        continue;
      }
      const check = await this.transport.hasInstance(node, record);
      if (check.failure && isTransient(check.failure)) {
        // The PACS cannot even be asked: everything not yet decided for it waits.
        const failure = check.failure;
        await this.settle([...toSend, ...records.slice(index)], () => ({ kind: 'retry', failure, uncertain: undefined }));
        return;
      }
      if (check.found) await this.settle([record], () => ({ kind: 'delivered', confirmedBy: 'pacs-query' }));
      else {
        // Not there, or a PACS that does not answer such queries: sending again is then the only way
        // forward, and a PACS treats a second copy of one SOP Instance UID as the same instance.
        if (check.failure) this.options.log?.(`outbox: could not ask ${record.label} for ${record.sopInstanceUid} (${check.failure.message}); sending it again`);
        toSend.push({ ...record, uncertain: false });
      }
    }

    const batchSize = this.options.batchSize ?? 50;
    for (let start = 0; start < toSend.length; start += batchSize) {
      if (this.closed) return;
      const batch = toSend.slice(start, start + batchSize);
      const sending: OutboxRecord[] = [];
      for (const record of batch) {
        const next: OutboxRecord = { ...record, state: 'sending', attempts: record.attempts + 1, lastAttemptAt: new Date().toISOString() };
        await this.store.write(next);
        sending.push(next);
      }
      this.notify(sending);
      let outcomes: StoreOutcome[];
      try {
        outcomes = await this.transport.store(
          node,
          sending.map((record) => ({ path: this.store.payloadPath(record.id), info: record })),
        );
      } catch (error) {
        // A transport that throws tells us nothing about what reached the PACS.
        const failure = error instanceof PacsError ? error.failure : pacsFailure('protocol', `Sending failed: ${error instanceof Error ? error.message : String(error)}`);
        outcomes = sending.map(() => ({ delivered: false, failure, uncertain: true }));
      }
      await this.settle(sending, (_, index) => {
        const outcome = outcomes[index];
        if (!outcome) return { kind: 'retry', failure: pacsFailure('protocol', 'No outcome reported for this item.'), uncertain: true };
        if (outcome.delivered) return { kind: 'delivered', confirmedBy: 'store-response' };
        if (isTransient(outcome.failure) || outcome.uncertain) return { kind: 'retry', failure: outcome.failure, uncertain: outcome.uncertain };
        return { kind: 'failed', failure: outcome.failure };
      });
      // A PACS that cannot be reached will not be reached by the next batch either.
      if (outcomes.every((outcome) => !outcome.delivered && isTransient(outcome.failure) && !outcome.uncertain)) {
        const rest = toSend.slice(start + batchSize);
        const failure = (outcomes[0] as { failure: PacsFailure } | undefined)?.failure;
        if (rest.length > 0 && failure) await this.settle(rest, () => ({ kind: 'retry', failure, uncertain: undefined }));
        return;
      }
    }
  }

  private async settle(records: OutboxRecord[], decide: (record: OutboxRecord, index: number) => Settlement): Promise<void> {
    const changed: OutboxRecord[] = [];
    const now = new Date();
    for (const [index, record] of records.entries()) {
      const decision = decide(record, index);
      let next: OutboxRecord;
      if (decision.kind === 'delivered') {
        next = { ...record, state: 'delivered', deliveredAt: now.toISOString(), nextAttemptAt: null, lastFailure: null, uncertain: false, confirmedBy: decision.confirmedBy };
      } else if (decision.kind === 'failed') {
        next = { ...record, state: 'failed', nextAttemptAt: null, lastFailure: decision.failure, lastAttemptAt: now.toISOString() };
      } else {
        // Items marked 'sending' counted their attempt then; the others count this contact now.
        const attempts = record.state === 'sending' ? record.attempts : record.attempts + 1;
        next = {
          ...record,
          state: 'queued',
          attempts,
          lastAttemptAt: now.toISOString(),
          nextAttemptAt: new Date(now.getTime() + this.backoffFor(attempts)).toISOString(),
          lastFailure: decision.failure,
          uncertain: decision.uncertain ?? record.uncertain,
        };
      }
      await this.store.write(next);
      if (next.state === 'delivered') await this.store.dropPayload(next.id);
      changed.push(next);
    }
    this.notify(changed);
  }

  private backoffFor(attempts: number): number {
    const base = Math.min(this.backoff.initialMs * 2 ** Math.max(0, attempts - 1), this.backoff.maxMs);
    // ±20 %: many workstations behind one PACS should not retry in lockstep.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private notify(records: OutboxRecord[]): void {
    if (records.length > 0) this.options.onChange?.(records.map(viewOfRecord));
  }
}

type Settlement =
  | { kind: 'delivered'; confirmedBy: 'store-response' | 'pacs-query' }
  | { kind: 'failed'; failure: PacsFailure }
  /** uncertain undefined: keep the item's flag as it was. */
  | { kind: 'retry'; failure: PacsFailure; uncertain: boolean | undefined };

async function collectFiles(input: string, files: string[], skipped: { path: string; reason: string }[]): Promise<void> {
  let info;
  try {
    info = await stat(input);
  } catch (error) {
    skipped.push({ path: input, reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String(error) });
    return;
  }
  if (info.isFile()) {
    files.push(input);
    return;
  }
  if (!info.isDirectory()) {
    skipped.push({ path: input, reason: 'not a file or folder' });
    return;
  }
  const entries = (await readdir(input, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.toUpperCase() === 'DICOMDIR') continue;
    await collectFiles(path.join(input, entry.name), files, skipped);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
