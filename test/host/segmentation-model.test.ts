// The renderer's segmentation document: segments, edits, undo/redo, provenance, preview.
import { describe, expect, it } from 'vitest';
import { decodeLabelmap } from '../../electron/common/contract-seg.ts';
import { SegmentationModel } from '../../renderer/src/segmentation/segmentation-model.ts';

const LIVER = {
  label: 'Liver',
  category: { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' },
  type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' },
};

function model(): SegmentationModel {
  return new SegmentationModel('series-1', { columns: 4, rows: 3, slices: 5 }, { column: 1, row: 1, slice: 2 });
}

describe('SegmentationModel', () => {
  it('numbers segments 1, 2, … and makes the newest active', () => {
    const m = model();
    const a = m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    const b = m.addSegment({ ...LIVER, label: 'Second', provenance: { source: 'manual' } });
    expect([a.number, b.number]).toEqual([1, 2]);
    expect(m.activeSegment).toBe(2);
    expect(a.color).not.toEqual(b.color);
  });

  it('undoes and redoes a labelmap edit and keeps only the changed slices in history', () => {
    const m = model();
    const seg = m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    const changes: Array<[number, number]> = [];
    m.onChange((c) => c.kind === 'labelmap' && changes.push([c.firstSlice, c.lastSlice]));
    const changed = m.edit('Paint', (lm) => lm.fill(seg.number, 2 * 12, 2 * 12 + 5));
    expect(changed).toBe(5);
    expect(changes).toEqual([[2, 2]]);
    expect(m.undoLabel).toBe('Paint');
    expect(m.undo()).toBe(true);
    expect(m.labelmap.every((v) => v === 0)).toBe(true);
    expect(m.redo()).toBe(true);
    expect(m.labelmap.slice(24, 29)).toEqual(new Uint8Array(5).fill(1));
    expect(changes).toEqual([[2, 2], [2, 2], [2, 2]]);
  });

  it('an edit that changes nothing leaves no history', () => {
    const m = model();
    m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    const depth = m.undoLabel;
    expect(m.edit('Nothing', () => {})).toBe(0);
    expect(m.undoLabel).toBe(depth);
  });

  it('editing an AI segment makes it AI-then-edited; accepting a preview keeps it AI', () => {
    const m = model();
    const mask = new Uint8Array(12);
    mask[5] = 1;
    mask[6] = 1;
    m.setPreview({ sliceIndex: 1, mask, color: [255, 0, 0] });
    const seg = m.acceptPreview({ ...LIVER, provenance: { source: 'ai', question: 'where is the liver?', models: [{ name: 'medreasoner', version: '1' }] } });
    expect(m.preview).toBeNull();
    expect(m.segment(seg.number)?.provenance.source).toBe('ai');
    expect(m.labelmap[12 + 5]).toBe(seg.number);
    m.edit('Erase', (lm) => {
      lm[12 + 5] = 0;
    });
    expect(m.segment(seg.number)?.provenance.source).toBe('ai-edited');
    expect(m.segment(seg.number)?.provenance.question).toBe('where is the liver?');
    m.undo();
    expect(m.segment(seg.number)?.provenance.source).toBe('ai');
    m.undo();
    expect(m.segments).toHaveLength(0);
    expect(m.labelmap.every((v) => v === 0)).toBe(true);
  });

  it('accepting a preview keeps locked segments’ voxels', () => {
    const m = model();
    const locked = m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    m.edit('Paint', (lm) => {
      lm[3] = locked.number;
    });
    m.updateSegment(locked.number, { locked: true });
    m.setPreview({ sliceIndex: 0, mask: new Uint8Array(12).fill(1), color: [0, 0, 255] });
    const added = m.acceptPreview({ ...LIVER, label: 'Lesion', provenance: { source: 'interactive' } });
    expect(m.labelmap[3]).toBe(locked.number);
    expect(m.labelmap[4]).toBe(added.number);
  });

  it('deleting a segment removes its voxels and is undoable', () => {
    const m = model();
    const seg = m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    m.edit('Paint', (lm) => lm.fill(seg.number, 0, 30));
    m.removeSegment(seg.number);
    expect(m.segments).toHaveLength(0);
    expect(m.labelmap.every((v) => v === 0)).toBe(true);
    expect(m.activeSegment).toBeNull();
    m.undo();
    expect(m.segments).toHaveLength(1);
    expect(m.labelmap.filter((v) => v === seg.number)).toHaveLength(30);
  });

  it('tracks unsaved changes and produces the host payload', () => {
    const m = model();
    expect(m.toPayload()).toBeNull();
    const seg = m.addSegment({ ...LIVER, provenance: { source: 'manual' } });
    m.edit('Paint', (lm) => lm.fill(seg.number, 7, 9));
    expect(m.dirty).toBe(true);
    m.markSaved();
    expect(m.dirty).toBe(false);
    const payload = m.toPayload()!;
    expect(payload.segments[0]).not.toHaveProperty('visible');
    expect(Array.from(decodeLabelmap(payload.labelmap))).toEqual(Array.from(m.labelmap));
  });

  it('refuses a preview of the wrong size with the sizes in the message', () => {
    const m = model();
    expect(() => m.setPreview({ sliceIndex: 0, mask: new Uint8Array(10), color: [1, 2, 3] })).toThrow(/10 pixels, a slice 12/);
  });
});
