// The host's side of inference: one worker thread that owns the ONNX Runtime sessions, one
// queue (a job runs only after the previous one ended), cancellation (a queued job leaves
// the queue; a running CRM job stops at the next token), and events for streamed tokens and
// stage progress. Status and model lists are answered here from file checks, so they stay
// quick while the worker is generating. A crashed worker fails its jobs and is restarted
// by the next request.
import { Worker } from 'node:worker_threads';
import type { AskResult, InferenceStatus, InferenceWindow, ModelsList, SegmentResult } from '../../common/contract-inference.ts';
import type { ModelsDirChoice } from '../models/registry.ts';
import { siblingWorkerUrl } from '../worker-url.ts';
import type { ProviderDecision } from './execution-provider.ts';
import { InferenceError, type SliceInput, type StageName } from './inference-engine.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './inference-protocol.ts';
import { inferenceStatus, modelsList } from './model-status.ts';
import type { CrmServerChoice } from './remote/remote-crm-loader.ts';
import type { BoxKind, PixelBox, PromptPoint } from './segmenter-types.ts';

export interface InferenceServiceOptions {
  models: ModelsDirChoice;
  knownManifestsDir?: string;
  /** Skip the CUDA probe (tests, MEDREASONER_DEVICE). */
  provider?: ProviderDecision;
  /** The CRM answers from this server (remote/); the ASM stays in the worker. */
  crmServer?: CrmServerChoice;
  log?: (message: string) => void;
  onToken?: (jobId: string, text: string) => void;
  onStage?: (jobId: string, stage: StageName | 'queued', state: 'started' | 'finished' | 'failed', ms?: number, detail?: string) => void;
}

type Request = WorkerRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

interface Job {
  seq: number;
  jobId: string;
  request: Request;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class InferenceService {
  readonly #options: InferenceServiceOptions;
  readonly #cancelBuffer = new SharedArrayBuffer(4);
  readonly #cancelFlag = new Int32Array(this.#cancelBuffer);
  #worker: Worker | null = null;
  #ready: Promise<ProviderDecision> | null = null;
  #queue: Job[] = [];
  #running: Job | null = null;
  #seq = 0;
  #disposed = false;

  constructor(options: InferenceServiceOptions) {
    this.#options = options;
  }

  /** Starts the worker (and the provider decision) now rather than at the first request. */
  start(): Promise<ProviderDecision> {
    return this.#ensureWorker();
  }

  get models(): ModelsDirChoice {
    return this.#options.models;
  }

  #ensureWorker(): Promise<ProviderDecision> {
    if (this.#disposed) return Promise.reject(new InferenceError('internal', 'the inference service was shut down'));
    if (this.#ready) return this.#ready;
    const data: WorkerData = {
      models: this.#options.models,
      cancelFlag: this.#cancelBuffer,
      ...(this.#options.knownManifestsDir ? { knownManifestsDir: this.#options.knownManifestsDir } : {}),
      ...(this.#options.provider ? { provider: this.#options.provider } : {}),
      ...(this.#options.crmServer ? { crmServer: this.#options.crmServer } : {}),
    };
    const worker = new Worker(siblingWorkerUrl('inference-worker', import.meta.url), { workerData: data });
    this.#worker = worker;
    this.#ready = new Promise<ProviderDecision>((resolve, reject) => {
      const fail = (error: Error) => {
        if (this.#worker !== worker) return;
        this.#worker = null;
        this.#ready = null;
        reject(error);
        const crashed = new InferenceError('internal', `the inference worker stopped: ${error.message}`);
        if (this.#running) this.#running.reject(crashed);
        this.#running = null;
        for (const job of this.#queue.splice(0)) job.reject(crashed);
      };
      worker.on('message', (message: WorkerReply) => {
        switch (message.type) {
          case 'ready':
            resolve(message.provider);
            this.#pump();
            break;
          case 'log':
            this.#options.log?.(message.message);
            break;
          case 'token':
            if (this.#running?.seq === message.seq) this.#options.onToken?.(this.#running.jobId, message.text);
            break;
          case 'stage':
            if (this.#running?.seq === message.seq) this.#options.onStage?.(this.#running.jobId, message.stage, message.state, message.ms, message.detail);
            break;
          case 'result':
          case 'error': {
            const job = this.#running;
            if (!job || job.seq !== message.seq) break;
            this.#running = null;
            if (message.type === 'result') job.resolve(message.result);
            else job.reject(new InferenceError(message.code, message.message));
            this.#pump();
            break;
          }
        }
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    });
    // An unobserved rejection here would be reported twice: callers see it through their job.
    this.#ready.catch(() => {});
    return this.#ready;
  }

  #pump(): void {
    if (this.#running || !this.#worker) return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#running = job;
    const request = { ...job.request, seq: job.seq } as WorkerRequest;
    const transfer = 'slice' in request ? [request.slice.pixels.buffer as ArrayBuffer] : [];
    this.#worker.postMessage(request, transfer);
  }

  #enqueue<T>(jobId: string, request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { seq: ++this.#seq, jobId, request, resolve: resolve as (v: unknown) => void, reject };
      this.#queue.push(job);
      if (request.type === 'ask' || request.type === 'segment') this.#options.onStage?.(jobId, 'queued', 'started', undefined, `${this.#queue.length + (this.#running ? 1 : 0) - 1} ahead`);
      this.#ensureWorker().then(
        () => this.#pump(),
        (error: Error) => {
          const index = this.#queue.indexOf(job);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(error instanceof InferenceError ? error : new InferenceError('internal', `the inference worker failed to start: ${error.message}`));
        },
      );
    });
  }

  async status(): Promise<InferenceStatus> {
    const provider = await this.#ensureWorker();
    const status = await inferenceStatus(this.#options.models, provider, this.#options.knownManifestsDir);
    const server = this.#options.crmServer?.config;
    if (!server) return { ...status, crmServer: null };
    const origin = new URL(server.baseUrl).origin;
    // The server answers for the CRM: the ask panel and the CLI treat it as ready.
    return {
      ...status,
      crm: { role: 'crm', state: 'ready', modelId: server.model, variant: 'server', label: `${server.model} on ${server.name} (${origin})`, message: null },
      crmServer: { name: server.name, origin, model: server.model },
    };
  }

  /** Which CRM answers from now on: a server, or null for the local model. Takes effect after the running job. */
  setCrmServer(choice: CrmServerChoice | null): Promise<void> {
    if (choice) this.#options.crmServer = choice;
    else delete this.#options.crmServer;
    if (!this.#worker) return Promise.resolve();
    return this.#enqueue<void>('configure', { type: 'configure', crmServer: choice });
  }

  get crmServer(): CrmServerChoice | null {
    return this.#options.crmServer ?? null;
  }

  async list(): Promise<ModelsList> {
    return modelsList(this.#options.models, this.#options.knownManifestsDir);
  }

  /** Loads and runs each installed model once (sessions created, kernels warmed). */
  warm(): Promise<void> {
    return this.#enqueue<void>('warm', { type: 'warm' });
  }

  ask(request: { jobId: string; slice: SliceInput; question: string; window?: InferenceWindow; promptVariant?: string; maxNewTokens?: number; dumpInput?: string }): Promise<AskResult> {
    return this.#enqueue<AskResult>(request.jobId, { type: 'ask', ...request });
  }

  segment(request: { jobId: string; slice: SliceInput; box: PixelBox | null; points: PromptPoint[]; boxKind?: BoxKind; window?: InferenceWindow }): Promise<SegmentResult> {
    return this.#enqueue<SegmentResult>(request.jobId, { type: 'segment', ...request });
  }

  /** Cancels a queued or running job; false when no such job is known. */
  cancel(jobId: string): boolean {
    const index = this.#queue.findIndex((j) => j.jobId === jobId);
    if (index >= 0) {
      const [job] = this.#queue.splice(index, 1);
      job!.reject(new InferenceError('cancelled', `job ${jobId} was cancelled before it started`));
      return true;
    }
    if (this.#running?.jobId === jobId) {
      Atomics.store(this.#cancelFlag, 0, this.#running.seq);
      return true;
    }
    return false;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const stopped = new InferenceError('cancelled', 'the inference service was shut down');
    for (const job of this.#queue.splice(0)) job.reject(stopped);
    if (this.#running) Atomics.store(this.#cancelFlag, 0, this.#running.seq);
    const worker = this.#worker;
    this.#worker = null;
    this.#ready = null;
    if (this.#running) this.#running.reject(stopped);
    this.#running = null;
    if (worker) await worker.terminate();
  }
}
