// The inference calls of the contract (contract-inference.ts) as host handlers. The host
// plugs these into its handler table and forwards events; the slice loader comes from the
// DICOM index (see loadIndexedSlice).
import type { z } from 'zod';
import { decodeLabelmap, encodeLabelmap } from '../../common/contract-seg.ts';
import { inferenceCalls, type InferenceCallName, type InferenceEventName, type InferenceEventPayload, type PropagateResult } from '../../common/contract-inference.ts';
import type { StudyIndex } from '../dicom/dicom-index.ts';
import { HostError } from '../dispatch.ts';
import type { ModelsDirChoice } from '../models/registry.ts';
import type { ProviderDecision } from './execution-provider.ts';
import type { InferenceChildLauncher } from './inference-child.ts';
import { InferenceError, type SliceInput } from './inference-engine.ts';
import { InferenceService } from './inference-service.ts';
import { pngToMask } from './mask-png.ts';
import { propagateMask } from './propagation.ts';
import { readSliceInput } from './series-slice.ts';
import { SlicePixelError } from './slice-pixels.ts';
import { createCrmSettingsHandlers } from './remote/crm-settings-handlers.ts';

export type InferenceHandlers = {
  [M in InferenceCallName]: (params: z.output<(typeof inferenceCalls)[M]['params']>) => Promise<z.infer<(typeof inferenceCalls)[M]['result']>>;
};

export interface InferenceHandlerDeps {
  /** A slice's pixels by series and index in slice order (throw HostError('not-found') for unknown ones). */
  loadSlice: (seriesKey: string, sliceIndex: number) => Promise<SliceInput>;
  /** Slices in a series (throw HostError('not-found') for unknown ones). */
  sliceCount: (seriesKey: string) => number;
  emit: <E extends InferenceEventName>(event: E, payload: InferenceEventPayload<E>) => void;
  /** The models folder (resolveModelsDir in models/registry.ts gives one with its source). */
  models: ModelsDirChoice;
  knownManifestsDir?: string;
  provider?: ProviderDecision;
  log?: (message: string) => void;
  /** Where Models settings keep the CRM server (crm-server.json) and its audit log. */
  dataDir?: string;
  /** How the inference process starts (default fork; the Electron shell passes utilityProcess). */
  launcher?: InferenceChildLauncher;
}

export interface InferenceHost {
  handlers: InferenceHandlers;
  service: InferenceService;
  dispose(): Promise<void>;
}

function toHostError(error: unknown): never {
  if (error instanceof InferenceError) {
    switch (error.code) {
      case 'model-missing':
      case 'model-broken':
        throw new HostError('unsupported', error.message);
      case 'invalid-prompts':
        throw new HostError('invalid-params', error.message);
      case 'cancelled':
        throw new HostError('cancelled', error.message);
      default:
        throw new HostError('internal', error.message);
    }
  }
  if (error instanceof SlicePixelError) throw new HostError(error.problem === 'unsupported' ? 'unsupported' : 'internal', error.message);
  throw error;
}

export function createInferenceHandlers(deps: InferenceHandlerDeps): InferenceHost {
  const service = new InferenceService({
    models: deps.models,
    ...(deps.knownManifestsDir ? { knownManifestsDir: deps.knownManifestsDir } : {}),
    ...(deps.provider ? { provider: deps.provider } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    ...(deps.launcher ? { launcher: deps.launcher } : {}),
    onModelStatus: (change) => deps.emit('models.statusChanged', change),
    onToken: (jobId, text) => deps.emit('inference.token', { jobId, text }),
    onStage: (jobId, stage, state, ms, detail) =>
      deps.emit('inference.stage', { jobId, stage, state, ...(ms !== undefined ? { ms } : {}), ...(detail !== undefined ? { detail } : {}) }),
  });
  // Decide the execution provider at start-up, not at the first question (the engine logs the decision).
  service.start().catch((error: Error) => deps.log?.(`inference: the inference process did not start: ${error.message}`));
  const crmSettings = deps.dataDir ? createCrmSettingsHandlers(deps.dataDir, service, deps.log) : null;
  crmSettings?.apply().catch((error: Error) => deps.log?.(`inference: the CRM server settings could not be read: ${error.message}`));
  const noSettings = (): never => {
    throw new HostError('unsupported', 'CRM server settings need a data folder');
  };
  let segmentJobs = 0;
  /** Running propagations: their current per-slice job, so a cancel stops both. */
  const propagations = new Map<string, { cancelled: boolean; sliceJob: string | null }>();
  /** Asks that arrived but are not queued for the inference process yet (their slice is loading). */
  const pendingAsks = new Map<string, { cancelled: boolean }>();
  /**
   * Cancels of job ids not seen yet: the renderer sends a cancel the moment the reader
   * clicks, which can overtake its own ask on the way to the host. Kept few and oldest
   * first out, since a cancel for a job that already ended also lands here.
   */
  const earlyCancels = new Set<string>();
  const EARLY_CANCELS_KEPT = 32;
  const cancelledBeforeStart = (jobId: string) => new HostError('cancelled', `job ${jobId} was cancelled before it started`);
  const handlers: InferenceHandlers = {
    'crm.settings': async () => (crmSettings ?? noSettings()).settings(),
    'crm.saveSettings': async (params) => (crmSettings ?? noSettings()).save(params),
    'crm.testServer': async (params) => (crmSettings ?? noSettings()).test(params),
    'models.list': async () => service.list().catch(toHostError),
    'models.status': async () => service.status().catch(toHostError),
    'inference.ask': async ({ jobId, seriesKey, sliceIndex, question, window, promptVariant }) => {
      if (earlyCancels.delete(jobId)) throw cancelledBeforeStart(jobId);
      const pending = { cancelled: false };
      pendingAsks.set(jobId, pending);
      let slice: SliceInput;
      try {
        deps.emit('inference.stage', { jobId, stage: 'load-slice', state: 'started' });
        const started = performance.now();
        slice = await deps.loadSlice(seriesKey, sliceIndex).catch(toHostError);
        deps.emit('inference.stage', { jobId, stage: 'load-slice', state: 'finished', ms: performance.now() - started });
      } finally {
        pendingAsks.delete(jobId);
      }
      if (pending.cancelled) throw cancelledBeforeStart(jobId);
      return service
        .ask({ jobId, slice, question, ...(window ? { window } : {}), ...(promptVariant ? { promptVariant } : {}) })
        .catch(toHostError);
    },
    'inference.segment': async ({ jobId, seriesKey, sliceIndex, box, points, boxKind, window }) => {
      const slice = await deps.loadSlice(seriesKey, sliceIndex).catch(toHostError);
      return service
        .segment({ jobId: jobId ?? `segment-${++segmentJobs}`, slice, box, points, ...(boxKind ? { boxKind } : {}), ...(window ? { window } : {}) })
        .catch(toHostError);
    },
    'inference.propagate': async ({ jobId, seriesKey, fromSlice, mask, direction, maxSlices, window }) => {
      const started = performance.now();
      const sliceCount = deps.sliceCount(seriesKey);
      const first = await deps.loadSlice(seriesKey, fromSlice).catch(toHostError);
      const seed = decodeLabelmap(mask);
      if (seed.length !== first.width * first.height) {
        throw new HostError('invalid-params', `The seed mask holds ${seed.length} pixels; slice ${fromSlice} is ${first.width}×${first.height} = ${first.width * first.height}.`);
      }
      if (propagations.has(jobId)) throw new HostError('invalid-params', `A propagation with job id "${jobId}" is already running.`);
      const job = { cancelled: false, sliceJob: null as string | null };
      propagations.set(jobId, job);
      let segmenter: PropagateResult['segmenter'] = null;
      let done = 0;
      const total = direction === 'both' ? Math.min(maxSlices, sliceCount - 1) : Math.min(maxSlices, direction === 'forward' ? sliceCount - 1 - fromSlice : fromSlice);
      try {
        const outcome = await propagateMask({
          width: first.width,
          height: first.height,
          sliceCount,
          fromSlice,
          seed: Uint8Array.from(seed),
          seedPixels: first.pixels,
          direction,
          maxSlices,
          isCancelled: () => job.cancelled,
          segmentSlice: async (sliceIndex, box, points) => {
            const slice = await deps.loadSlice(seriesKey, sliceIndex).catch(toHostError);
            // The slice is sent to the inference process: keep a copy for the tissue check.
            const pixels = slice.pixels.slice();
            job.sliceJob = `${jobId}.${sliceIndex}`;
            // The grown box of the slice before is not this slice's extent: no tight-box prior.
            const result = await service.segment({ jobId: job.sliceJob, slice, box, points, boxKind: 'propagated', ...(window ? { window } : {}) }).catch(toHostError);
            job.sliceJob = null;
            segmenter = result.segmenter;
            return { mask: pngToMask(Buffer.from(result.mask.png, 'base64')).mask.map((v) => (v ? 1 : 0)), pixels };
          },
          onSlice: (sliceIndex, area) => deps.emit('inference.progress', { jobId, done: ++done, total, sliceIndex, area }),
        });
        const indices = [...outcome.masks.keys()].sort((a, b) => a - b);
        const firstSlice = indices[0]!;
        const lastSlice = indices.at(-1)!;
        const plane = first.width * first.height;
        const slab = new Uint8Array(plane * (lastSlice - firstSlice + 1));
        const slices = indices.map((k) => {
          const m = outcome.masks.get(k)!;
          slab.set(m, (k - firstSlice) * plane);
          return { sliceIndex: k, area: m.reduce((n, v) => n + v, 0) };
        });
        return { jobId, seriesKey, fromSlice, firstSlice, lastSlice, masks: encodeLabelmap(slab), slices, stopped: outcome.stopped, method: 're-prompt' as const, segmenter, elapsedMs: performance.now() - started };
      } catch (error) {
        if (error instanceof RangeError) throw new HostError('invalid-params', error.message);
        throw error;
      } finally {
        propagations.delete(jobId);
      }
    },
    'inference.cancel': async ({ jobId }) => {
      const propagation = propagations.get(jobId);
      if (propagation) {
        propagation.cancelled = true;
        if (propagation.sliceJob) service.cancel(propagation.sliceJob);
        return { cancelled: true };
      }
      const pending = pendingAsks.get(jobId);
      if (pending) {
        pending.cancelled = true;
        return { cancelled: true };
      }
      if (service.cancel(jobId)) return { cancelled: true };
      earlyCancels.add(jobId);
      if (earlyCancels.size > EARLY_CANCELS_KEPT) earlyCancels.delete(earlyCancels.values().next().value!);
      return { cancelled: false };
    },
  };
  return { handlers, service, dispose: () => service.dispose() };
}

/** Loads slice `sliceIndex` (slice order) of an indexed series, decoded to modality values. */
export async function loadIndexedSlice(index: StudyIndex, seriesKey: string, sliceIndex: number): Promise<SliceInput> {
  const series = index.hostSeries(seriesKey);
  if (!series) throw new HostError('not-found', `No series "${seriesKey}" in the index.`);
  const slice = series.slices[sliceIndex];
  if (!slice) throw new HostError('not-found', `Series "${seriesKey}" has ${series.slices.length} slices; there is no slice ${sliceIndex} (slices count from 0 in slice order).`);
  const input = await readSliceInput(seriesKey, sliceIndex, slice);
  // The UIDs go only into a CRM server's local audit log.
  return { ...input, studyInstanceUid: series.summary.studyInstanceUid, seriesInstanceUid: series.summary.seriesInstanceUid };
}

export function indexedSliceCount(index: StudyIndex, seriesKey: string): number {
  const series = index.hostSeries(seriesKey);
  if (!series) throw new HostError('not-found', `No series "${seriesKey}" in the index.`);
  return series.slices.length;
}
