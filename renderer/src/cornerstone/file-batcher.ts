// Gathers single-file requests into file-batch GETs (electron/common/file-batch-format.ts):
// Chromium pays per request over plain HTTP/1.1 (six connections per host), so 500 slices
// as 500 requests take seconds longer than the same bytes in a few responses. Requests go
// out in the order they were asked for (Cornerstone's pool hands them over nearest the view
// first), an urgent one (the slice the user looks at) jumps the queue, and a file asked for
// twice is fetched once. How a batch travels is the transport's: fetched and split here
// (fetchBatchTransport), or fetched and decoded in the slice-batch worker
// (slice-batch-client.ts). No DOM or Cornerstone here: unit-tested in test/host.
import { readFileBatch } from '../../../electron/common/file-batch-format.ts';

export type BatchFile<R> = { key: string; request: R };
export type BatchResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Carries one batch: calls `deliver` once per file it can answer, resolves when the batch is over (or rejects). */
export interface BatchTransport<T, R> {
  send(files: ReadonlyArray<BatchFile<R>>, signal: AbortSignal, deliver: (key: string, result: BatchResult<T>) => void): Promise<void>;
}

export interface FileBatcherOptions<T, R> {
  filesPerBatch: number;
  batchesInFlight: number;
  transport: BatchTransport<T, R>;
}

type Pending<T, R> = {
  key: string;
  request: R;
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  batch: AbortController | null;
  cancelled: boolean;
};

export class FileBatchCancelled extends Error {
  constructor(key: string) {
    super(`the download of ${key} was cancelled`);
    this.name = 'AbortError';
  }
}

export class FileBatcher<T = ArrayBuffer, R = undefined> {
  private readonly options: FileBatcherOptions<T, R>;
  /** Asked for and not yet sent, in sending order. */
  private queue: Array<Pending<T, R>> = [];
  /** Every file asked for and not yet settled, queued or in flight. */
  private readonly pending = new Map<string, Pending<T, R>>();
  private readonly batches = new Map<AbortController, Array<Pending<T, R>>>();
  private scheduled = false;

  constructor(options: FileBatcherOptions<T, R>) {
    this.options = options;
  }

  /**
   * The file `key` as the transport delivers it; `urgent` puts it before everything not yet
   * sent. `request` travels with the file (the first asker's, for a file asked for twice).
   */
  get(key: string, urgent = false, request?: R): Promise<T> {
    const known = this.pending.get(key);
    if (known) {
      if (urgent && !known.batch) this.queue = [known, ...this.queue.filter((item) => item !== known)];
      return known.promise;
    }
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    const item: Pending<T, R> = { key, request: request as R, promise, resolve, reject, batch: null, cancelled: false };
    this.pending.set(key, item);
    if (urgent) this.queue.unshift(item);
    else this.queue.push(item);
    this.schedule();
    return promise;
  }

  /** Whether `key` was asked for and is not settled yet. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /**
   * Drops these files: those not yet sent fail with FileBatchCancelled, a batch in flight
   * whose every file is dropped is aborted. Returns how many files were dropped.
   */
  cancel(keys: Iterable<string>): number {
    let dropped = 0;
    const touched = new Set<AbortController>();
    for (const key of keys) {
      const item = this.pending.get(key);
      if (!item || item.cancelled) continue;
      dropped++;
      item.cancelled = true;
      if (item.batch) {
        touched.add(item.batch);
        continue;
      }
      this.queue = this.queue.filter((queued) => queued !== item);
      this.pending.delete(key);
      item.reject(new FileBatchCancelled(key));
    }
    for (const controller of touched) {
      if (this.batches.get(controller)?.every((item) => item.cancelled)) controller.abort();
    }
    return dropped;
  }

  /** Files asked for and not yet settled (for tests and the benchmark). */
  get size(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // A macrotask: Cornerstone's pool hands over a whole volume's requests in one go, and they should share batches.
    setTimeout(() => {
      this.scheduled = false;
      this.pump();
    }, 0);
  }

  private pump(): void {
    while (this.batches.size < this.options.batchesInFlight && this.queue.length > 0) {
      void this.send(this.queue.splice(0, this.options.filesPerBatch));
    }
  }

  private async send(items: Array<Pending<T, R>>): Promise<void> {
    const controller = new AbortController();
    for (const item of items) item.batch = controller;
    this.batches.set(controller, items);
    const waiting = new Map(items.map((item) => [item.key, item]));
    try {
      await this.options.transport.send(
        items.map((item) => ({ key: item.key, request: item.request })),
        controller.signal,
        (key, result) => {
          const item = waiting.get(key);
          if (!item) return;
          waiting.delete(key);
          if (result.ok) item.resolve(result.value);
          else item.reject(result.error);
        },
      );
      for (const item of waiting.values()) item.reject(new Error(`the file batch did not answer for ${item.key}`));
    } catch (error) {
      for (const item of waiting.values()) item.reject(item.cancelled ? new FileBatchCancelled(item.key) : error);
    } finally {
      this.batches.delete(controller);
      for (const item of items) if (this.pending.get(item.key) === item) this.pending.delete(item.key);
      this.pump();
    }
  }
}

export interface FetchBatchTransportOptions {
  batchUrl(keys: readonly string[]): string;
  /** One file's own URL: the way in for a file a batch refuses as too large. */
  fileUrl(key: string): string;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** Batches fetched on this thread and split into each file's bytes (electron/common/file-batch-format.ts). */
export function fetchBatchTransport(options: FetchBatchTransportOptions): BatchTransport<ArrayBuffer, undefined> {
  const fetchFn = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const fetchSingle = async (key: string, init: RequestInit): Promise<ArrayBuffer> => {
    const response = await fetchFn(options.fileUrl(key), init);
    if (!response.ok) throw new Error(`${key}: HTTP ${response.status} ${await response.text()}`);
    return response.arrayBuffer();
  };
  return {
    async send(files, signal, deliver) {
      const init: RequestInit = { signal, credentials: 'same-origin' };
      const response = await fetchFn(options.batchUrl(files.map((file) => file.key)), init);
      if (response.status === 413) {
        // Too many bytes for one batch (large multi-frame files): each on its own.
        await Promise.all(
          files.map((file) =>
            fetchSingle(file.key, init).then(
              (value) => deliver(file.key, { ok: true, value }),
              (error: unknown) => deliver(file.key, { ok: false, error }),
            ),
          ),
        );
        return;
      }
      if (!response.ok || !response.body) throw new Error(`the file batch was refused (HTTP ${response.status}): ${await response.text()}`);
      for await (const record of readFileBatch(response.body)) {
        deliver(record.key, record.ok ? { ok: true, value: record.bytes } : { ok: false, error: new Error(record.reason) });
      }
    },
  };
}
