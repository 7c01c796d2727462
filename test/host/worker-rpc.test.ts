// WorkerRpc (electron/common/worker-rpc.ts) over a real worker_threads worker
// (rpc-test-worker.ts, started through node-worker-port.ts): answers go to the request
// they name whatever order they come in, an error reply fails only its request, a crash or
// an exit rejects everything in flight with an error naming the worker, after which the
// client restarts or stays failed as it chose; transfer lists move buffers both ways;
// progress reaches its request; an idle worker held only while busy lets its process end.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerGoneError, type WorkerRpc } from '../../electron/common/worker-rpc.ts';
import { startNodeWorker } from '../../electron/host/node-worker-port.ts';
import { testRpc, type TestRpc } from './rpc-test-client.ts';

const workerUrl = new URL('./rpc-test-worker.ts', import.meta.url);
const opened: Array<WorkerRpc<TestRpc>> = [];
let started = 0;

function open(afterFailure: 'restart' | 'stay-failed', onWorkerGone?: (reason: Error) => void): WorkerRpc<TestRpc> {
  const rpc = testRpc(
    afterFailure,
    () => {
      started++;
      return startNodeWorker(workerUrl);
    },
    onWorkerGone,
  );
  opened.push(rpc);
  return rpc;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((rpc) => rpc.close()));
  started = 0;
});

describe('WorkerRpc over a worker_threads worker', () => {
  it('matches each answer to its request, whatever order the answers come in', async () => {
    const rpc = open('restart');
    const finished: string[] = [];
    const delays = [300, 200, 100, 0];
    const answers = delays.map((delayMs, i) =>
      rpc.request((id) => ({ id, op: 'echo', value: `request ${i}`, delayMs })).then((value) => {
        finished.push(value as string);
        return value;
      }),
    );
    expect(rpc.busy).toBe(true);
    expect(await Promise.all(answers)).toEqual(['request 0', 'request 1', 'request 2', 'request 3']);
    // The worker answered the shortest delay first: the answers came back in reverse.
    expect(finished).toEqual(['request 3', 'request 2', 'request 1', 'request 0']);
    expect(rpc.busy).toBe(false);
    expect(started).toBe(1);
  });

  it('rejects only the request whose reply is an error', async () => {
    const rpc = open('restart');
    const before = rpc.request((id) => ({ id, op: 'echo', value: 'before', delayMs: 50 }));
    const failed = rpc.request((id) => ({ id, op: 'fail', message: 'no such file' }));
    const after = rpc.request((id) => ({ id, op: 'echo', value: 'after', delayMs: 0 }));
    await expect(failed).rejects.toThrow('no such file');
    expect(await before).toBe('before');
    expect(await after).toBe('after');
    expect(started).toBe(1);
  });

  it('passes progress to the request it belongs to, in order, before the answer', async () => {
    const rpc = open('restart');
    const seen: Array<[string, number]> = [];
    const first = rpc.request((id) => ({ id, op: 'progress', steps: 4 }), { onProgress: (fraction) => seen.push(['first', fraction]) });
    const second = rpc.request((id) => ({ id, op: 'progress', steps: 2 }), { onProgress: (fraction) => seen.push(['second', fraction]) });
    expect(await first).toBe('done');
    expect(await second).toBe('done');
    expect(seen.filter(([who]) => who === 'first').map(([, fraction]) => fraction)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(seen.filter(([who]) => who === 'second').map(([, fraction]) => fraction)).toEqual([0.5, 1]);
  });

  it('transfers buffers to the worker and back', async () => {
    const rpc = open('restart');
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const sum = rpc.request((id) => ({ id, op: 'sum', bytes: bytes.buffer }), { transfer: [bytes.buffer] });
    // Moved, not copied: the page's view of it is empty now.
    expect(bytes.byteLength).toBe(0);
    expect(await sum).toBe(256);
    const back = (await rpc.request((id) => ({ id, op: 'bytes', length: 300 }))) as ArrayBuffer;
    expect(back).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(back)]).toEqual(Array.from({ length: 300 }, (_, i) => i % 256));
  });

  it('fails only the request whose message does not clone; nothing stays pending', async () => {
    const rpc = open('restart');
    const uncloneable = { id: 0, op: 'echo', value: (() => 'a function') as unknown as string, delayMs: 0 } as const;
    await expect(rpc.request((id) => ({ ...uncloneable, id }))).rejects.toThrow(/could not be cloned/);
    expect(rpc.busy).toBe(false);
    expect(await rpc.request((id) => ({ id, op: 'echo', value: 'fine', delayMs: 0 }))).toBe('fine');
  });

  it('a crash rejects every pending request naming the worker; the next request starts another worker', async () => {
    const gone: Error[] = [];
    const rpc = open('restart', (reason) => gone.push(reason));
    const firstThread = await rpc.request((id) => ({ id, op: 'thread' }));
    const hanging = [1, 2, 3].map(() => rpc.request((id) => ({ id, op: 'hang' })));
    const crash = rpc.request((id) => ({ id, op: 'crash', message: 'decoder blew up' }));
    const outcomes = await Promise.allSettled([...hanging, crash]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as WorkerGoneError;
      expect(reason).toBeInstanceOf(WorkerGoneError);
      expect(reason.message).toBe('the test worker crashed: decoder blew up');
      expect(reason.worker).toBe('test worker');
      expect((reason.cause as Error).message).toBe('decoder blew up');
    }
    expect(rpc.busy).toBe(false);
    expect(gone).toHaveLength(1);
    const secondThread = await rpc.request((id) => ({ id, op: 'thread' }));
    expect(secondThread).not.toBe(firstThread);
    expect(started).toBe(2);
  });

  it('an exit rejects what was pending with the exit code; a stay-failed client rejects every later request with it', async () => {
    const rpc = open('stay-failed');
    const hanging = rpc.request((id) => ({ id, op: 'hang' }));
    const exiting = rpc.request((id) => ({ id, op: 'exit', code: 3 }));
    await expect(hanging).rejects.toThrow('the test worker exited (code 3) before it answered');
    await expect(exiting).rejects.toThrow('the test worker exited (code 3) before it answered');
    await expect(rpc.request((id) => ({ id, op: 'echo', value: 'late', delayMs: 0 }))).rejects.toThrow('the test worker exited (code 3) before it answered');
    expect(started).toBe(1);
  });

  it('stop() terminates the worker and rejects what it had with the reason given; the next request starts another', async () => {
    const rpc = open('restart');
    const slow = rpc.request((id) => ({ id, op: 'echo', value: 'too late', delayMs: 100 }));
    const hanging = rpc.request((id) => ({ id, op: 'hang' }));
    const reason = new Error('cancelled by the user');
    rpc.stop(reason);
    await expect(slow).rejects.toBe(reason);
    await expect(hanging).rejects.toBe(reason);
    expect(await rpc.request((id) => ({ id, op: 'echo', value: 'fresh', delayMs: 0 }))).toBe('fresh');
    expect(started).toBe(2);
  });

  it('close() rejects what was pending and every later request', async () => {
    const rpc = open('restart');
    const hanging = expect(rpc.request((id) => ({ id, op: 'hang' }))).rejects.toThrow('the test worker was closed');
    await rpc.close();
    await hanging;
    await expect(rpc.request((id) => ({ id, op: 'thread' }))).rejects.toThrow('the test worker was closed');
  });

  it('a worker held only while busy lets its process end once the answer is in', async () => {
    const child = new URL('./rpc-idle-child.ts', import.meta.url).pathname;
    // A worker that stayed ref'd would keep the child alive until this timeout killed it.
    const { stdout } = await promisify(execFile)(process.execPath, [child], { timeout: 30_000 });
    expect(stdout.trim()).toBe('still here');
  });
});
