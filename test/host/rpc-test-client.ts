// The WorkerRpc of worker-rpc.test.ts over rpc-test-worker.ts.
import type { Transferable } from 'node:worker_threads';
import { WorkerRpc, type WorkerPort, type WorkerRpcOptions } from '../../electron/common/worker-rpc.ts';
import type { TestReply, TestRequest } from './rpc-test-worker.ts';

export type TestRpc = { request: TestRequest; reply: TestReply; result: unknown; progress: number; transfer: Transferable };

export function testRpc(afterFailure: WorkerRpcOptions<TestRpc>['afterFailure'], start: () => WorkerPort<Transferable>, onWorkerGone?: (reason: Error) => void): WorkerRpc<TestRpc> {
  return new WorkerRpc<TestRpc>({
    name: 'test worker',
    start,
    read: (reply) => {
      if ('progress' in reply) return { id: reply.id, kind: 'progress', progress: reply.progress };
      return reply.ok ? { id: reply.id, kind: 'result', result: reply.value } : { id: reply.id, kind: 'error', error: new Error(reply.message) };
    },
    afterFailure,
    ...(onWorkerGone ? { onWorkerGone } : {}),
  });
}
