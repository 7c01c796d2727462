// A worker_threads worker for worker-rpc.test.ts: answers each request by its id, in the
// order its work finishes (not the order requests came), and can fail, report progress,
// crash, exit or never answer on request.
import { parentPort, threadId } from 'node:worker_threads';

export type TestRequest =
  | { id: number; op: 'echo'; value: string; delayMs: number }
  | { id: number; op: 'fail'; message: string }
  | { id: number; op: 'progress'; steps: number }
  | { id: number; op: 'sum'; bytes: ArrayBuffer }
  | { id: number; op: 'bytes'; length: number }
  | { id: number; op: 'thread' }
  | { id: number; op: 'hang' }
  | { id: number; op: 'crash'; message: string }
  | { id: number; op: 'exit'; code: number };

export type TestReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string }
  | { id: number; progress: number };

if (!parentPort) throw new Error('rpc-test-worker.ts runs as a worker thread');
const port = parentPort;
const reply = (message: TestReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (request: TestRequest) => {
  switch (request.op) {
    case 'echo':
      setTimeout(() => reply({ id: request.id, ok: true, value: request.value }), request.delayMs);
      break;
    case 'fail':
      reply({ id: request.id, ok: false, message: request.message });
      break;
    case 'progress':
      for (let step = 1; step <= request.steps; step++) reply({ id: request.id, progress: step / request.steps });
      reply({ id: request.id, ok: true, value: 'done' });
      break;
    case 'sum':
      reply({ id: request.id, ok: true, value: new Uint8Array(request.bytes).reduce((total, byte) => total + byte, 0) });
      break;
    case 'bytes': {
      const bytes = new Uint8Array(request.length).map((_, i) => i % 256);
      reply({ id: request.id, ok: true, value: bytes.buffer }, [bytes.buffer]);
      break;
    }
    case 'thread':
      reply({ id: request.id, ok: true, value: threadId });
      break;
    case 'hang':
      break;
    case 'crash':
      // Thrown outside the message handler's call, as a decoder's failure in a callback would be.
      setTimeout(() => {
        throw new Error(request.message);
      });
      break;
    case 'exit':
      process.exit(request.code);
  }
});
