// The prompts of one answer being refined: the box and the clicked points on one slice,
// with an undo history of their own (prompt changes are not segmentation edits: they
// only change the preview). Pure.
import type { PromptSchema } from '../../../electron/common/contract-seg.ts';
import type { PixelBox } from './ask-geometry.ts';

/** A clicked point (label 1 inside, 0 outside); the model's key points are marked fromModel. */
export type PromptPoint = { x: number; y: number; label: 0 | 1; fromModel?: boolean };
export type Prompts = { box: PixelBox | null; points: PromptPoint[] };

export class PromptEditor {
  private current: Prompts;
  private readonly past: Prompts[] = [];
  /** The prompts the model answered with: anything else means the user refined them. */
  private readonly initial: Prompts;

  constructor(initial: Prompts = { box: null, points: [] }) {
    this.current = copy(initial);
    this.initial = copy(initial);
  }

  get prompts(): Prompts {
    return copy(this.current);
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get isEmpty(): boolean {
    return this.current.box === null && this.current.points.length === 0;
  }

  /** True once the prompts differ from the ones the model gave. */
  get refined(): boolean {
    return !samePrompts(this.current, this.initial);
  }

  setBox(box: PixelBox | null): void {
    this.change({ ...this.current, box: box ? [...box] : null });
  }

  addPoint(point: PromptPoint): void {
    this.change({ ...this.current, points: [...this.current.points, { ...point }] });
  }

  clear(): void {
    if (this.isEmpty) return;
    this.change({ box: null, points: [] });
  }

  undo(): boolean {
    const previous = this.past.pop();
    if (!previous) return false;
    this.current = previous;
    return true;
  }

  private change(next: Prompts): void {
    if (samePrompts(next, this.current)) return;
    this.past.push(this.current);
    this.current = copy(next);
  }
}

/** The prompts as inference.segment takes them. */
export function segmentPrompts(prompts: Prompts): { box: PixelBox | null; points: Array<{ x: number; y: number; label: 0 | 1 }> } {
  return { box: prompts.box, points: prompts.points.map(({ x, y, label }) => ({ x, y, label })) };
}

export function samePrompts(a: Prompts, b: Prompts): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function copy(prompts: Prompts): Prompts {
  return { box: prompts.box ? [...prompts.box] : null, points: prompts.points.map((p) => ({ ...p })) };
}

/**
 * The prompts as the segment's provenance stores them (SR SCOORD convention: (0,0) is
 * the top-left corner of the top-left pixel). The host's prompts have pixel centres at
 * integers and inclusive boxes: shift by half a pixel and make the box's far edge exclusive.
 */
export function provenancePrompts(prompts: Prompts, sliceIndex: number): PromptSchema[] {
  const out: PromptSchema[] = [];
  if (prompts.box) {
    const [x0, y0, x1, y1] = prompts.box;
    out.push({ kind: 'box', sliceIndex, x0, y0, x1: x1 + 1, y1: y1 + 1 });
  }
  for (const point of prompts.points) {
    out.push({ kind: 'point', sliceIndex, x: point.x + 0.5, y: point.y + 0.5, label: point.label === 1 ? 'positive' : 'negative' });
  }
  return out;
}
