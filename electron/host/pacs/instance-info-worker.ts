// The parse of received instances, off the main thread: a peer chooses what it sends
// (a deflated data set inflates up to the inflate budget, a header may be long), and the
// main thread answers every other call meanwhile. Also digests the data set bytes, which
// is how a re-sent instance is told from a different one with the same SOP Instance UID.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parentPort } from 'node:worker_threads';
import { readInstanceInfo } from './instance-info.ts';
import type { InstanceInfoReply, InstanceInfoRequest } from './instance-info-client.ts';

if (!parentPort) throw new Error('instance-info-worker.ts runs as a worker thread');
const port = parentPort;

async function datasetDigest(file: string, datasetOffset: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { start: datasetOffset }), hash);
  return hash.digest('hex');
}

port.on('message', (request: InstanceInfoRequest) => {
  void (async () => {
    try {
      const info = await readInstanceInfo(request.file);
      const digest = await datasetDigest(request.file, info.datasetOffset);
      port.postMessage({ id: request.id, ok: true, info, digest } satisfies InstanceInfoReply);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      port.postMessage({
        id: request.id,
        ok: false,
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
        ...(typeof code === 'string' ? { code } : {}),
      } satisfies InstanceInfoReply);
    }
  })();
});
