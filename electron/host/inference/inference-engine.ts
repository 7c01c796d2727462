// The MedReasoner pipeline, independent of threads: which models are installed, the
// execution provider (decided once), loaded sessions (cached, reloaded only when the
// installed model changes), and the two operations:
//   ask(slice, question)  → CRM (reasoning, box, two key points) → ASM → mask
//   segment(slice, prompts) → ASM only (MedSAM2 if installed, else the default segmenter)
// Every result carries per-stage timings. The inference process hosts one engine; tests may
// use one directly.
import path from 'node:path';
import type { AskResult, InferenceStatus, InferenceWindow, ModelsList, SegmentResult } from '../../common/contract-inference.ts';
import { knownManifests, listInstalled, type ModelsDirChoice } from '../models/registry.ts';
import { inferenceStatus, modelsList, roleStatus } from './model-status.ts';
import { fitAnswer, mapToSlice, parseAnswer } from './crm-answer.ts';
import { loadCrm, type CrmRunner } from './crm-runner.ts';
import { createDefaultSegmenter } from './default-segmenter.ts';
import { decideExecutionProvider, type ProviderDecision } from './execution-provider.ts';
import { defaultWindow, slicePicture, windowBounds } from './image-prep.ts';
import { maskToPng } from './mask-png.ts';
import { loadMedsam2 } from './medsam2-segmenter.ts';
import { CrmServerError } from './remote/crm-server-error.ts';
import { openRemoteCrm, type CrmServerChoice } from './remote/remote-crm-loader.ts';
import type { RemoteCrmRunner } from './remote/crm-remote.ts';
import { promptProblems, type BoxKind, type PixelBox, type PromptPoint, type SegmentImage, type SegmentPrompts, type Segmenter } from './segmenter-types.ts';

export type InferenceErrorCode = 'model-missing' | 'model-broken' | 'model-crashed' | 'invalid-prompts' | 'cancelled' | 'internal';

/** A test fixture's stand-in for a native crash while loading (manifest.ts testAbortOnLoad). */
function abortIfFixtureAsks(manifest: { testFixture: boolean; testAbortOnLoad?: boolean | undefined }): void {
  if (manifest.testFixture && manifest.testAbortOnLoad) process.abort();
}

export class InferenceError extends Error {
  readonly code: InferenceErrorCode;
  constructor(code: InferenceErrorCode, message: string) {
    super(message);
    this.name = 'InferenceError';
    this.code = code;
  }
}

/** A slice's pixels as the host decoded them (see slice-pixels.ts). */
export interface SliceInput {
  seriesKey: string;
  sliceIndex: number;
  width: number;
  height: number;
  pixels: Float32Array;
  invert: boolean;
  windowCenter?: number;
  windowWidth?: number;
  /** For a CRM server's audit log. */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

export type StageName = 'load-crm' | 'crm' | 'parse' | 'load-asm' | 'asm' | 'done';

export interface JobHooks {
  onToken?: (text: string) => void;
  onStage?: (stage: StageName, state: 'started' | 'finished' | 'failed', ms?: number, detail?: string) => void;
  isCancelled?: () => boolean;
}

export interface AskRequest {
  jobId: string;
  slice: SliceInput;
  question: string;
  window?: InferenceWindow;
  promptVariant?: string;
  maxNewTokens?: number;
  /** A folder to write the CRM's exact input and output tokens to (crm-dump.ts). */
  dumpInput?: string;
}

export interface SegmentRequest {
  slice: SliceInput;
  box: PixelBox | null;
  points: PromptPoint[];
  /** What the box says about the structure's extent (segmenter-types.ts); absent: the segmenter judges. */
  boxKind?: BoxKind;
  window?: InferenceWindow;
}

export interface EngineOptions {
  models: ModelsDirChoice;
  /** native-models/ (the known manifests); default: this checkout's. */
  knownManifestsDir?: string;
  /** Decided by the caller (tests); default: probe once. */
  provider?: ProviderDecision;
  log?: (message: string) => void;
  /** Ask this OpenAI-compatible server instead of the local CRM (the ASM stays local). */
  crmServer?: CrmServerChoice;
}

export class InferenceEngine {
  readonly provider: ProviderDecision;
  readonly models: ModelsDirChoice;
  readonly #knownDir: string | undefined;
  readonly #log: (message: string) => void;
  #crmServer: CrmServerChoice | undefined;
  #remote: RemoteCrmRunner | null = null;
  #crm: { key: string; runner: CrmRunner } | null = null;
  #asm: { key: string; segmenter: Segmenter } | null = null;
  readonly #defaultSegmenter = createDefaultSegmenter();

  private constructor(options: EngineOptions, provider: ProviderDecision) {
    this.models = options.models;
    this.provider = provider;
    this.#knownDir = options.knownManifestsDir;
    this.#log = options.log ?? (() => {});
    this.#crmServer = options.crmServer;
  }

  /** Switches the CRM between a server and the local model (Models settings); the next ask uses it. */
  setCrmServer(choice: CrmServerChoice | null): void {
    this.#crmServer = choice ?? undefined;
    this.#remote = null;
  }

  /** The server the CRM answers from, or null for the local model. */
  get crmServer(): CrmServerChoice | null {
    return this.#crmServer ?? null;
  }

  static async create(options: EngineOptions): Promise<InferenceEngine> {
    const provider = options.provider ?? (await decideExecutionProvider());
    options.log?.(`inference: execution provider ${provider.provider.toUpperCase()}: ${provider.reason}`);
    return new InferenceEngine(options, provider);
  }

  async status(): Promise<InferenceStatus> {
    return inferenceStatus(this.models, this.provider, this.#knownDir);
  }

  async list(): Promise<ModelsList> {
    return modelsList(this.models, this.#knownDir);
  }

  async #loadCrm(): Promise<CrmRunner> {
    if (this.#crmServer) return this.#loadRemoteCrm(this.#crmServer);
    const installed = await listInstalled(this.models.dir);
    const { status, selected } = roleStatus('crm', installed, await knownManifests(this.#knownDir), this.models, this.provider);
    if (!selected) throw new InferenceError(status.state === 'broken' ? 'model-broken' : 'model-missing', status.message ?? 'no CRM model');
    const key = `${selected.dir}|${selected.variant}|${selected.manifest.version}`;
    if (this.#crm?.key === key) return this.#crm.runner;
    if (this.#crm) await this.#crm.runner.dispose().catch(() => {});
    this.#crm = null;
    abortIfFixtureAsks(selected.manifest);
    try {
      const runner = await loadCrm({ dir: selected.dir, manifest: selected.manifest, variant: selected.variant, provider: this.provider.provider });
      this.#crm = { key, runner };
      this.#log(`inference: loaded CRM ${runner.label}`);
      return runner;
    } catch (error) {
      throw new InferenceError('model-broken', (error as Error).message);
    }
  }

  async #loadRemoteCrm(choice: CrmServerChoice): Promise<CrmRunner> {
    if (this.#remote) return this.#remote;
    // The installed package (if any) supplies the prompt and the picture limits; the weights stay unused.
    const installed = await listInstalled(this.models.dir);
    const { selected } = roleStatus('crm', installed, await knownManifests(this.#knownDir), this.models, this.provider);
    try {
      this.#remote = await openRemoteCrm(choice, selected?.dir ?? null);
    } catch (error) {
      throw new InferenceError('model-missing', (error as Error).message);
    }
    this.#log(`inference: CRM on ${this.#remote.label}`);
    return this.#remote;
  }

  async #loadAsm(): Promise<Segmenter> {
    const installed = await listInstalled(this.models.dir);
    const { status, selected } = roleStatus('asm', installed, await knownManifests(this.#knownDir), this.models, this.provider);
    if (!selected) {
      if (status.state === 'broken') throw new InferenceError('model-broken', status.message ?? 'the ASM model is broken');
      return this.#defaultSegmenter;
    }
    const key = `${selected.dir}|${selected.variant}|${selected.manifest.version}`;
    if (this.#asm?.key === key) return this.#asm.segmenter;
    if (this.#asm) await this.#asm.segmenter.dispose().catch(() => {});
    this.#asm = null;
    abortIfFixtureAsks(selected.manifest);
    try {
      const segmenter = await loadMedsam2({ dir: selected.dir, manifest: selected.manifest, variant: selected.variant, provider: this.provider.provider });
      this.#asm = { key, segmenter };
      this.#log(`inference: loaded ASM ${segmenter.label}`);
      return segmenter;
    } catch (error) {
      throw new InferenceError('model-broken', (error as Error).message);
    }
  }

  /** Loads (and runs once) what is installed, so the first real request is not the slow one. */
  async warm(): Promise<void> {
    const status = await this.status();
    if (status.crm.state === 'ready') await (await this.#loadCrm()).warm();
    if (status.asm.state === 'ready') {
      const asm = await this.#loadAsm();
      if ('warm' in asm && typeof asm.warm === 'function') await (asm.warm as () => Promise<void>)();
    }
  }

  #window(slice: SliceInput, window?: InferenceWindow): InferenceWindow {
    if (window) return window;
    return defaultWindow(slice.pixels, {
      ...(slice.windowCenter !== undefined ? { windowCenter: slice.windowCenter } : {}),
      ...(slice.windowWidth !== undefined ? { windowWidth: slice.windowWidth } : {}),
    });
  }

  /** `picture`: the slice's 8-bit picture through `window` when the caller already made it (ask). */
  #segmentImage(slice: SliceInput, window: InferenceWindow, picture?: Uint8Array): SegmentImage {
    return {
      key: `${slice.seriesKey}#${slice.sliceIndex}@${window.center}/${window.width}${slice.invert ? '/inverted' : ''}`,
      width: slice.width,
      height: slice.height,
      pixels: slice.pixels,
      window: windowBounds(window),
      // The picture as displayed: segment, refinement clicks and propagation see what ask's CRM sees.
      picture: picture ?? slicePicture(slice, window),
    };
  }

  async segment(request: SegmentRequest, hooks: JobHooks = {}): Promise<SegmentResult> {
    return this.#segment(request, hooks);
  }

  async #segment(request: SegmentRequest, hooks: JobHooks, picture?: Uint8Array): Promise<SegmentResult> {
    const { slice } = request;
    const prompts: SegmentPrompts = { box: request.box, points: request.points, ...(request.boxKind ? { boxKind: request.boxKind } : {}) };
    const problems = promptProblems(prompts, slice.width, slice.height);
    if (problems.length > 0) throw new InferenceError('invalid-prompts', `Invalid prompts for a ${slice.width}×${slice.height} slice: ${problems.join('; ')}`);
    const started = performance.now();
    hooks.onStage?.('load-asm', 'started');
    const segmenter = await this.#loadAsm();
    const loadMs = performance.now() - started;
    hooks.onStage?.('load-asm', 'finished', loadMs, segmenter.label);
    if (hooks.isCancelled?.()) throw new InferenceError('cancelled', 'cancelled');
    const window = this.#window(slice, request.window);
    hooks.onStage?.('asm', 'started');
    const outcome = await segmenter.segment(this.#segmentImage(slice, window, picture), prompts);
    hooks.onStage?.('asm', 'finished', Object.values(outcome.timings).reduce((a, b) => a + b, 0));
    const encodeStart = performance.now();
    const png = Buffer.from(maskToPng(outcome.mask, outcome.width, outcome.height)).toString('base64');
    return {
      seriesKey: slice.seriesKey,
      sliceIndex: slice.sliceIndex,
      prompts: { box: request.box, points: request.points },
      window,
      segmenter: outcome.segmenter,
      provider: { name: this.provider.provider, reason: this.provider.reason },
      mask: { width: outcome.width, height: outcome.height, area: outcome.area, png },
      score: outcome.score,
      scores: outcome.scores,
      embeddingCached: outcome.embeddingCached,
      ...(outcome.lowConfidence ? { lowConfidence: outcome.lowConfidence } : {}),
      timings: { loadModel: loadMs, ...outcome.timings, encodePng: performance.now() - encodeStart, total: performance.now() - started },
    };
  }

  async ask(request: AskRequest, hooks: JobHooks = {}): Promise<AskResult> {
    const { slice } = request;
    const started = performance.now();
    const timings: Record<string, number> = {};
    hooks.onStage?.('load-crm', 'started');
    const crm = await this.#loadCrm();
    timings.loadCrm = performance.now() - started;
    hooks.onStage?.('load-crm', 'finished', timings.loadCrm, crm.label);
    const window = this.#window(slice, request.window);
    const grey = slicePicture(slice, window);
    hooks.onStage?.('crm', 'started');
    const server = 'server' in crm ? (crm as RemoteCrmRunner).server : null;
    const crmInfo = { id: crm.id, variant: crm.variant, label: crm.label, server: server ? { name: server.name, origin: server.origin, model: server.model } : null };
    let run: Awaited<ReturnType<CrmRunner['run']>>;
    try {
      run = await crm.run(
        { grey, width: slice.width, height: slice.height },
        {
          subject: {
            seriesKey: slice.seriesKey,
            sliceIndex: slice.sliceIndex,
            ...(slice.studyInstanceUid ? { studyInstanceUid: slice.studyInstanceUid } : {}),
            ...(slice.seriesInstanceUid ? { seriesInstanceUid: slice.seriesInstanceUid } : {}),
          },
          question: request.question,
          ...(request.promptVariant ? { promptVariant: request.promptVariant } : {}),
          ...(request.maxNewTokens ? { maxNewTokens: request.maxNewTokens } : {}),
          ...(hooks.onToken ? { onText: hooks.onToken } : {}),
          ...(hooks.isCancelled ? { isCancelled: hooks.isCancelled } : {}),
          ...(request.dumpInput ? { dumpDir: request.dumpInput } : {}),
        },
      );
    } catch (error) {
      if (!(error instanceof CrmServerError)) throw error;
      // A server that failed mid-answer still shows what it had sent.
      timings.total = performance.now() - started;
      hooks.onStage?.('crm', 'failed', timings.total, error.message);
      hooks.onStage?.('done', 'failed', timings.total, error.message);
      return serverFailure(request, slice, window, crmInfo, { name: this.provider.provider, reason: this.provider.reason }, error, timings);
    }
    timings.crmPreprocess = run.timings.preprocess;
    timings.crmPrefill = run.timings.prefill;
    timings.crmDecode = run.timings.decode;
    hooks.onStage?.('crm', 'finished', run.timings.preprocess + run.timings.prefill + run.timings.decode, `${run.generatedTokens} tokens`);
    const base = {
      jobId: request.jobId,
      seriesKey: slice.seriesKey,
      sliceIndex: slice.sliceIndex,
      question: request.question,
      rawText: run.rawText,
      promptVariant: run.promptVariant,
      window,
      image: { width: slice.width, height: slice.height, seen: run.seen },
      crm: crmInfo,
      provider: { name: this.provider.provider, reason: this.provider.reason },
      tokens: { prompt: run.promptTokens, image: run.imageTokens, generated: run.generatedTokens, perSecond: run.timings.tokensPerSecond },
    };
    const failed = (kind: NonNullable<AskResult['failure']>['kind'], message: string, extra: Partial<AskResult> = {}): AskResult => {
      timings.total = performance.now() - started;
      hooks.onStage?.('done', 'failed', timings.total, message);
      return {
        ...base,
        status: kind === 'cancelled' ? 'cancelled' : 'failed',
        failure: { kind, message },
        reasoning: null,
        answerText: null,
        warnings: [],
        modelAnswer: null,
        box: null,
        points: null,
        segmenter: null,
        mask: null,
        score: null,
        timings,
        ...extra,
      };
    };
    if (run.cancelled) return failed('cancelled', `cancelled after ${run.generatedTokens} tokens`);

    const parseStart = performance.now();
    hooks.onStage?.('parse', 'started');
    const parsed = parseAnswer(run.rawText);
    timings.parse = performance.now() - parseStart;
    if (!parsed.ok) {
      hooks.onStage?.('parse', 'failed', timings.parse, parsed.message);
      const kind = run.truncated ? 'truncated' : parsed.failure;
      const message = run.truncated ? `the reply hit max_new_tokens (${run.generatedTokens}) before it was complete: ${parsed.message}` : parsed.message;
      return failed(kind, message, { reasoning: parsed.reasoning, answerText: parsed.answerText });
    }
    const fitted = fitAnswer(parsed.answer, run.seen);
    const mapped = mapToSlice(fitted.answer, run.seen, { width: slice.width, height: slice.height });
    const answerFields = {
      reasoning: parsed.reasoning,
      answerText: parsed.answerText,
      warnings: [...parsed.warnings, ...fitted.warnings],
      modelAnswer: { bbox: parsed.written.bbox, points: parsed.written.points },
    };
    hooks.onStage?.('parse', 'finished', timings.parse, answerFields.warnings.length > 0 ? answerFields.warnings.join('; ') : undefined);
    if (hooks.isCancelled?.()) return failed('cancelled', 'cancelled before segmentation', answerFields);

    // The ASM gets the very picture the CRM saw (the seed's eval/infer.py passes one image to
    // both); the box and both key points as positive prompts.
    const points: PromptPoint[] = mapped.points.map(([x, y]) => ({ x, y, label: 1 as const }));
    const segment = await this.#segment({ slice, box: mapped.pixelBox, points, window }, hooks, grey);
    timings.loadAsm = segment.timings.loadModel ?? 0;
    for (const [name, ms] of Object.entries(segment.timings)) if (name !== 'loadModel' && name !== 'total') timings[`asm${name[0]!.toUpperCase()}${name.slice(1)}`] = ms;
    timings.total = performance.now() - started;
    hooks.onStage?.('done', 'finished', timings.total);
    return {
      ...base,
      ...answerFields,
      status: 'ok',
      failure: null,
      box: mapped.pixelBox,
      points: mapped.points,
      segmenter: segment.segmenter,
      mask: segment.mask,
      score: segment.score,
      timings,
    };
  }

  async dispose(): Promise<void> {
    await this.#crm?.runner.dispose().catch(() => {});
    await this.#asm?.segmenter.dispose().catch(() => {});
    this.#crm = null;
    this.#asm = null;
  }
}

function serverFailure(
  request: AskRequest,
  slice: SliceInput,
  window: InferenceWindow,
  crm: AskResult['crm'],
  provider: AskResult['provider'],
  error: CrmServerError,
  timings: Record<string, number>,
): AskResult {
  return {
    jobId: request.jobId,
    seriesKey: slice.seriesKey,
    sliceIndex: slice.sliceIndex,
    question: request.question,
    status: 'failed',
    failure: { kind: 'server', message: error.message, serverFailure: error.kind },
    rawText: error.partialText,
    reasoning: null,
    answerText: null,
    warnings: [],
    promptVariant: request.promptVariant ?? 'default',
    window,
    image: { width: slice.width, height: slice.height, seen: { width: 0, height: 0 } },
    modelAnswer: null,
    box: null,
    points: null,
    crm,
    segmenter: null,
    provider,
    mask: null,
    score: null,
    tokens: { prompt: 0, image: 0, generated: 0, perSecond: null },
    timings,
  };
}

export function modelsChoiceFromDir(dir: string): ModelsDirChoice {
  return { dir: path.resolve(dir), source: 'option' };
}
