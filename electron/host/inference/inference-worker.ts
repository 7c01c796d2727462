// The inference worker thread: owns the ONNX Runtime sessions (through one InferenceEngine)
// so that session.run, which blocks its thread, never blocks the host's main thread. Jobs
// arrive one at a time from the service's queue; cancellation arrives through shared memory,
// because a running job does not yield to the message loop between tokens.
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceEngine, InferenceError, type StageName } from './inference-engine.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './inference-protocol.ts';

const data = workerData as WorkerData;
const port = parentPort!;
const cancelFlag = new Int32Array(data.cancelFlag);
const send = (message: WorkerReply) => port.postMessage(message);

const engine = await InferenceEngine.create({
  models: data.models,
  ...(data.knownManifestsDir ? { knownManifestsDir: data.knownManifestsDir } : {}),
  ...(data.provider ? { provider: data.provider } : {}),
  ...(data.crmServer ? { crmServer: data.crmServer } : {}),
  log: (message) => send({ type: 'log', message }),
});
send({ type: 'ready', provider: engine.provider });

port.on('message', async (request: WorkerRequest) => {
  const { seq } = request;
  const hooks = {
    onToken: (text: string) => send({ type: 'token', seq, text }),
    onStage: (stage: StageName, state: 'started' | 'finished' | 'failed', ms?: number, detail?: string) =>
      send({ type: 'stage', seq, stage, state, ...(ms !== undefined ? { ms } : {}), ...(detail !== undefined ? { detail } : {}) }),
    isCancelled: () => Atomics.load(cancelFlag, 0) === seq,
  };
  try {
    switch (request.type) {
      case 'status':
        send({ type: 'result', seq, result: await engine.status() });
        break;
      case 'list':
        send({ type: 'result', seq, result: await engine.list() });
        break;
      case 'configure':
        engine.setCrmServer(request.crmServer);
        send({ type: 'result', seq, result: null });
        break;
      case 'warm':
        await engine.warm();
        send({ type: 'result', seq, result: null });
        break;
      case 'ask': {
        const { jobId, slice, question, window, promptVariant, maxNewTokens, dumpInput } = request;
        const result = await engine.ask(
          { jobId, slice, question, ...(window ? { window } : {}), ...(promptVariant ? { promptVariant } : {}), ...(maxNewTokens ? { maxNewTokens } : {}), ...(dumpInput ? { dumpInput } : {}) },
          hooks,
        );
        send({ type: 'result', seq, result });
        break;
      }
      case 'segment': {
        const { slice, box, points, boxKind, window } = request;
        send({ type: 'result', seq, result: await engine.segment({ slice, box, points, ...(boxKind ? { boxKind } : {}), ...(window ? { window } : {}) }, hooks) });
        break;
      }
    }
  } catch (error) {
    if (error instanceof InferenceError) send({ type: 'error', seq, code: error.code, message: error.message });
    else send({ type: 'error', seq, code: 'internal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
