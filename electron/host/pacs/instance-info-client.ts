// The host's way to the instance-info worker (instance-info-worker.ts): one thread,
// started on first use, kept while there is work and not keeping the process alive when
// idle. It shares the process environment, so MEDREASONER_MAX_INFLATE_MB set after start
// still applies. A crashed worker fails what it had and the next request starts another.
import { SHARE_ENV, type Transferable } from 'node:worker_threads';
import { WorkerRpc } from '../../common/worker-rpc.ts';
import { startNodeWorker } from '../node-worker-port.ts';
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

const rpc = new WorkerRpc<{ request: InstanceInfoRequest; reply: InstanceInfoReply; result: InspectedInstance; progress: never; transfer: Transferable }>({
  name: 'instance parser',
  start: () => startNodeWorker(siblingWorkerUrl('instance-info-worker', import.meta.url), { env: SHARE_ENV, holdOnlyWhileBusy: true }),
  read: (reply) => {
    if (reply.ok) return { id: reply.id, kind: 'result', result: { info: reply.info, digest: reply.digest } };
    // A system error keeps its code (ENOENT, EACCES…): the store tells its own failures from a file's.
    const error = reply.name === 'NotPart10Error' ? new NotPart10Error(reply.message) : Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {});
    return { id: reply.id, kind: 'error', error };
  },
  afterFailure: 'restart',
});

/** The SOP identity of a Part 10 file and a digest of its data set, read in the worker. */
export function inspectInstance(file: string): Promise<InspectedInstance> {
  return rpc.request((id) => ({ id, file }));
}
