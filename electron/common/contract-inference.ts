// The inference part of the renderer↔host contract: model management and the MedReasoner
// pipeline (CRM → ASM). Same shape as `calls`/`events` in contract.ts, which merges these.
// No Node imports: the renderer bundles this file.
import { z } from 'zod';
import { LabelmapPayload } from './contract-seg.ts';

const JobId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'job ids are letters, digits and _.:-');
const SeriesKey = z.string().min(1).max(256);
const SliceIndex = z.number().int().nonnegative();
const Finite = z.number().finite();

/** Display window the models see the slice through (center/width in modality units, e.g. HU). */
export const InferenceWindow = z.object({ center: Finite, width: Finite.positive() }).strict();
export type InferenceWindow = z.infer<typeof InferenceWindow>;

/** [x0, y0, x1, y1]: inclusive pixel corners, x = column, y = row. */
export const PixelBoxSchema = z.tuple([Finite, Finite, Finite, Finite]);
export const PointSchema = z.tuple([Finite, Finite]);
export const PromptPointSchema = z.object({ x: Finite, y: Finite, label: z.union([z.literal(0), z.literal(1)]) }).strict();
/**
 * What a box says about the structure's extent: tight (touches it on all four sides), loose
 * (a margin round it), propagated (the previous slice's mask box, grown). Absent: the
 * segmenter judges from its cut.
 */
export const BoxKindSchema = z.enum(['tight', 'loose', 'propagated']);

export const ExecutionProviderInfo = z.object({
  name: z.enum(['cpu', 'cuda', 'webgpu']),
  /** Why, in a sentence (shown in the UI and the log). */
  reason: z.string(),
});
export type ExecutionProviderInfo = z.infer<typeof ExecutionProviderInfo>;

export const ModelFileIssue = z.object({ path: z.string(), kind: z.string(), message: z.string() });

export const InstalledModelInfo = z.object({
  id: z.string(),
  dir: z.string(),
  role: z.enum(['crm', 'asm']).nullable(),
  displayName: z.string().nullable(),
  version: z.string().nullable(),
  testFixture: z.boolean(),
  usable: z.boolean(),
  variants: z.array(z.object({ name: z.string(), complete: z.boolean(), problems: z.array(ModelFileIssue) })),
  manifestProblem: z.string().nullable(),
});
export type InstalledModelInfo = z.infer<typeof InstalledModelInfo>;

export const KnownModelInfo = z.object({
  id: z.string(),
  role: z.enum(['crm', 'asm']),
  displayName: z.string(),
  licence: z.string(),
  source: z.string(),
  exportScript: z.string().nullable(),
  downloadable: z.boolean(),
});

/** What a role will run with, or why it cannot run and how to fix that. */
export const RoleStatus = z.object({
  role: z.enum(['crm', 'asm']),
  /** crashed: the model stopped the inference process (the host restarted it); the message says how. */
  state: z.enum(['ready', 'default', 'missing', 'broken', 'crashed']),
  modelId: z.string().nullable(),
  variant: z.string().nullable(),
  /** What runs: the model's label, or the default segmenter's. */
  label: z.string(),
  /** For missing, broken or crashed: what is wrong and the commands that fix it. */
  message: z.string().nullable(),
});
export type RoleStatus = z.infer<typeof RoleStatus>;

export const InferenceStatus = z.object({
  provider: ExecutionProviderInfo,
  modelsDir: z.string(),
  modelsDirSource: z.enum(['option', 'environment', 'default']),
  crm: RoleStatus,
  asm: RoleStatus,
  /** Set when the CRM answers from a server (Models settings) rather than the local model. */
  crmServer: z.lazy(() => CrmServerInfo).nullable().optional(),
});
export type InferenceStatus = z.infer<typeof InferenceStatus>;

export const MaskResult = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Pixels inside the mask. */
  area: z.number().int().nonnegative(),
  /** 8-bit grey PNG at the slice's native size, 255 inside and 0 outside, base64. */
  png: z.string(),
});
export type MaskResult = z.infer<typeof MaskResult>;

export const SegmenterInfo = z.object({ kind: z.enum(['medsam2', 'default']), id: z.string(), label: z.string() });

/** Milliseconds per stage. */
export const StageTimings = z.record(z.string(), z.number());

export const SegmentResult = z.object({
  seriesKey: z.string(),
  sliceIndex: z.number().int(),
  prompts: z.object({ box: PixelBoxSchema.nullable(), points: z.array(PromptPointSchema) }),
  window: InferenceWindow,
  segmenter: SegmenterInfo,
  provider: ExecutionProviderInfo,
  mask: MaskResult,
  /** MedSAM2's predicted IoU of the chosen mask (null for the default segmenter). */
  score: z.number().nullable(),
  scores: z.array(z.number()).nullable(),
  embeddingCached: z.boolean(),
  /** Why the segmenter doubts this mask (the default segmenter, on weak evidence); absent when it does not. */
  lowConfidence: z.string().optional(),
  timings: StageTimings,
});
export type SegmentResult = z.infer<typeof SegmentResult>;

export const AskFailureKind = z.enum(['no-answer', 'malformed-answer', 'cancelled', 'truncated', 'server']);

/** How a CRM server failed (kind 'server'): refused, tls, timeout, auth, unknown-model, busy, server, stream-cut, malformed, config. */
export const ServerFailureKind = z.enum(['refused', 'tls', 'timeout', 'auth', 'unknown-model', 'busy', 'server', 'stream-cut', 'malformed', 'cancelled', 'config']);

/** The server a CRM answer came from (provenance in the UI, SEG and SR); null for the local model. */
export const CrmServerInfo = z.object({ name: z.string(), origin: z.string(), model: z.string() });

/**
 * How a server's answer is recorded among a segment's models (SEG algorithm, SR): the served
 * model id, and the origin that served it as the version. DICOM LO values hold 64 characters.
 */
export function servedModelId(server: z.infer<typeof CrmServerInfo>): { name: string; version: string; server: string } {
  const version = `served by ${server.origin}`;
  const origin = server.origin.length <= 64 ? server.origin : new URL(server.origin).host.slice(0, 64);
  // `server` is what the SR writes as the model's TID 4019 algorithm parameter and reads back.
  return { name: server.model.slice(0, 64), version: (version.length <= 64 ? version : `served by ${new URL(server.origin).host}`).slice(0, 64), server: origin };
}

export const AskResult = z.object({
  jobId: z.string(),
  seriesKey: z.string(),
  sliceIndex: z.number().int(),
  question: z.string(),
  status: z.enum(['ok', 'failed', 'cancelled']),
  /** Why no mask: the kind to branch on and a sentence; the raw text is always kept. */
  failure: z.object({ kind: AskFailureKind, message: z.string(), serverFailure: ServerFailureKind.optional() }).nullable(),
  rawText: z.string(),
  reasoning: z.string().nullable(),
  answerText: z.string().nullable(),
  warnings: z.array(z.string()),
  promptVariant: z.string(),
  window: InferenceWindow,
  image: z.object({ width: z.number().int(), height: z.number().int(), seen: z.object({ width: z.number().int(), height: z.number().int() }) }),
  /** The answer in the resized image the model saw. */
  modelAnswer: z.object({ bbox: PixelBoxSchema, points: z.tuple([PointSchema, PointSchema]) }).nullable(),
  /** On the slice grid: inclusive pixel box, and the key points (continuous). */
  box: PixelBoxSchema.nullable(),
  points: z.tuple([PointSchema, PointSchema]).nullable(),
  crm: z.object({ id: z.string(), variant: z.string(), label: z.string(), server: CrmServerInfo.nullable().optional() }),
  segmenter: SegmenterInfo.nullable(),
  provider: ExecutionProviderInfo,
  mask: MaskResult.nullable(),
  score: z.number().nullable(),
  tokens: z.object({ prompt: z.number().int(), image: z.number().int(), generated: z.number().int(), perSecond: z.number().nullable() }),
  timings: StageTimings,
});
export type AskResult = z.infer<typeof AskResult>;

export const ModelsList = z.object({
  modelsDir: z.string(),
  modelsDirSource: z.enum(['option', 'environment', 'default']),
  known: z.array(KnownModelInfo),
  installed: z.array(InstalledModelInfo),
});
export type ModelsList = z.infer<typeof ModelsList>;

export const PropagationStop = z.enum(['empty', 'shrank', 'leaked', 'drifted', 'series-end', 'limit', 'tissue-changed', 'cancelled', 'not-requested']);
export type PropagationStop = z.infer<typeof PropagationStop>;

export const PropagateResult = z.object({
  jobId: z.string(),
  seriesKey: z.string(),
  fromSlice: z.number().int(),
  /** The slab the masks cover, seed slice included (slice order, inclusive). */
  firstSlice: z.number().int(),
  lastSlice: z.number().int(),
  /** Binary masks (1 inside), columns × rows × (lastSlice − firstSlice + 1), the seed slice as given. */
  masks: LabelmapPayload,
  slices: z.array(z.object({ sliceIndex: z.number().int(), area: z.number().int() })),
  /** Why each direction stopped (towards slice 0, towards the last slice). */
  stopped: z.object({ backward: PropagationStop, forward: PropagationStop }),
  /** How each slice was prompted: MedSAM2's memory mode needs a memory-attention export that we do not ship yet. */
  method: z.literal('re-prompt'),
  segmenter: SegmenterInfo.nullable(),
  elapsedMs: z.number(),
});
export type PropagateResult = z.infer<typeof PropagateResult>;

/** A CRM server as the renderer sees it: the API key only as whether it is set. */
export const CrmServerView = z.object({
  name: z.string(),
  baseUrl: z.string(),
  model: z.string(),
  timeoutS: z.number(),
  maxInFlight: z.number().int(),
  insecureConfirmed: z.boolean(),
  apiKeySet: z.boolean(),
  origin: z.string(),
});
export type CrmServerView = z.infer<typeof CrmServerView>;

export const CrmSettingsView = z.object({
  mode: z.enum(['local', 'server']),
  server: CrmServerView.nullable(),
  /** Where each request to a server is recorded (one line per request, no pixels). */
  auditLog: z.string(),
});
export type CrmSettingsView = z.infer<typeof CrmSettingsView>;

/** What Models settings sends: an omitted apiKey keeps the stored one while the origin stays the same. */
export const CrmServerInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    baseUrl: z.string().trim().min(1).max(2000),
    model: z.string().trim().min(1).max(500),
    apiKey: z.string().min(1).max(4096).optional(),
    clearApiKey: z.boolean().optional(),
    timeoutS: z.number().positive().max(3600).optional(),
    maxInFlight: z.number().int().min(1).max(256).optional(),
    insecureConfirmed: z.boolean().optional(),
  })
  .strict();
export type CrmServerInput = z.infer<typeof CrmServerInput>;

export const ServerProbeResult = z.object({
  ok: z.boolean(),
  origin: z.string(),
  /** What GET /models lists; null when the server does not list (transformers serve lists only its hub cache). */
  models: z.array(z.string()).nullable(),
  modelsNote: z.string().nullable(),
  modelAnswers: z.boolean(),
  answeredAs: z.string().nullable(),
  failure: z.object({ kind: ServerFailureKind, message: z.string() }).nullable(),
  ms: z.number(),
});
export type ServerProbeResult = z.infer<typeof ServerProbeResult>;

export const inferenceCalls = {
  /** Which CRM answers (local model or a GPU server) and the server's settings (never its key). */
  'crm.settings': { params: z.object({}).strict(), result: CrmSettingsView },
  /** Saves the server (if given) and the mode; the next ask uses them. */
  'crm.saveSettings': { params: z.object({ mode: z.enum(['local', 'server']), server: CrmServerInput.optional() }).strict(), result: CrmSettingsView },
  /** Connection test: what the server lists and whether the model answers a one-token text request (no image). */
  'crm.testServer': { params: z.object({ server: CrmServerInput }).strict(), result: ServerProbeResult },
  /** Known models (native-models/) and what the models folder holds. */
  'models.list': { params: z.object({}).strict(), result: ModelsList },
  /** Execution provider and why; per role, what will run or how to install what is missing. */
  'models.status': { params: z.object({}).strict(), result: InferenceStatus },
  /** CRM → ASM on one slice; tokens stream as inference.token, stages as inference.stage. */
  'inference.ask': {
    params: z
      .object({
        jobId: JobId,
        seriesKey: SeriesKey,
        sliceIndex: SliceIndex,
        question: z.string().min(1).max(4000),
        window: InferenceWindow.optional(),
        promptVariant: z.string().max(64).optional(),
      })
      .strict(),
    result: AskResult,
  },
  /** ASM only (MedSAM2 when installed, else the default segmenter), from a box and/or points. */
  'inference.segment': {
    params: z
      .object({
        jobId: JobId.optional(),
        seriesKey: SeriesKey,
        sliceIndex: SliceIndex,
        box: PixelBoxSchema.nullable(),
        points: z.array(PromptPointSchema).max(64),
        boxKind: BoxKindSchema.optional(),
        window: InferenceWindow.optional(),
      })
      .strict(),
    result: SegmentResult,
  },
  /**
   * Carries a slice mask through the neighbouring slices: each slice is prompted with the
   * box and interior points of the mask on the slice before it, until the structure ends
   * (see PropagationStop). Progress as inference.progress; cancel with inference.cancel.
   */
  'inference.propagate': {
    params: z
      .object({
        jobId: JobId,
        seriesKey: SeriesKey,
        fromSlice: SliceIndex,
        /** The seed mask: columns × rows, 1 inside. */
        mask: LabelmapPayload,
        direction: z.enum(['both', 'backward', 'forward']).default('both'),
        maxSlices: z.number().int().min(1).max(2000).default(200),
        window: InferenceWindow.optional(),
      })
      .strict(),
    result: PropagateResult,
  },
  'inference.cancel': {
    params: z.object({ jobId: JobId }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  },
} as const;

export const InferenceStage = z.enum(['queued', 'load-slice', 'load-crm', 'crm', 'parse', 'load-asm', 'asm', 'done']);

export const inferenceEvents = {
  /**
   * A role's model changed state outside a call: it crashed the inference process (which
   * the host restarts), or it ran again after that. The status bar shows the message.
   */
  'models.statusChanged': z.object({
    role: z.enum(['crm', 'asm']).nullable(),
    modelId: z.string().nullable(),
    state: z.enum(['crashed', 'recovered']),
    message: z.string(),
  }),
  /** A piece of the CRM's reply, as generated. */
  'inference.token': z.object({ jobId: z.string(), text: z.string() }),
  /** Propagation: one more slice done (done of at most total). */
  'inference.progress': z.object({ jobId: z.string(), done: z.number().int(), total: z.number().int(), sliceIndex: z.number().int(), area: z.number().int() }),
  'inference.stage': z.object({
    jobId: z.string(),
    stage: InferenceStage,
    state: z.enum(['started', 'finished', 'failed']),
    ms: z.number().optional(),
    detail: z.string().optional(),
  }),
} as const;

export type InferenceCallName = keyof typeof inferenceCalls;
export type InferenceEventName = keyof typeof inferenceEvents;
export type InferenceEventPayload<E extends InferenceEventName> = z.infer<(typeof inferenceEvents)[E]>;
