// The seg worker thread: runs SEG export (encode + write) and import (parse + map)
// away from the host's main thread. One worker serves one host request and exits.
import { parentPort } from 'node:worker_threads';
import type { ParsedSeg } from './seg-reader.ts';
import { inspectParsedSeg, readSegFile, runExportJob, runImportJob } from './seg-jobs.ts';
import type { SegWorkerRequest, SegWorkerResponse, SerializedError } from './seg-worker-protocol.ts';

if (!parentPort) throw new Error('seg-worker.ts runs as a worker thread');
const port = parentPort;
let parsed: ParsedSeg | null = null;

function serialize(error: unknown): SerializedError {
  if (error instanceof Error) {
    const problems = (error as { problems?: readonly string[] }).problems;
    return { name: error.name, message: error.message, ...(problems ? { problems: [...problems] } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

port.on('message', (request: SegWorkerRequest) => {
  void (async () => {
    try {
      let response: SegWorkerResponse;
      let transfer: ArrayBuffer[] = [];
      if (request.op === 'export') {
        response = { id: request.id, ok: true, result: await runExportJob(request.input) };
      } else if (request.op === 'inspect') {
        parsed = await readSegFile(request.path);
        response = { id: request.id, ok: true, result: inspectParsedSeg(parsed) };
      } else {
        if (!parsed) throw new Error('import before inspect: the worker holds no SEG');
        const result = runImportJob(parsed, request.source, { encode: request.encode });
        transfer = [result.labelmap.buffer as ArrayBuffer];
        response = { id: request.id, ok: true, result };
      }
      port.postMessage(response, transfer);
    } catch (error) {
      port.postMessage({ id: request.id, ok: false, error: serialize(error) } satisfies SegWorkerResponse);
    }
  })();
});
