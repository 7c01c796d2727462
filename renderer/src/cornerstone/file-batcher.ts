// Gathers single-file requests into file-batch GETs (electron/common/file-batch-format.ts):
// Chromium pays per request over plain HTTP/1.1 (six connections per host), so 500 slices
// as 500 requests take seconds longer than the same bytes in a few responses. Requests go
// out in the order they were asked for (Cornerstone's pool hands them over nearest the view
// first), an urgent one (the slice the user looks at) jumps the queue, and a file asked for
// twice is fetched once. No DOM or Cornerstone here: unit-tested in test/host.
import { readFileBatch } from '../../../electron/common/file-batch-format.ts';

export interface FileBatcherOptions {
  batchUrl(keys: readonly string[]): string;
  /** One file's own URL: the way in for a file a batch refuses as too large. */
  fileUrl(key: string): string;
  filesPerBatch: number;
  batchesInFlight: number;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

type Pending = {
  key: string;
  promise: Promise<ArrayBuffer>;
  resolve(bytes: ArrayBuffer): void;
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

export class FileBatcher {
  private readonly options: FileBatcherOptions;
  private readonly fetchFn: (url: string, init: RequestInit) => Promise<Response>;
  /** Asked for and not yet sent, in sending order. */
  private queue: Pending[] = [];
  /** Every file asked for and not yet settled, queued or in flight. */
  private readonly pending = new Map<string, Pending>();
  private readonly batches = new Map<AbortController, Pending[]>();
  private scheduled = false;

  constructor(options: FileBatcherOptions) {
    this.options = options;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** The bytes of the indexed file `key`; `urgent` puts it before everything not yet sent. */
  get(key: string, urgent = false): Promise<ArrayBuffer> {
    const known = this.pending.get(key);
    if (known) {
      if (urgent && !known.batch) this.queue = [known, ...this.queue.filter((item) => item !== known)];
      return known.promise;
    }
    let resolve!: (bytes: ArrayBuffer) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<ArrayBuffer>((res, rej) => ((resolve = res), (reject = rej)));
    const item: Pending = { key, promise, resolve, reject, batch: null, cancelled: false };
    this.pending.set(key, item);
    if (urgent) this.queue.unshift(item);
    else this.queue.push(item);
    this.schedule();
    return promise;
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

  private async send(items: Pending[]): Promise<void> {
    const controller = new AbortController();
    for (const item of items) item.batch = controller;
    this.batches.set(controller, items);
    const init: RequestInit = { signal: controller.signal, credentials: 'same-origin' };
    try {
      const response = await this.fetchFn(this.options.batchUrl(items.map((item) => item.key)), init);
      if (response.status === 413) {
        // Too many bytes for one batch (large multi-frame files): each on its own.
        await Promise.all(items.map((item) => this.fetchSingle(item.key, init).then(item.resolve, item.reject)));
        return;
      }
      if (!response.ok || !response.body) throw new Error(`the file batch was refused (HTTP ${response.status}): ${await response.text()}`);
      const waiting = new Map(items.map((item) => [item.key, item]));
      for await (const record of readFileBatch(response.body)) {
        const item = waiting.get(record.key);
        if (!item) continue;
        waiting.delete(record.key);
        if (record.ok) item.resolve(record.bytes);
        else item.reject(new Error(record.reason));
      }
      for (const item of waiting.values()) item.reject(new Error(`the file batch did not answer for ${item.key}`));
    } catch (error) {
      for (const item of items) item.reject(item.cancelled ? new FileBatchCancelled(item.key) : error);
    } finally {
      this.batches.delete(controller);
      for (const item of items) if (this.pending.get(item.key) === item) this.pending.delete(item.key);
      this.pump();
    }
  }

  private async fetchSingle(key: string, init: RequestInit): Promise<ArrayBuffer> {
    const response = await this.fetchFn(this.options.fileUrl(key), init);
    if (!response.ok) throw new Error(`${key}: HTTP ${response.status} ${await response.text()}`);
    return response.arrayBuffer();
  }
}
