// The inference process: owns the ONNX Runtime sessions (through one InferenceEngine) in a
// process of its own, so that native code that aborts or runs out of memory takes down this
// process only, never the host, and session.run never blocks the host's main thread. Jobs
// arrive one at a time from the service's queue. A cancel arrives as a message: ONNX
// Runtime's run (and a CRM server's stream) returns to the event loop between tokens, so it
// is read before the next token.
import { InferenceEngine, InferenceError, type StageName } from './inference-engine.ts';
import { parentChannel } from './inference-child.ts';
import type { EngineInit, JobRequest, ProcessReply } from './inference-protocol.ts';

const channel = parentChannel();
const send = (message: ProcessReply) => channel.send(message);
let cancelledSeq = -1;
let engine: InferenceEngine | null = null;
const waiting: JobRequest[] = [];

async function init(data: EngineInit): Promise<void> {
  try {
    engine = await InferenceEngine.create({
      models: data.models,
      ...(data.knownManifestsDir ? { knownManifestsDir: data.knownManifestsDir } : {}),
      ...(data.provider ? { provider: data.provider } : {}),
      ...(data.crmServer ? { crmServer: data.crmServer } : {}),
      log: (message) => send({ type: 'log', message }),
    });
  } catch (error) {
    send({ type: 'init-failed', message: (error as Error).message });
    return;
  }
  send({ type: 'ready', provider: engine.provider });
  for (const request of waiting.splice(0)) void run(engine, request);
}

async function run(engine: InferenceEngine, request: JobRequest): Promise<void> {
  const { seq } = request;
  const hooks = {
    onToken: (text: string) => send({ type: 'token', seq, text }),
    onStage: (stage: StageName, state: 'started' | 'finished' | 'failed', ms?: number, detail?: string) =>
      send({ type: 'stage', seq, stage, state, ...(ms !== undefined ? { ms } : {}), ...(detail !== undefined ? { detail } : {}) }),
    isCancelled: () => cancelledSeq === seq,
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
}

channel.onMessage((message) => {
  switch (message.type) {
    case 'init':
      void init(message.init);
      break;
    case 'cancel':
      cancelledSeq = message.seq;
      break;
    default:
      if (engine) void run(engine, message);
      else waiting.push(message);
  }
});
