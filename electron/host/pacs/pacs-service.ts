// Everything PACS behind one object: nodes, test, query, retrieve (with progress and
// cancel, then import), send through the outbox, and the storage listener. The host's
// call handlers and the CLI both drive this.
import { chmod, copyFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { mkdirPrivate, PRIVATE_FILE_MODE } from '../atomic-file.ts';
import type { ImportResult } from '../../common/dicom-model.ts';
import {
  ListenerSettings,
  type ListenerLimits,
  type ListenerLimitsChange,
  type EchoResult,
  type FindQuery,
  type FindResult,
  type ListenerStatus,
  type NodeRef,
  type PacsEventName,
  type PacsEventPayload,
  type PacsFailure,
  type PacsNode,
  type RetrieveMethod,
  type RetrieveProgress,
  type RetrieveResult,
  type SkippedInstance,
  type SkippedInstances,
  type StoreConflict,
} from '../../common/contract-pacs.ts';
import { CallerPolicy, type KnownCaller, type ResolveHost } from './caller-policy.ts';
import { dimseGet, dimseMove, type SubOperationProgress } from './dimse-scu.ts';
import { dicomwebInstanceCount, dicomwebRetrieve } from './dicomweb.ts';
import { InstanceStore, type StoredInstance } from './instance-store.ts';
import type { NodeReference } from './node-ref.ts';
import { Outbox, type EnqueueResult, type OutboxOptions } from './outbox.ts';
import type { OutboxTarget } from './outbox-store.ts';
import { echoNode, findOnNode, nodeAddress } from './pacs-client.ts';
import { pacsFailure, PacsError, UnknownNodeError } from './pacs-failure.ts';
import { describeSkippedInstance } from '../../common/skipped-instance-text.ts';
import { completeNode, PacsSettingsStore, type PacsSettings } from './pacs-settings.ts';
import { SkippedList } from './skipped-instances.ts';
import { StorageListener, type ReceivedInstance, type RefusedInstance } from './storage-listener.ts';
import type { CallerVerdict } from './caller-policy.ts';

/** What listener.start and the CLI may change: the address, AE title, port, and some limits. */
export type ListenerChange = Partial<Pick<ListenerSettings, 'aeTitle' | 'port' | 'bindAddress'>> & { limits?: ListenerLimitsChange };

export type PacsEmit = <E extends PacsEventName>(event: E, payload: PacsEventPayload<E>) => void;

export interface PacsServiceOptions {
  dataDir: string;
  emit?: PacsEmit;
  /** Imports retrieved or received files into the app's DICOM index (the host's import, which merges and announces). */
  importFiles?: (paths: string[], jobId: string) => Promise<ImportResult>;
  log?: (message: string) => void;
  /** Outbox tuning (tests shorten the backoff). */
  outbox?: Partial<Pick<OutboxOptions, 'backoff' | 'pollMs' | 'batchSize' | 'transport'>>;
  /** Deliver the outbox in the background (the app). The CLI delivers while it waits instead. */
  deliverInBackground?: boolean;
  /** Start the listener if the settings say so (the app at start-up). */
  startListenerIfEnabled?: boolean;
  /** How a node's host becomes addresses for the listener's caller check (tests give their own). */
  resolveHost?: ResolveHost;
}

export interface RetrieveRequest {
  jobId: string;
  node: PacsNode;
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  /** Another root than <dataDir>/store (CLI --to); nothing is imported then. */
  storeRoot?: string;
  signal?: AbortSignal;
  onProgress?: (progress: RetrieveProgress) => void;
}

interface MoveCollector {
  studyInstanceUid: string;
  seriesInstanceUid: string | undefined;
  sourceAet: string;
  sourceHost: string;
  sourceName: string;
  instances: StoredInstance[];
  onStored: (instance: StoredInstance) => void;
  /** What the listener refused from this PACS while the move ran (C-STOREs answered 0xA700). */
  skipped: SkippedList;
  onSkipped: (skipped: SkippedInstance) => void;
}

export class PacsService {
  readonly dataDir: string;
  readonly settings: PacsSettingsStore;
  readonly outbox: Outbox;
  readonly store: InstanceStore;
  private readonly options: PacsServiceOptions;
  private listener: StorageListener | undefined;
  private listenerError: string | null = null;
  private runningListener: ListenerSettings | undefined;
  private readonly retrievals = new Map<string, AbortController>();
  private readonly moves = new Set<MoveCollector>();
  private pushCount = 0;
  private readonly callers: CallerPolicy;

  private constructor(options: PacsServiceOptions, outbox: Outbox) {
    this.options = options;
    this.dataDir = path.resolve(options.dataDir);
    this.settings = new PacsSettingsStore(this.dataDir);
    this.outbox = outbox;
    this.callers = new CallerPolicy(options.resolveHost);
    this.store = new InstanceStore(path.join(this.dataDir, 'store'), {
      // Outside <data>/store, which the index re-scans: a conflict never enters the index.
      conflictsDir: path.join(this.dataDir, 'conflicts'),
      onConflict: (conflict) => this.onConflict(conflict),
    });
  }

  private onConflict(conflict: StoreConflict): void {
    this.options.log?.(
      `store: instance ${conflict.sopInstanceUid} from ${conflict.source || 'a peer'} differs from the stored one; kept at ${conflict.conflictPath}, ${conflict.originalPath} unchanged (${conflict.reason})`,
    );
    this.options.emit?.('listener.conflict', conflict);
  }

  /** Received instances kept beside a stored one of the same SOP Instance UID, oldest first. */
  conflicts(): Promise<StoreConflict[]> {
    return this.store.conflicts.list();
  }

  static async open(options: PacsServiceOptions): Promise<PacsService> {
    const settings = new PacsSettingsStore(options.dataDir);
    const outbox = await Outbox.open({
      dir: path.join(options.dataDir, 'outbox'),
      resolveNode: (name) => settings.node(name),
      autoStart: options.deliverInBackground ?? false,
      onChange: (items) => options.emit?.('outbox.changed', { items }),
      ...(options.log ? { log: options.log } : {}),
      ...options.outbox,
    });
    const service = new PacsService(options, outbox);
    if (options.startListenerIfEnabled) {
      const current = await settings.load().catch(() => undefined);
      if (current?.listener.enabled) await service.startListener({}).catch(() => {});
    }
    return service;
  }

  async close(): Promise<void> {
    for (const controller of this.retrievals.values()) controller.abort();
    await this.listener?.stop();
    this.listener = undefined;
    await this.outbox.close();
  }

  /** A node from the renderer (by name, or in full) or the CLI (name or address). */
  async resolve(ref: NodeRef | NodeReference): Promise<PacsNode> {
    if ('kind' in ref) {
      if (ref.kind === 'inline') return ref.node;
      return this.savedNode(ref.name);
    }
    if ('name' in ref) return this.savedNode(ref.name);
    return completeNode(ref.node, await this.settings.node(ref.node.name));
  }

  private async savedNode(name: string): Promise<PacsNode> {
    const node = await this.settings.node(name);
    if (!node) {
      const names = (await this.settings.load()).nodes.map((n) => n.name);
      throw new UnknownNodeError(`No PACS node named "${name}". ${names.length > 0 ? `Saved nodes: ${names.join(', ')}.` : 'No node is saved yet.'}`);
    }
    return node;
  }

  async saveNode(input: Parameters<PacsSettingsStore['saveNode']>[0], originalName?: string): Promise<PacsSettings> {
    const settings = await this.settings.saveNode(input, originalName);
    await this.refreshCallers();
    return settings;
  }

  async removeNode(name: string): Promise<PacsSettings> {
    const settings = await this.settings.removeNode(name);
    await this.refreshCallers();
    return settings;
  }

  test(node: PacsNode): Promise<EchoResult> {
    return echoNode(node);
  }

  find(node: PacsNode, query: FindQuery, limit: number, signal?: AbortSignal): Promise<FindResult> {
    return findOnNode(node, query, limit, signal);
  }

  /** Queues files or folders for a node; delivery happens in the background (or while the CLI waits). */
  async send(ref: NodeRef | NodeReference, paths: string[]): Promise<EnqueueResult> {
    const node = await this.resolve(ref);
    let target: OutboxTarget;
    let label: string;
    if ('kind' in ref && ref.kind === 'inline') {
      target = { kind: 'inline', node: ref.node };
      label = ref.label;
    } else if (!('kind' in ref) && 'node' in ref) {
      // Given in full by the renderer: saved under its name if it is one, else kept whole.
      const saved = await this.settings.node(node.name);
      target = saved ? { kind: 'saved', name: saved.name } : { kind: 'inline', node };
      label = saved ? saved.name : nodeAddress(node);
    } else {
      target = { kind: 'saved', name: node.name };
      label = node.name;
    }
    return this.outbox.enqueue(target, label, paths);
  }

  // ── Retrieve ────────────────────────────────────────────────────────────────

  cancelRetrieve(jobId: string): boolean {
    const controller = this.retrievals.get(jobId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  async retrieve(request: RetrieveRequest): Promise<RetrieveResult> {
    if (this.retrievals.has(request.jobId)) {
      throw new PacsError(pacsFailure('config', `A retrieve with job id "${request.jobId}" is already running.`));
    }
    const controller = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal;
    this.retrievals.set(request.jobId, controller);
    try {
      return await this.runRetrieve(request, signal);
    } finally {
      this.retrievals.delete(request.jobId);
    }
  }

  private async runRetrieve(request: RetrieveRequest, signal: AbortSignal): Promise<RetrieveResult> {
    const started = performance.now();
    const { node, jobId } = request;
    const store = request.storeRoot ? new InstanceStore(request.storeRoot, { onConflict: (conflict) => this.onConflict(conflict) }) : this.store;
    const method: RetrieveMethod = node.type === 'dicomweb' ? 'wado-rs' : node.retrieveMethod;
    const stored: StoredInstance[] = [];
    const state: RetrieveProgress = { jobId, phase: 'connecting', received: 0, failed: 0, skipped: 0, total: null, bytes: 0 };
    // The PACS counts the instances we refused among its failed sub-operations; we report those as skipped, with reasons.
    let failedAtPacs = 0;
    const failedAtPacsOnly = () => Math.max(0, failedAtPacs - state.skipped);
    let lastEmit = 0;
    const report = (force = false) => {
      const now = performance.now();
      if (!force && now - lastEmit < 100) return;
      lastEmit = now;
      const snapshot = { ...state };
      request.onProgress?.(snapshot);
      this.options.emit?.('pacs.retrieveProgress', snapshot);
    };
    const onStored = (instance: StoredInstance) => {
      stored.push(instance);
      state.phase = 'receiving';
      state.received = stored.length;
      state.bytes += instance.bytes;
      report();
    };
    const onSkipped = (skipped: SkippedInstance) => {
      state.skipped++;
      state.failed = failedAtPacsOnly();
      this.options.log?.(`retrieve ${jobId} from ${node.name}: skipped ${describeSkippedInstance(skipped, method)}`);
      report();
    };
    const onSubOperations = (progress: SubOperationProgress) => {
      failedAtPacs = progress.failed;
      state.failed = failedAtPacsOnly();
      if (progress.remaining !== null) state.total = progress.remaining + progress.completed + progress.failed + progress.warnings;
      report();
    };
    report(true);

    let failure: PacsFailure | null = null;
    let cancelled = false;
    let skipped: SkippedInstances = { count: 0, instances: [] };
    if (node.type === 'dicomweb') {
      state.total = await dicomwebInstanceCount(node, request.studyInstanceUid, request.seriesInstanceUid);
      report(true);
      const result = await dicomwebRetrieve(node, store, {
        studyInstanceUid: request.studyInstanceUid,
        ...(request.seriesInstanceUid ? { seriesInstanceUid: request.seriesInstanceUid } : {}),
        signal,
        onStored,
        onSkipped,
      });
      failure = result.failure;
      cancelled = result.cancelled;
      skipped = result.skipped;
    } else if (node.retrieveMethod === 'c-get') {
      const result = await dimseGet(node, store, {
        studyInstanceUid: request.studyInstanceUid,
        ...(request.seriesInstanceUid ? { seriesInstanceUid: request.seriesInstanceUid } : {}),
        signal,
        onStored,
        onSkipped,
        onProgress: onSubOperations,
      });
      failure = result.failure;
      cancelled = result.cancelled;
      skipped = result.skipped;
      failedAtPacs = result.progress.failed;
    } else {
      const result = await this.moveToListener(node, request, store, signal, onStored, onSkipped, onSubOperations);
      failure = result.failure;
      cancelled = result.cancelled;
      skipped = result.skipped;
      failedAtPacs = result.failed;
    }
    state.skipped = skipped.count;

    const folders = [...new Set(stored.map((instance) => path.dirname(instance.path)))].sort();
    let imported: ImportResult | null = null;
    if (!cancelled && stored.length > 0 && !request.storeRoot && this.options.importFiles) {
      state.phase = 'importing';
      report(true);
      imported = await this.options.importFiles(folders, jobId);
    }
    state.phase = 'done';
    state.received = stored.length;
    state.failed = failedAtPacsOnly();
    report(true);
    return {
      jobId,
      method,
      cancelled,
      received: stored.length,
      failed: failedAtPacsOnly(),
      skipped,
      folders,
      import: imported,
      failure: cancelled ? null : failure,
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  /** C-MOVE to our listener: started for the move if it is not running, stopped again after. */
  private async moveToListener(
    node: Extract<PacsNode, { type: 'dimse' }>,
    request: RetrieveRequest,
    store: InstanceStore,
    signal: AbortSignal,
    onStored: (instance: StoredInstance) => void,
    onSkipped: (skipped: SkippedInstance) => void,
    onProgress: (progress: SubOperationProgress) => void,
  ): Promise<{ failure: PacsFailure | null; cancelled: boolean; failed: number; skipped: SkippedInstances }> {
    const startedHere = !this.listener?.running;
    if (startedHere) {
      try {
        await this.startListener({}, { persist: false });
      } catch (error) {
        const failure = pacsFailure('config', `C-MOVE needs the storage listener, which could not start: ${error instanceof Error ? error.message : String(error)}`);
        return { failure, cancelled: false, failed: 0, skipped: { count: 0, instances: [] } };
      }
    }
    const destinationAet = this.runningListener?.aeTitle ?? (await this.settings.load()).listener.aeTitle;
    const bindAddress = this.runningListener?.bindAddress;
    if (bindAddress && isLoopback(bindAddress) && !isLoopbackHost(node.host)) {
      this.options.log?.(
        `C-MOVE from ${node.name}: the listener listens on ${bindAddress} only, which ${node.host} cannot reach; set the listener's bind address (settings, --bind) to an address of this machine that the PACS can reach.`,
      );
    }
    const collector: MoveCollector = {
      studyInstanceUid: request.studyInstanceUid,
      seriesInstanceUid: request.seriesInstanceUid,
      sourceAet: node.calledAet,
      sourceHost: node.host,
      sourceName: node.name,
      instances: [],
      onStored,
      skipped: new SkippedList(),
      onSkipped,
    };
    // The listener writes into the app's store; a CLI --to folder gets the files moved there after.
    this.moves.add(collector);
    try {
      const result = await dimseMove(node, destinationAet, {
        studyInstanceUid: request.studyInstanceUid,
        ...(request.seriesInstanceUid ? { seriesInstanceUid: request.seriesInstanceUid } : {}),
        signal,
        onProgress,
      });
      // Sub-operations are answered before the PACS reports them complete; allow the last file a moment to be filed.
      const expected = result.progress.completed + result.progress.warnings;
      for (let waited = 0; collector.instances.length < expected && waited < 2000; waited += 50) await delay(50);
      if (store !== this.store) await relocate(collector.instances, store);
      return { failure: result.failure, cancelled: result.cancelled, failed: result.progress.failed, skipped: collector.skipped.report() };
    } finally {
      this.moves.delete(collector);
      if (startedHere) await this.stopListener({ persist: false });
    }
  }

  // ── Listener ────────────────────────────────────────────────────────────────

  async listenerStatus(): Promise<ListenerStatus> {
    const settings = (await this.settings.load()).listener;
    return {
      running: this.listener?.running ?? false,
      settings: this.listener?.running ? { ...settings, port: this.listener.port } : settings,
      received: this.listener?.received ?? 0,
      lastReceivedAt: this.listener?.lastReceivedAt?.toISOString() ?? null,
      error: this.listenerError,
      refused: this.listener?.refused ?? 0,
      conflicts: (await this.conflicts().catch(() => [])).length,
    };
  }

  async startListener(change: ListenerChange, options: { persist?: boolean } = {}): Promise<ListenerStatus> {
    const persist = options.persist ?? true;
    const current = await this.settings.load();
    const { limits, ...rest } = change;
    const settings = ListenerSettings.parse({
      ...current.listener,
      ...rest,
      limits: { ...current.listener.limits, ...limits },
      ...(persist ? { enabled: true } : {}),
    });
    if (persist) await this.settings.saveListener(settings);
    if (this.listener?.running) {
      const running = this.runningListener;
      if (running && running.aeTitle === settings.aeTitle && running.port === settings.port && running.bindAddress === settings.bindAddress && sameLimits(running.limits, settings.limits)) {
        return this.listenerStatus();
      }
      await this.listener.stop();
    }
    await this.refreshCallers();
    const listener = new StorageListener({
      aeTitle: settings.aeTitle,
      port: settings.port,
      bindAddress: settings.bindAddress,
      store: this.store,
      limits: settings.limits,
      acceptCaller: (callingAet, remoteAddress) => this.acceptCaller(callingAet, remoteAddress, settings.acceptUnknownCallers),
      onReceived: (instance) => this.onListenerReceived(instance),
      onRefused: (refusal) => this.onListenerRefused(refusal),
      onAssociationDone: (instances) => void this.importPushed(instances),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    try {
      await listener.start();
    } catch (error) {
      this.listener = undefined;
      this.listenerError = error instanceof Error ? error.message : String(error);
      this.options.emit?.('listener.changed', await this.listenerStatus());
      throw error;
    }
    this.listener = listener;
    this.runningListener = settings;
    this.listenerError = null;
    const status = await this.listenerStatus();
    this.options.emit?.('listener.changed', status);
    return status;
  }

  async stopListener(options: { persist?: boolean } = {}): Promise<ListenerStatus> {
    if (options.persist ?? true) await this.settings.saveListener({ enabled: false });
    await this.listener?.stop();
    this.listener = undefined;
    const status = await this.listenerStatus();
    this.options.emit?.('listener.changed', status);
    return status;
  }

  /**
   * Configured DIMSE nodes (and PACSs we are moving from right now) may store to us: the
   * calling AE title and the source address must both be those of one node.
   */
  private acceptCaller(callingAet: string, remoteAddress: string | undefined, acceptUnknown: boolean): Promise<CallerVerdict> {
    if (acceptUnknown) return Promise.resolve({ accepted: true, node: '(any caller allowed)' });
    const moving: KnownCaller[] = [...this.moves].map((move) => ({ name: move.sourceName, aeTitle: move.sourceAet, host: move.sourceHost }));
    return this.callers.check(callingAet, remoteAddress, moving);
  }

  /** Keeps the listener's allow-list in step with the saved nodes. */
  async refreshCallers(): Promise<void> {
    const settings = await this.settings.load().catch(() => undefined);
    this.callers.setCallers(settings?.nodes.flatMap((node) => (node.type === 'dimse' ? [{ name: node.name, aeTitle: node.calledAet, host: node.host }] : [])) ?? []);
  }

  private onListenerReceived(instance: ReceivedInstance): void {
    for (const move of this.moves) {
      if (
        move.studyInstanceUid === instance.studyInstanceUid &&
        (!move.seriesInstanceUid || move.seriesInstanceUid === instance.seriesInstanceUid)
      ) {
        move.instances.push(instance);
        move.onStored(instance);
        return;
      }
    }
    this.options.emit?.('listener.received', {
      path: instance.path,
      callingAet: instance.callingAet,
      sopInstanceUid: instance.sopInstanceUid,
      studyInstanceUid: instance.studyInstanceUid,
      seriesInstanceUid: instance.seriesInstanceUid,
    });
  }

  /** A refusal during our own C-MOVE belongs to its report: the moving PACS is the caller (the listener has logged it already). */
  private onListenerRefused(refusal: RefusedInstance): void {
    const move = [...this.moves].find((candidate) => candidate.sourceAet === refusal.callingAet);
    if (!move) return;
    const position = move.instances.length + move.skipped.count + 1;
    move.onSkipped(move.skipped.add({ sopInstanceUid: refusal.sopInstanceUid, position, reason: refusal.reason }));
  }

  /** What a modality or PACS pushed (not our own moves) is imported once its association ends. */
  private async importPushed(instances: ReceivedInstance[]): Promise<void> {
    if (this.options.emit) this.options.emit('listener.changed', await this.listenerStatus());
    const pushed = instances.filter((instance) => ![...this.moves].some((move) => move.instances.includes(instance)));
    if (pushed.length === 0 || !this.options.importFiles) return;
    const folders = [...new Set(pushed.map((instance) => path.dirname(instance.path)))];
    try {
      await this.options.importFiles(folders, `listener-${++this.pushCount}`);
    } catch (error) {
      this.options.log?.(`listener: importing received files failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function relocate(instances: StoredInstance[], to: InstanceStore): Promise<void> {
  for (const instance of instances) {
    const target = to.pathFor(instance);
    await mkdirPrivate(path.dirname(target));
    if (instance.duplicate || instance.conflict) {
      // The app's store had this instance before the move: it stays there; DIR gets a copy of what arrived.
      await copyFile(instance.conflict?.conflictPath ?? instance.path, target);
      await chmod(target, PRIVATE_FILE_MODE);
      instance.path = target;
      continue;
    }
    try {
      await rename(instance.path, target);
    } catch {
      // Another file system: copy, then remove.
      await copyFile(instance.path, target);
      await chmod(target, PRIVATE_FILE_MODE);
      await rm(instance.path, { force: true });
    }
    instance.path = target;
  }
}

function sameLimits(a: ListenerLimits, b: ListenerLimits): boolean {
  return (Object.keys(a) as (keyof ListenerLimits)[]).every((key) => a[key] === b[key]);
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopback(host.replace(/^\[(.*)\]$/, '$1'));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One-shot use from the CLI: open the service on a data folder, do the work, close it (releasing the outbox lock). */
export async function withPacsService<T>(dataDir: string, work: (service: PacsService) => Promise<T>): Promise<T> {
  const service = await PacsService.open({ dataDir });
  try {
    return await work(service);
  } finally {
    await service.close();
  }
}
