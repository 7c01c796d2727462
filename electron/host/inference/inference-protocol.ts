// Messages between the inference service (the host) and the inference process (a child
// process: child_process.fork from Node, utilityProcess in Electron). Plain data only: both
// channels copy with the structured-clone algorithm, typed arrays included.
import type { AskResult, InferenceStatus, InferenceWindow, ModelsList, SegmentResult } from '../../common/contract-inference.ts';
import type { ModelsDirChoice } from '../models/registry.ts';
import type { ProviderDecision } from './execution-provider.ts';
import type { InferenceErrorCode, SliceInput, StageName } from './inference-engine.ts';
import type { CrmServerChoice } from './remote/remote-crm-loader.ts';
import type { BoxKind, PixelBox, PromptPoint } from './segmenter-types.ts';

/** What the process needs to build its engine; the first message it receives. */
export interface EngineInit {
  models: ModelsDirChoice;
  knownManifestsDir?: string;
  provider?: ProviderDecision;
  crmServer?: CrmServerChoice;
}

export type JobRequest =
  | { seq: number; type: 'status' }
  | { seq: number; type: 'list' }
  | { seq: number; type: 'warm' }
  | { seq: number; type: 'configure'; crmServer: CrmServerChoice | null }
  | { seq: number; type: 'ask'; jobId: string; slice: SliceInput; question: string; window?: InferenceWindow; promptVariant?: string; maxNewTokens?: number; dumpInput?: string }
  | { seq: number; type: 'segment'; jobId: string; slice: SliceInput; box: PixelBox | null; points: PromptPoint[]; boxKind?: BoxKind; window?: InferenceWindow };

export type ProcessRequest =
  | { type: 'init'; init: EngineInit }
  /** Stops job `seq` at its next check (between tokens; the process's event loop turns there). */
  | { type: 'cancel'; seq: number }
  | JobRequest;

export type ProcessReply =
  | { type: 'ready'; provider: ProviderDecision }
  | { type: 'init-failed'; message: string }
  | { type: 'token'; seq: number; text: string }
  | { type: 'stage'; seq: number; stage: StageName; state: 'started' | 'finished' | 'failed'; ms?: number; detail?: string }
  | { type: 'log'; message: string }
  | { type: 'result'; seq: number; result: InferenceStatus | ModelsList | AskResult | SegmentResult | null }
  | { type: 'error'; seq: number; code: InferenceErrorCode; message: string };
