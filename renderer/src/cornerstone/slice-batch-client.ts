// The FileBatcher's transport through slice-batch workers: each batch goes to the least busy
// worker, which fetches, parses and decodes it (slice-batch.worker.ts) and answers file by
// file; an abort cancels the batch there. Keeps the page's main thread out of the per-file work.
// Each worker is a WorkerRpc (electron/common/worker-rpc.ts): a batch is one request, each
// file's answer a progress message, and a worker that fails is replaced at the next batch.
import { WorkerRpc } from '../../../electron/common/worker-rpc.ts';
import { domWorkerPort } from '../dom-worker-port.ts';
import type { BatchResult, BatchTransport } from './file-batcher.ts';
import type { DecodeRequest, FromSliceWorker, SliceBatchRequest, SliceOutcome } from './slice-batch-protocol.ts';

type FileAnswer = { key: string; result: BatchResult<SliceOutcome> };
type SliceRpc = WorkerRpc<{ request: SliceBatchRequest; reply: FromSliceWorker; result: void; progress: FileAnswer; transfer: Transferable }>;

export type SliceBatchUrls = { batchUrl(keys: readonly string[]): string; fileUrl(key: string): string };

export class SliceBatchClient implements BatchTransport<SliceOutcome, DecodeRequest> {
  private readonly workers: Array<{ rpc: SliceRpc; batches: number }> = [];
  private readonly urls: SliceBatchUrls;

  constructor(urls: SliceBatchUrls, workerCount: number, createWorker: () => Worker = () => new Worker(new URL('./slice-batch.worker.ts', import.meta.url), { type: 'module', name: 'slice-batch' })) {
    this.urls = urls;
    for (let i = 0; i < Math.max(1, workerCount); i++) {
      const rpc: SliceRpc = new WorkerRpc({
        name: 'slice-batch worker',
        start: () => domWorkerPort(createWorker()),
        read: (reply) => {
          if (reply.kind === 'slice-file') {
            return { id: reply.id, kind: 'progress', progress: { key: reply.key, result: reply.ok ? { ok: true, value: reply.outcome } : { ok: false, error: new Error(reply.reason) } } };
          }
          return reply.error === null ? { id: reply.id, kind: 'result', result: undefined } : { id: reply.id, kind: 'error', error: new Error(reply.error) };
        },
        afterFailure: 'restart',
      });
      // Started with the app: the worker carries every codec (~2 MB of script), which would otherwise load at the first series.
      rpc.prepare();
      this.workers.push({ rpc, batches: 0 });
    }
  }

  async send(files: ReadonlyArray<{ key: string; request: DecodeRequest }>, signal: AbortSignal, deliver: (key: string, result: BatchResult<SliceOutcome>) => void): Promise<void> {
    const worker = this.workers.reduce((best, next) => (next.batches < best.batches ? next : best));
    let batchId: number | null = null;
    const onAbort = () => {
      if (batchId !== null) worker.rpc.post({ kind: 'slice-batch-cancel', id: batchId });
    };
    worker.batches++;
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await worker.rpc.request(
        (id) => {
          batchId = id;
          return { kind: 'slice-batch', id, url: this.urls.batchUrl(files.map((file) => file.key)), files: files.map((file) => ({ key: file.key, url: this.urls.fileUrl(file.key), decode: file.request })) };
        },
        { onProgress: (answer) => deliver(answer.key, answer.result) },
      );
    } catch (error) {
      throw signal.aborted ? new DOMException('the file batch was cancelled', 'AbortError') : error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      worker.batches--;
    }
  }
}
