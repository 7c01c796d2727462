// Overlap scores between two masks of one slice (teaching mode), mask bookkeeping, and
// the teaching session's CSV. Pure.
import type { PixelBox } from './ask-geometry.ts';

export function maskArea(mask: Uint8Array): number {
  let area = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) area++;
  return area;
}

/** Dice and IoU; both 1 when both masks are empty (nothing to disagree about). */
export function overlapScores(a: Uint8Array, b: Uint8Array): { dice: number; iou: number } {
  if (a.length !== b.length) throw new RangeError(`masks of different sizes: ${a.length} and ${b.length} pixels`);
  let both = 0;
  let inA = 0;
  let inB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ? 1 : 0;
    const y = b[i] ? 1 : 0;
    inA += x;
    inB += y;
    both += x & y;
  }
  if (inA + inB === 0) return { dice: 1, iou: 1 };
  return { dice: (2 * both) / (inA + inB), iou: both / (inA + inB - both) };
}

/** A filled inclusive box as a mask of the slice. */
export function boxMask(width: number, height: number, box: PixelBox): Uint8Array {
  const mask = new Uint8Array(width * height);
  const [x0, y0, x1, y1] = box;
  for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++) mask.fill(1, y * width + Math.max(0, x0), y * width + Math.min(width - 1, x1) + 1);
  return mask;
}

/** The tightest inclusive box around a mask; null for an empty mask. */
export function maskBounds(mask: Uint8Array, width: number): PixelBox | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

export type TeachingScore = { question: string; dice: number; iou: number; time: string; sliceIndex: number };

/** RFC 4180 CSV: a header row, then one row per question; scores with 4 decimals. */
export function teachingCsv(rows: readonly TeachingScore[]): string {
  const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const lines = ['question,slice,dice,iou,time'];
  for (const row of rows) lines.push([quote(row.question), String(row.sliceIndex + 1), row.dice.toFixed(4), row.iou.toFixed(4), quote(row.time)].join(','));
  return `${lines.join('\r\n')}\r\n`;
}
