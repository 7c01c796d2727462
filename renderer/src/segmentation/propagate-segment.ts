// "Propagate": a segment's mask on one slice carried through its neighbours by the host
// (inference.propagate), written back as ONE undoable edit. No DOM: the ask panel and the
// segments panel both call it, and the tests drive it with a fake host.
import type { CallParams, CallResult, EventPayload } from '../../../electron/common/contract.ts';
import { decodeLabelmap, encodeLabelmap } from '../../../electron/common/contract-seg.ts';
import type { SegmentationModel } from './segmentation-model.ts';

/** The part of HostApi this needs. */
export type PropagationHost = {
  call(method: 'inference.propagate', params: CallParams<'inference.propagate'>): Promise<CallResult<'inference.propagate'>>;
  call(method: 'inference.cancel', params: CallParams<'inference.cancel'>): Promise<CallResult<'inference.cancel'>>;
  on(event: 'inference.progress', listener: (payload: EventPayload<'inference.progress'>) => void): () => void;
};

export type PropagationRun = {
  jobId: string;
  /** Resolves once the edit is in the model (or rejects with the host's message). */
  done: Promise<{ result: CallResult<'inference.propagate'>; changedVoxels: number }>;
  cancel(): Promise<void>;
};

let runs = 0;

/** Why a direction stopped, in words for the status line. */
export function stopLabel(stop: CallResult<'inference.propagate'>['stopped']['forward']): string {
  const words: Record<typeof stop, string> = {
    empty: 'nothing found',
    shrank: 'the structure tapers out',
    leaked: 'the mask would spill into a neighbour',
    drifted: 'the mask moved away',
    'tissue-changed': 'the tissue changes',
    'series-end': 'end of the series',
    limit: 'slice limit',
    cancelled: 'stopped',
    'not-requested': 'not asked',
  };
  return words[stop];
}

/**
 * Starts propagating segment `segmentNumber` from `sliceIndex`. The host's masks are
 * written only where no segment is yet (other segments keep their voxels); the slice it
 * started from is left as it is. The segment keeps its provenance: the new slices come
 * from the same segmenter, prompted from its own mask.
 */
export function propagateSegment(
  host: PropagationHost,
  model: SegmentationModel,
  segmentNumber: number,
  sliceIndex: number,
  options: { direction?: 'both' | 'backward' | 'forward'; maxSlices?: number; window?: { center: number; width: number }; onProgress?: (done: number, total: number, sliceIndex: number) => void } = {},
): PropagationRun {
  const segment = model.segment(segmentNumber);
  if (!segment) throw new RangeError(`there is no segment ${segmentNumber}`);
  const plane = model.sliceLength;
  const seed = new Uint8Array(plane);
  const offset = sliceIndex * plane;
  let area = 0;
  for (let i = 0; i < plane; i++) {
    if (model.labelmap[offset + i] === segmentNumber) {
      seed[i] = 1;
      area++;
    }
  }
  if (area === 0) throw new RangeError(`"${segment.label}" is empty on slice ${sliceIndex + 1}: draw or accept a mask there first`);
  const jobId = `propagate-${Date.now()}-${++runs}`;
  const unsubscribe = host.on('inference.progress', (progress) => {
    if (progress.jobId === jobId) options.onProgress?.(progress.done, progress.total, progress.sliceIndex);
  });
  const done = host
    .call('inference.propagate', {
      jobId,
      seriesKey: model.seriesKey,
      fromSlice: sliceIndex,
      mask: encodeLabelmap(seed),
      direction: options.direction ?? 'both',
      ...(options.maxSlices ? { maxSlices: options.maxSlices } : {}),
      ...(options.window ? { window: options.window } : {}),
    })
    .then((result) => {
      const masks = decodeLabelmap(result.masks);
      const changedVoxels = model.edit(
        `Propagate ${segment.label}`,
        (labelmap) => {
          for (let k = result.firstSlice; k <= result.lastSlice; k++) {
            if (k === sliceIndex) continue;
            const source = (k - result.firstSlice) * plane;
            const target = k * plane;
            for (let i = 0; i < plane; i++) {
              if (masks[source + i] && labelmap[target + i] === 0) labelmap[target + i] = segmentNumber;
            }
          }
        },
        { firstSlice: result.firstSlice, lastSlice: result.lastSlice, keepProvenance: true },
      );
      return { result, changedVoxels };
    })
    .finally(unsubscribe);
  return {
    jobId,
    done,
    cancel: async () => {
      await host.call('inference.cancel', { jobId });
    },
  };
}
