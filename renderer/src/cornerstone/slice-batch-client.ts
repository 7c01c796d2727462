// The FileBatcher's transport through slice-batch workers: each batch goes to the least busy
// worker, which fetches, parses and decodes it (slice-batch.worker.ts) and answers file by
// file; an abort cancels the batch there. Keeps the page's main thread out of the per-file work.
import type { BatchTransport } from './file-batcher.ts';
import type { DecodeRequest, FromSliceWorker, SliceOutcome, ToSliceWorker } from './slice-batch-protocol.ts';

type Running = { deliver: Parameters<BatchTransport<SliceOutcome, DecodeRequest | null>['send']>[2]; done(error: string | null): void; worker: Worker };

export type SliceBatchUrls = { batchUrl(keys: readonly string[]): string; fileUrl(key: string): string };

export class SliceBatchClient implements BatchTransport<SliceOutcome, DecodeRequest | null> {
  private readonly workers: Worker[] = [];
  private readonly load = new Map<Worker, number>();
  private readonly running = new Map<number, Running>();
  private nextBatchId = 1;
  private readonly urls: SliceBatchUrls;

  constructor(urls: SliceBatchUrls, workerCount: number, createWorker: () => Worker = () => new Worker(new URL('./slice-batch.worker.ts', import.meta.url), { type: 'module', name: 'slice-batch' })) {
    this.urls = urls;
    for (let i = 0; i < Math.max(1, workerCount); i++) {
      const worker = createWorker();
      worker.addEventListener('message', (event: MessageEvent<FromSliceWorker>) => this.onMessage(event.data));
      worker.addEventListener('error', (event) => this.failWorker(worker, event.message || 'the slice-batch worker failed'));
      this.workers.push(worker);
      this.load.set(worker, 0);
    }
  }

  send(files: ReadonlyArray<{ key: string; request: DecodeRequest | null }>, signal: AbortSignal, deliver: Running['deliver']): Promise<void> {
    const worker = this.workers.reduce((best, next) => ((this.load.get(next) ?? 0) < (this.load.get(best) ?? 0) ? next : best));
    const batchId = this.nextBatchId++;
    const keys = files.map((file) => file.key);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => this.post(worker, { kind: 'slice-batch-cancel', batchId });
      this.running.set(batchId, {
        deliver,
        worker,
        done: (error) => {
          signal.removeEventListener('abort', onAbort);
          this.running.delete(batchId);
          this.load.set(worker, (this.load.get(worker) ?? 1) - 1);
          if (error === null) resolve();
          else reject(signal.aborted ? new DOMException('the file batch was cancelled', 'AbortError') : new Error(error));
        },
      });
      this.load.set(worker, (this.load.get(worker) ?? 0) + 1);
      signal.addEventListener('abort', onAbort, { once: true });
      this.post(worker, {
        kind: 'slice-batch',
        batchId,
        url: this.urls.batchUrl(keys),
        files: files.map((file) => ({ key: file.key, url: this.urls.fileUrl(file.key), decode: file.request })),
      });
    });
  }

  private post(worker: Worker, message: ToSliceWorker): void {
    worker.postMessage(message);
  }

  private onMessage(message: FromSliceWorker): void {
    const running = this.running.get(message.batchId);
    if (!running) return;
    if (message.kind === 'slice-batch-done') running.done(message.error);
    else if (message.ok) running.deliver(message.key, { ok: true, value: message.outcome });
    else running.deliver(message.key, { ok: false, error: new Error(message.reason) });
  }

  /** A worker that failed to load or threw outside a batch: its batches fail with the reason (the files can be asked for again). */
  private failWorker(worker: Worker, reason: string): void {
    for (const running of [...this.running.values()]) if (running.worker === worker) running.done(reason);
  }
}
