// The renderer's propagate action: one undoable edit from the host's slab, other segments untouched.
import { describe, expect, it } from 'vitest';
import type { CallResult, EventPayload } from '../../electron/common/contract.ts';
import { decodeLabelmap, encodeLabelmap } from '../../electron/common/contract-seg.ts';
import { propagateSegment, type PropagationHost } from '../../renderer/src/segmentation/propagate-segment.ts';
import { SegmentationModel } from '../../renderer/src/segmentation/segmentation-model.ts';

const CODES = {
  category: { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Altered Structure' },
  type: { value: '441457006', scheme: 'SCT', meaning: 'Cyst' },
};

function fakeHost(answer: (params: { fromSlice: number; mask: Uint8Array }) => CallResult<'inference.propagate'>) {
  const listeners = new Set<(p: EventPayload<'inference.progress'>) => void>();
  const calls: string[] = [];
  const host = {
    async call(method: string, params: { jobId: string; fromSlice: number; mask: Parameters<typeof decodeLabelmap>[0] }) {
      calls.push(method);
      if (method === 'inference.cancel') return { cancelled: true };
      for (const l of listeners) l({ jobId: params.jobId, done: 1, total: 2, sliceIndex: params.fromSlice + 1, area: 3 });
      return answer({ fromSlice: params.fromSlice, mask: Uint8Array.from(decodeLabelmap(params.mask)) });
    },
    on(_event: string, listener: (p: EventPayload<'inference.progress'>) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as PropagationHost;
  return { host, calls, listeners };
}

describe('propagateSegment', () => {
  it('writes the slab as one undoable edit, only into empty voxels, and reports progress', async () => {
    const model = new SegmentationModel('s', { columns: 3, rows: 2, slices: 4 }, { column: 1, row: 1, slice: 1 });
    const other = model.addSegment({ label: 'Other', ...CODES, provenance: { source: 'manual' } });
    model.edit('Paint other', (lm) => {
      lm[2 * 6 + 0] = other.number;
    });
    const cyst = model.addSegment({ label: 'Cyst', ...CODES, provenance: { source: 'ai', models: [{ name: 'm', version: '1' }] } });
    model.edit('Paint cyst', (lm) => lm.fill(cyst.number, 6, 9), { keepProvenance: true });
    let seedSeen: number[] = [];
    const { host, listeners } = fakeHost(({ fromSlice, mask }) => {
      seedSeen = Array.from(mask);
      // Slices 1…2: the seed slice as sent, then slice 2 all inside.
      const slab = new Uint8Array(12);
      slab.set(mask, 0);
      slab.fill(1, 6, 12);
      return { jobId: 'j', seriesKey: 's', fromSlice, firstSlice: 1, lastSlice: 2, masks: encodeLabelmap(slab), slices: [], stopped: { backward: 'empty', forward: 'series-end' }, method: 're-prompt', segmenter: null, elapsedMs: 1 };
    });
    const progress: number[] = [];
    const run = propagateSegment(host, model, cyst.number, 1, { onProgress: (done) => progress.push(done) });
    const { changedVoxels } = await run.done;
    expect(seedSeen).toEqual([1, 1, 1, 0, 0, 0]);
    expect(progress).toEqual([1]);
    expect(listeners.size).toBe(0);
    // Slice 2: five voxels became the cyst; the other segment's voxel stayed.
    expect(changedVoxels).toBe(5);
    expect(Array.from(model.labelmap.subarray(12, 18))).toEqual([other.number, cyst.number, cyst.number, cyst.number, cyst.number, cyst.number]);
    expect(model.segment(cyst.number)?.provenance.source).toBe('ai');
    expect(model.undoLabel).toBe('Propagate Cyst');
    model.undo();
    expect(Array.from(model.labelmap.subarray(12, 18))).toEqual([other.number, 0, 0, 0, 0, 0]);
  });

  it('refuses to start from a slice where the segment is empty', () => {
    const model = new SegmentationModel('s', { columns: 3, rows: 2, slices: 4 }, { column: 1, row: 1, slice: 1 });
    const cyst = model.addSegment({ label: 'Cyst', ...CODES, provenance: { source: 'manual' } });
    expect(() => propagateSegment(fakeHost(() => { throw new Error('not called'); }).host, model, cyst.number, 3)).toThrow(/"Cyst" is empty on slice 4/);
  });
});
