// The host's way to the instance-info worker (instance-info-worker.ts): one thread,
// started on first use, kept while there is work and not keeping the process alive when
// idle. It shares the process environment, so MEDREASONER_MAX_INFLATE_MB set after start
// still applies. A crashed worker fails what it had and the next request starts another.
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { siblingWorkerUrl } from '../worker-url.ts';
import type { InstanceInfo } from './instance-info.ts';
import { NotPart10Error } from './part10.ts';

export interface InstanceInfoRequest {
  id: number;
  file: string;
}

export type InstanceInfoReply =
  | { id: number; ok: true; info: InstanceInfo; digest: string }
  | { id: number; ok: false; name: string; message: string; code?: string };

export interface InspectedInstance {
  info: InstanceInfo;
  /** sha-256 of the data set bytes (after the file meta information, which each sender writes its own way). */
  digest: string;
}

interface Pending {
  resolve: (inspected: InspectedInstance) => void;
  reject: (error: Error) => void;
}

let worker: Worker | null = null;
const pending = new Map<number, Pending>();
let nextId = 1;

function startWorker(): Worker {
  const started = new Worker(siblingWorkerUrl('instance-info-worker', import.meta.url), { env: SHARE_ENV });
  started.unref();
  started.on('message', (reply: InstanceInfoReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (pending.size === 0) started.unref();
    if (reply.ok) waiting.resolve({ info: reply.info, digest: reply.digest });
    else if (reply.name === 'NotPart10Error') waiting.reject(new NotPart10Error(reply.message));
    // A system error keeps its code (ENOENT, EACCES…): the store tells its own failures from a file's.
    else waiting.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
  });
  const fail = (error: Error) => {
    if (worker !== started) return;
    worker = null;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  started.on('error', (error) => fail(new Error(`the instance parser crashed: ${error.message}`, { cause: error })));
  started.on('exit', (code) => fail(new Error(`the instance parser exited (code ${code})`)));
  return started;
}

/** The SOP identity of a Part 10 file and a digest of its data set, read in the worker. */
export function inspectInstance(file: string): Promise<InspectedInstance> {
  worker ??= startWorker();
  const target = worker;
  const id = nextId++;
  return new Promise<InspectedInstance>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    target.ref();
    target.postMessage({ id, file } satisfies InstanceInfoRequest);
  });
}
