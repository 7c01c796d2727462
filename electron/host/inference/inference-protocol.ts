// Messages between the inference service (main thread) and the inference worker.
// Plain data only (structured clone); pixel buffers are transferred, not copied.
import type { AskResult, InferenceStatus, InferenceWindow, ModelsList, SegmentResult } from '../../common/contract-inference.ts';
import type { ModelsDirChoice } from '../models/registry.ts';
import type { ProviderDecision } from './execution-provider.ts';
import type { InferenceErrorCode, SliceInput, StageName } from './inference-engine.ts';
import type { CrmServerChoice } from './remote/remote-crm-loader.ts';
import type { BoxKind, PixelBox, PromptPoint } from './segmenter-types.ts';

export interface WorkerData {
  models: ModelsDirChoice;
  knownManifestsDir?: string;
  /** Int32 slot 0: the sequence number of the job to cancel (checked between tokens). */
  cancelFlag: SharedArrayBuffer;
  provider?: ProviderDecision;
  crmServer?: CrmServerChoice;
}

export type WorkerRequest =
  | { seq: number; type: 'status' }
  | { seq: number; type: 'list' }
  | { seq: number; type: 'warm' }
  | { seq: number; type: 'configure'; crmServer: CrmServerChoice | null }
  | { seq: number; type: 'ask'; jobId: string; slice: SliceInput; question: string; window?: InferenceWindow; promptVariant?: string; maxNewTokens?: number; dumpInput?: string }
  | { seq: number; type: 'segment'; jobId: string; slice: SliceInput; box: PixelBox | null; points: PromptPoint[]; boxKind?: BoxKind; window?: InferenceWindow };

export type WorkerReply =
  | { type: 'ready'; provider: ProviderDecision }
  | { type: 'token'; seq: number; text: string }
  | { type: 'stage'; seq: number; stage: StageName; state: 'started' | 'finished' | 'failed'; ms?: number; detail?: string }
  | { type: 'log'; message: string }
  | { type: 'result'; seq: number; result: InferenceStatus | ModelsList | AskResult | SegmentResult | null }
  | { type: 'error'; seq: number; code: InferenceErrorCode; message: string };
