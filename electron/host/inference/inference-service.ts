// The host's side of inference: one child process that owns the ONNX Runtime sessions
// (inference-process.ts, started by an InferenceChildLauncher: fork, or utilityProcess in
// Electron), one queue (a job runs only after the previous one ended), cancellation (a
// queued job leaves the queue; a running CRM job stops at the next token), and events for
// streamed tokens and stage progress. Status and model lists are answered here from file
// checks, so they stay quick while the process is generating.
// A process that dies (ONNX Runtime aborting, out of memory) fails only the job it was
// running: the service names the model that was loading or running then, marks that role
// 'crashed' in models.status, tells the UI (onModelStatus), and restarts the process with
// backoff — a few times a minute at most; after that, the next request starts it again.
import type { AskResult, InferenceStatus, InferenceWindow, ModelsList, RoleStatus, SegmentResult } from '../../common/contract-inference.ts';
import type { ModelsDirChoice } from '../models/registry.ts';
import { siblingWorkerUrl } from '../worker-url.ts';
import type { ProviderDecision } from './execution-provider.ts';
import { forkInferenceChild, type InferenceChild, type InferenceChildLauncher } from './inference-child.ts';
import { InferenceError, type SliceInput, type StageName } from './inference-engine.ts';
import type { EngineInit, JobRequest, ProcessReply } from './inference-protocol.ts';
import { inferenceStatus, modelsList } from './model-status.ts';
import type { CrmServerChoice } from './remote/remote-crm-loader.ts';
import type { BoxKind, PixelBox, PromptPoint } from './segmenter-types.ts';

export interface ModelStatusChange {
  role: 'crm' | 'asm' | null;
  modelId: string | null;
  state: 'crashed' | 'recovered';
  message: string;
}

export interface RestartPolicy {
  /** Automatic restarts allowed within `windowMs` (default 3 a minute). */
  maxRestarts: number;
  windowMs: number;
  /** The first restart waits this long, each further one twice as long (default 250 ms). */
  baseDelayMs: number;
}

export interface InferenceServiceOptions {
  models: ModelsDirChoice;
  knownManifestsDir?: string;
  /** Skip the CUDA probe (tests, MEDREASONER_DEVICE). */
  provider?: ProviderDecision;
  /** The CRM answers from this server (remote/); the ASM stays in the inference process. */
  crmServer?: CrmServerChoice;
  /** How the inference process is started (default: child_process.fork). */
  launcher?: InferenceChildLauncher;
  restart?: Partial<RestartPolicy>;
  log?: (message: string) => void;
  onToken?: (jobId: string, text: string) => void;
  onStage?: (jobId: string, stage: StageName | 'queued', state: 'started' | 'finished' | 'failed', ms?: number, detail?: string) => void;
  onModelStatus?: (change: ModelStatusChange) => void;
}

type Request = JobRequest extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

interface Job {
  seq: number;
  jobId: string;
  request: Request;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Crash {
  role: 'crm' | 'asm';
  modelId: string;
  variant: string | null;
  message: string;
}

const STAGE_WORDS: Partial<Record<StageName, string>> = { 'load-crm': 'loading it', crm: 'running it', 'load-asm': 'loading it', asm: 'running it' };

function roleOf(job: Job, stage: StageName | null): 'crm' | 'asm' | null {
  if (stage === 'load-crm' || stage === 'crm' || stage === 'parse') return 'crm';
  if (stage === 'load-asm' || stage === 'asm') return 'asm';
  if (job.request.type === 'segment') return 'asm';
  if (job.request.type === 'ask') return 'crm';
  return null;
}

export class InferenceService {
  readonly #options: InferenceServiceOptions;
  readonly #policy: RestartPolicy;
  #child: InferenceChild | null = null;
  #childReady = false;
  #ready: Promise<ProviderDecision> | null = null;
  #provider: ProviderDecision | null = null;
  #queue: Job[] = [];
  #running: Job | null = null;
  #runningStage: StageName | null = null;
  #seq = 0;
  #crashTimes: number[] = [];
  readonly #crashes = new Map<'crm' | 'asm', Crash>();
  #disposed = false;

  constructor(options: InferenceServiceOptions) {
    this.#options = options;
    this.#policy = { maxRestarts: 3, windowMs: 60_000, baseDelayMs: 250, ...options.restart };
  }

  /** Starts the inference process (and the provider decision) now rather than at the first request. */
  start(): Promise<ProviderDecision> {
    return this.#ensureProcess();
  }

  get models(): ModelsDirChoice {
    return this.#options.models;
  }

  #ensureProcess(): Promise<ProviderDecision> {
    if (this.#disposed) return Promise.reject(new InferenceError('internal', 'the inference service was shut down'));
    if (!this.#ready) this.#ready = this.#spawn();
    // An unobserved rejection here would be reported twice: callers see it through their job.
    this.#ready.catch(() => {});
    return this.#ready;
  }

  #spawn(): Promise<ProviderDecision> {
    const child = (this.#options.launcher ?? forkInferenceChild)(siblingWorkerUrl('inference-process', import.meta.url));
    this.#child = child;
    this.#childReady = false;
    return new Promise<ProviderDecision>((resolve, reject) => {
      child.onMessage((message: ProcessReply) => {
        if (this.#child !== child) return;
        switch (message.type) {
          case 'ready':
            this.#childReady = true;
            this.#provider = message.provider;
            resolve(message.provider);
            this.#pump();
            break;
          case 'init-failed':
            reject(new InferenceError('internal', `the inference process could not start: ${message.message}`));
            child.kill();
            break;
          case 'log':
            this.#options.log?.(message.message);
            break;
          case 'token':
            if (this.#running?.seq === message.seq) this.#options.onToken?.(this.#running.jobId, message.text);
            break;
          case 'stage':
            if (this.#running?.seq !== message.seq) break;
            this.#runningStage = message.state === 'started' ? message.stage : null;
            this.#options.onStage?.(this.#running.jobId, message.stage, message.state, message.ms, message.detail);
            break;
          case 'result':
          case 'error': {
            const job = this.#running;
            if (!job || job.seq !== message.seq) break;
            this.#running = null;
            this.#runningStage = null;
            if (message.type === 'result') {
              this.#ranFine(job);
              job.resolve(message.result);
            } else job.reject(new InferenceError(message.code, message.message));
            this.#pump();
            break;
          }
        }
      });
      child.onExit((how) => {
        if (this.#child !== child) return;
        this.#child = null;
        this.#childReady = false;
        reject(new InferenceError('internal', `the inference process stopped before it was ready (${how})`));
        this.#stopped(how);
      });
      const init: EngineInit = {
        models: this.#options.models,
        ...(this.#options.knownManifestsDir ? { knownManifestsDir: this.#options.knownManifestsDir } : {}),
        ...(this.#options.provider ? { provider: this.#options.provider } : {}),
        ...(this.#options.crmServer ? { crmServer: this.#options.crmServer } : {}),
      };
      child.send({ type: 'init', init });
    });
  }

  /** The process ended without being asked to: fail its job, say which model, restart. */
  #stopped(how: string): void {
    const job = this.#running;
    const stage = this.#runningStage;
    this.#running = null;
    this.#runningStage = null;
    this.#ready = null;
    if (this.#disposed) return;
    const now = Date.now();
    this.#crashTimes = [...this.#crashTimes.filter((t) => now - t < this.#policy.windowMs), now];
    const restarting = this.#crashTimes.length <= this.#policy.maxRestarts;
    const restartWords = restarting
      ? 'The inference process was restarted; viewing and everything else go on.'
      : `It stopped ${this.#crashTimes.length} times within ${Math.round(this.#policy.windowMs / 1000)} s, so it is not restarted until the next request.`;
    this.#options.log?.(`inference: the inference process stopped (${how}); ${restarting ? 'restarting it' : 'not restarting it'}`);
    if (restarting) {
      const delay = this.#policy.baseDelayMs * 2 ** (this.#crashTimes.length - 1);
      this.#ready = new Promise<void>((resolve) => setTimeout(resolve, delay).unref()).then(() => {
        if (this.#disposed) throw new InferenceError('internal', 'the inference service was shut down');
        return this.#spawn();
      });
      this.#ready.catch(() => {});
    } else {
      const gaveUp = new InferenceError('model-crashed', `The inference process stopped (${how}) and was not restarted: ${restartWords}`);
      for (const queued of this.#queue.splice(0)) queued.reject(gaveUp);
    }
    void this.#reportCrash(job, stage, how, restartWords).catch((error: unknown) => {
      this.#options.log?.(`inference: the crash could not be reported: ${String(error)}`);
      job?.reject(new InferenceError('model-crashed', `The inference process stopped (${how}). ${restartWords}`));
    });
  }

  async #reportCrash(job: Job | null, stage: StageName | null, how: string, restartWords: string): Promise<void> {
    const role = job ? roleOf(job, stage) : null;
    let model: RoleStatus | null = null;
    if (role) {
      const provider = this.#provider ??
        this.#options.provider ?? { provider: 'cpu', reason: 'not decided: the inference process stopped first', probe: { attempted: false, error: null, ms: 0 } };
      const status = await inferenceStatus(this.#options.models, provider, this.#options.knownManifestsDir);
      model = status[role];
    }
    const what = model?.modelId ? `${model.label} (${model.modelId})` : role === 'asm' ? 'The segmenter' : role === 'crm' ? 'The reasoning model' : null;
    const when = stage && STAGE_WORDS[stage] ? ` while ${STAGE_WORDS[stage]}` : '';
    const message = what ? `${what} stopped the inference process (${how})${when}. ${restartWords}` : `The inference process stopped (${how}). ${restartWords}`;
    if (role && model?.modelId) this.#crashes.set(role, { role, modelId: model.modelId, variant: model.variant, message });
    this.#options.onModelStatus?.({ role, modelId: model?.modelId ?? null, state: 'crashed', message });
    job?.reject(new InferenceError('model-crashed', message));
  }

  /** A job that finished clears the crash mark of the roles it ran. */
  #ranFine(job: Job): void {
    const roles: Array<'crm' | 'asm'> = job.request.type === 'ask' ? ['crm', 'asm'] : job.request.type === 'segment' ? ['asm'] : [];
    for (const role of roles) {
      const crash = this.#crashes.get(role);
      if (!crash) continue;
      this.#crashes.delete(role);
      this.#options.onModelStatus?.({ role, modelId: crash.modelId, state: 'recovered', message: `${crash.modelId} ran again after the inference process was restarted.` });
    }
  }

  #pump(): void {
    if (this.#running || !this.#child || !this.#childReady) return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#running = job;
    this.#runningStage = null;
    this.#child.send({ ...job.request, seq: job.seq } as JobRequest);
  }

  #enqueue<T>(jobId: string, request: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { seq: ++this.#seq, jobId, request, resolve: resolve as (v: unknown) => void, reject };
      this.#queue.push(job);
      if (request.type === 'ask' || request.type === 'segment') this.#options.onStage?.(jobId, 'queued', 'started', undefined, `${this.#queue.length + (this.#running ? 1 : 0) - 1} ahead`);
      this.#ensureProcess().then(
        () => this.#pump(),
        (error: Error) => {
          const index = this.#queue.indexOf(job);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(error instanceof InferenceError ? error : new InferenceError('internal', `the inference process failed to start: ${error.message}`));
        },
      );
    });
  }

  async status(): Promise<InferenceStatus> {
    // A process that keeps crashing is not started again just to answer a status.
    const provider = this.#provider ?? (await this.#ensureProcess());
    const status = await inferenceStatus(this.#options.models, provider, this.#options.knownManifestsDir);
    for (const role of ['crm', 'asm'] as const) {
      const crash = this.#crashes.get(role);
      if (crash && status[role].modelId === crash.modelId && status[role].variant === crash.variant) {
        status[role] = { ...status[role], state: 'crashed', message: crash.message };
      }
    }
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
    // A process started later gets the choice in its init message.
    if (!this.#child) return Promise.resolve();
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
      this.#child?.send({ type: 'cancel', seq: this.#running.seq });
      return true;
    }
    return false;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const stopped = new InferenceError('cancelled', 'the inference service was shut down');
    for (const job of this.#queue.splice(0)) job.reject(stopped);
    const child = this.#child;
    this.#child = null;
    this.#ready = null;
    if (this.#running) this.#running.reject(stopped);
    this.#running = null;
    if (child) {
      const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
      child.kill();
      await exited;
    }
  }
}
