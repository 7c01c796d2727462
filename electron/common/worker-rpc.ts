// Numbered requests to a worker and their answers: the one piece of plumbing every worker
// client shares (a pending map keyed by request id, transfer lists, progress, and what
// becomes of the requests in flight when the worker crashes, exits or is stopped).
// It knows neither worker_threads nor the DOM: a WorkerPort adapter stands for the worker
// (electron/host/node-worker-port.ts, renderer/src/dom-worker-port.ts), so the host and the
// renderer use the same module and each type-checks without the other's globals.

/** The messages and values one client's worker deals in. */
export interface RpcProtocol {
  /** What is posted; the id is the one WorkerRpc numbered it with. */
  request: { id: number };
  /** What the worker posts back. */
  reply: unknown;
  /** What a request resolves with. */
  result: unknown;
  /** What a progress reply carries (`never` where the worker sends none). */
  progress: unknown;
  /** What a transfer list may hold (worker_threads' or the DOM's Transferable). */
  transfer: unknown;
}

/** How a worker stopped being able to answer. */
export type WorkerEnd = { kind: 'crashed'; error: Error } | { kind: 'exited'; code: number };

/** What WorkerRpc needs of a worker. */
export interface WorkerPort<Transfer> {
  post(message: unknown, transfer: readonly Transfer[]): void;
  onMessage(listener: (message: unknown) => void): void;
  /** At most once: the worker crashed or exited by itself (not after terminate). */
  onEnd(listener: (end: WorkerEnd) => void): void;
  terminate(): Promise<void> | void;
  /** Whether the worker keeps its process alive (worker_threads' ref/unref); told true while requests are out. */
  hold?(busy: boolean): void;
}

/** What a reply means for the request it answers. */
export type ReplyMeaning<P extends RpcProtocol> =
  | { id: number; kind: 'result'; result: P['result'] }
  | { id: number; kind: 'error'; error: Error }
  | { id: number; kind: 'progress'; progress: P['progress'] };

export interface WorkerRpcOptions<P extends RpcProtocol> {
  /** The worker in words, as errors name it: "the <name> crashed: …". */
  name: string;
  /** Starts a worker; called at the first request, and again after a failure when `afterFailure` is 'restart'. */
  start(): WorkerPort<P['transfer']>;
  /** Reads a reply; null for one that answers no request. */
  read(reply: P['reply']): ReplyMeaning<P> | null;
  /**
   * After a crash, an exit or stop(): 'restart' starts another worker at the next request;
   * 'stay-failed' rejects every later request with the error that ended the worker.
   */
  afterFailure: 'restart' | 'stay-failed';
  /** The worker is gone (crashed, exited, stopped or closed): state kept about it is stale. */
  onWorkerGone?(reason: Error): void;
}

export interface RequestOptions<P extends RpcProtocol> {
  transfer?: readonly P['transfer'][];
  onProgress?(progress: P['progress']): void;
}

/** Every request a worker had in flight when it crashed or exited rejects with this. */
export class WorkerGoneError extends Error {
  readonly worker: string;
  readonly end: WorkerEnd;

  constructor(worker: string, end: WorkerEnd) {
    super(end.kind === 'crashed' ? `the ${worker} crashed: ${end.error.message}` : `the ${worker} exited (code ${end.code}) before it answered`, end.kind === 'crashed' ? { cause: end.error } : undefined);
    this.name = 'WorkerGoneError';
    this.worker = worker;
    this.end = end;
  }
}

interface Pending<P extends RpcProtocol> {
  resolve(result: P['result']): void;
  reject(error: Error): void;
  onProgress: ((progress: P['progress']) => void) | undefined;
}

export class WorkerRpc<P extends RpcProtocol> {
  readonly #options: WorkerRpcOptions<P>;
  readonly #pending = new Map<number, Pending<P>>();
  #port: WorkerPort<P['transfer']> | null = null;
  #failure: Error | null = null;
  #nextId = 1;

  constructor(options: WorkerRpcOptions<P>) {
    this.#options = options;
  }

  /** Whether any request is waiting for its answer. */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Posts the request `build` makes with its id; resolves or rejects with the worker's answer to that id. */
  request(build: (id: number) => P['request'], options: RequestOptions<P> = {}): Promise<P['result']> {
    let port: WorkerPort<P['transfer']>;
    try {
      port = this.#ensurePort();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const id = this.#nextId++;
    return new Promise<P['result']>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress: options.onProgress });
      if (this.#pending.size === 1) port.hold?.(true);
      try {
        port.post(build(id), options.transfer ?? []);
      } catch (error) {
        // Nothing was sent (a value that does not clone): only this request fails.
        this.#settled(id);
        reject(error as Error);
      }
    });
  }

  /** Starts the worker now if none runs, so the first request does not wait for it to load (a large worker script). */
  prepare(): void {
    this.#ensurePort();
  }

  /** Posts a message that expects no answer (state the worker keeps for later requests), starting the worker if needed. */
  post(message: unknown, transfer: readonly P['transfer'][] = []): void {
    this.#ensurePort().post(message, transfer);
  }

  /** Terminates the worker; everything in flight rejects with `reason`. What follows is `afterFailure`'s. */
  stop(reason: Error): void {
    const port = this.#port;
    if (!port) return;
    this.#end(port, reason);
  }

  /** Terminates the worker for good: requests in flight and later ones reject. */
  async close(): Promise<void> {
    const port = this.#port;
    const closed = new Error(`the ${this.#options.name} was closed`);
    this.#failure = closed;
    if (port) {
      this.#port = null;
      this.#rejectAll(closed);
      this.#options.onWorkerGone?.(closed);
      await port.terminate();
    }
  }

  #ensurePort(): WorkerPort<P['transfer']> {
    if (this.#port) return this.#port;
    if (this.#failure) throw this.#failure;
    const port = this.#options.start();
    port.onMessage((reply) => this.#receive(port, reply as P['reply']));
    port.onEnd((end) => {
      if (this.#port === port) this.#end(port, new WorkerGoneError(this.#options.name, end));
    });
    this.#port = port;
    return port;
  }

  #receive(port: WorkerPort<P['transfer']>, reply: P['reply']): void {
    // A stopped worker's late answers: its requests were rejected already.
    if (port !== this.#port) return;
    const meaning = this.#options.read(reply);
    if (!meaning) return;
    const waiting = this.#pending.get(meaning.id);
    if (!waiting) return;
    if (meaning.kind === 'progress') {
      waiting.onProgress?.(meaning.progress);
      return;
    }
    this.#settled(meaning.id);
    if (meaning.kind === 'result') waiting.resolve(meaning.result);
    else waiting.reject(meaning.error);
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#port?.hold?.(false);
  }

  #end(port: WorkerPort<P['transfer']>, reason: Error): void {
    this.#port = null;
    if (this.#options.afterFailure === 'stay-failed') this.#failure = reason;
    // A worker that reported an error may still run (a page's worker does): it must not answer later.
    terminateQuietly(port);
    this.#rejectAll(reason);
    this.#options.onWorkerGone?.(reason);
  }

  #rejectAll(reason: Error): void {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of waiting) entry.reject(reason);
  }
}

/** Ends a worker that is already of no use: a failure to terminate it changes nothing for its callers. */
function terminateQuietly(port: WorkerPort<unknown>): void {
  try {
    void Promise.resolve(port.terminate()).catch(() => {});
  } catch {
    // Already gone.
  }
}
