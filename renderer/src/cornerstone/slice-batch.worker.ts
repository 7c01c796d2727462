// The slice-batch worker: fetches one file batch at a time for the page (several when asked),
// reads its records as they stream in, and decodes each file (slice-decoding.ts), posting
// each result as soon as it is ready with its pixel array transferred. The page's main thread
// then only builds the image object: parsing, decoding and the rescale all happen here.
import { readFileBatch } from '../../../electron/common/file-batch-format.ts';
import { decodeSliceFile } from './slice-decoding.ts';
import type { DecodeRequest, FromSliceWorker, SliceBatchRequest, SliceOutcome, ToSliceWorker } from './slice-batch-protocol.ts';

const scope = self as unknown as { postMessage(message: FromSliceWorker, transfer?: Transferable[]): void; addEventListener(type: 'message', listener: (event: MessageEvent<ToSliceWorker>) => void): void };
const running = new Map<number, AbortController>();

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.kind === 'slice-batch-cancel') running.get(message.id)?.abort();
  else if (message.kind === 'slice-batch') void runBatch(message);
});

function transferablesOf(outcome: SliceOutcome): Transferable[] {
  return [outcome.kind === 'decoded' ? (outcome.frame.pixelData.buffer as ArrayBuffer) : outcome.bytes];
}

async function answer(id: number, key: string, bytes: ArrayBuffer, decode: DecodeRequest): Promise<void> {
  const outcome = await decodeSliceFile(bytes, decode);
  scope.postMessage({ kind: 'slice-file', id, key, ok: true, outcome }, transferablesOf(outcome));
}

async function runBatch(request: SliceBatchRequest): Promise<void> {
  const controller = new AbortController();
  running.set(request.id, controller);
  const init: RequestInit = { signal: controller.signal, credentials: 'same-origin' };
  const wanted = new Map(request.files.map((file) => [file.key, file]));
  let error: string | null = null;
  try {
    const response = await fetch(request.url, init);
    if (response.status === 413) {
      // Too many bytes for one batch (large multi-frame files): each on its own.
      for (const file of request.files) {
        const single = await fetch(file.url, init);
        if (!single.ok) {
          scope.postMessage({ kind: 'slice-file', id: request.id, key: file.key, ok: false, reason: `HTTP ${single.status} ${await single.text()}` });
        } else {
          await answer(request.id, file.key, await single.arrayBuffer(), file.decode);
        }
        wanted.delete(file.key);
      }
    } else {
      if (!response.ok || !response.body) throw new Error(`the file batch was refused (HTTP ${response.status}): ${await response.text()}`);
      for await (const record of readFileBatch(response.body)) {
        const file = wanted.get(record.key);
        if (!file) continue;
        wanted.delete(record.key);
        if (record.ok) await answer(request.id, record.key, record.bytes, file.decode);
        else scope.postMessage({ kind: 'slice-file', id: request.id, key: record.key, ok: false, reason: record.reason });
      }
      if (wanted.size > 0) error = `the file batch did not answer for ${[...wanted.keys()].join(', ')}`;
    }
  } catch (caught) {
    error = controller.signal.aborted ? 'cancelled' : caught instanceof Error ? caught.message : String(caught);
  } finally {
    running.delete(request.id);
    scope.postMessage({ kind: 'slice-batch-done', id: request.id, error });
  }
}
