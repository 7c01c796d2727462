// The seed's table (eval/statistic.py): per-sample IoU and pDice rounded to 4 places as the
// seed stores them, means over all samples and per super-category, a failed answer scoring 0.
// Printed in percent as the paper's table is.
import { boxIoU, maskDice, pDice, type Box, type Point } from '../metrics.ts';

export interface SampleScore {
  id: string;
  supercategory: string;
  category: string;
  /** The answer could not be used (no answer, malformed, server failure): every metric is 0. */
  failed: boolean;
  iou: number;
  pdice: number;
  /** Mask Dice of the ASM's mask; null when the dataset has no mask. */
  dice: number | null;
}

export interface GroupScore {
  count: number;
  failed: number;
  iou: number;
  pdice: number;
  dice: number | null;
}

export interface EvalTable {
  overall: GroupScore;
  superCategories: Record<string, GroupScore & { categories: Record<string, GroupScore> }>;
}

/** Python's round(x, 4) for the values metrics produce (never exact decimal ties in practice). */
export const round4 = (x: number) => Number(x.toFixed(4));

export function scoreSample(
  sample: { id: string; supercategory: string; category: string; gt: { bbox: Box; points: [Point, Point] }; mask: Uint8Array | null },
  answer: { bbox: Box; points: [Point, Point] } | null,
  predMask: Uint8Array | null,
): SampleScore {
  const base = { id: sample.id, supercategory: sample.supercategory, category: sample.category };
  if (!answer) return { ...base, failed: true, iou: 0, pdice: 0, dice: sample.mask ? 0 : null };
  return {
    ...base,
    failed: false,
    iou: round4(boxIoU(answer.bbox, sample.gt.bbox)),
    pdice: round4(pDice(answer.points, sample.gt.points)),
    dice: sample.mask ? (predMask ? round4(maskDice(predMask, sample.mask)) : 0) : null,
  };
}

function group(scores: readonly SampleScore[]): GroupScore {
  const mean = (values: number[]) => (values.length === 0 ? 0 : round4(values.reduce((a, b) => a + b, 0) / values.length));
  const dices = scores.map((s) => s.dice).filter((d): d is number => d !== null);
  return {
    count: scores.length,
    failed: scores.filter((s) => s.failed).length,
    iou: mean(scores.map((s) => s.iou)),
    pdice: mean(scores.map((s) => s.pdice)),
    dice: dices.length > 0 ? mean(dices) : null,
  };
}

export function evalTable(scores: readonly SampleScore[]): EvalTable {
  const bySuper = new Map<string, SampleScore[]>();
  for (const s of scores) bySuper.set(s.supercategory, [...(bySuper.get(s.supercategory) ?? []), s]);
  const superCategories: EvalTable['superCategories'] = {};
  for (const name of [...bySuper.keys()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
    const members = bySuper.get(name)!;
    const byCategory = new Map<string, SampleScore[]>();
    for (const s of members) byCategory.set(s.category, [...(byCategory.get(s.category) ?? []), s]);
    const categories: Record<string, GroupScore> = {};
    for (const c of [...byCategory.keys()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) categories[c] = group(byCategory.get(c)!);
    superCategories[name] = { ...group(members), categories };
  }
  return { overall: group(scores), superCategories };
}

export function formatTable(table: EvalTable): string {
  const pct = (v: number | null) => (v === null ? '—' : (v * 100).toFixed(2));
  const rows: string[][] = [['', 'N', 'IoU', 'pDice', 'Dice', 'failed']];
  const add = (name: string, g: GroupScore) => rows.push([name, String(g.count), pct(g.iou), pct(g.pdice), pct(g.dice), String(g.failed)]);
  add('Overall', table.overall);
  for (const [name, g] of Object.entries(table.superCategories)) add(name, g);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}
