// Reading the CRM's answer. The seed's parser (eval/utils.py extract_think_bbox_points):
// reasoning = the first <think>…</think>; answer = <answer>\s*({.*?})\s*</answer>, single
// quotes replaced by double quotes, then the first JSON value decoded; keys bbox,
// points_1, points_2. This module does exactly that first, then tolerates the near misses
// a model produces (an unterminated <answer>, the dict outside the block), always saying
// what it tolerated, and fails with a named failure and the raw text kept otherwise.
// Coordinates are in the image the processor resized; they are validated there and then
// mapped to the slice's pixel grid.
import type { PixelBox } from './segmenter-types.ts';

export type AnswerFailureKind = 'no-answer' | 'malformed-answer' | 'out-of-range';

export interface ModelAnswer {
  /** [xmin, ymin, xmax, ymax] in the resized image's pixels. */
  bbox: [number, number, number, number];
  points: [[number, number], [number, number]];
}

export type ParseResult =
  | { ok: true; reasoning: string | null; answerText: string; answer: ModelAnswer; warnings: string[] }
  | { ok: false; failure: AnswerFailureKind; message: string; reasoning: string | null; answerText: string | null };

/** The first complete JSON value at the start of `text` (like Python's JSONDecoder.raw_decode). */
function rawDecode(text: string): unknown {
  const start = text.search(/\S/);
  if (start < 0) throw new SyntaxError('empty answer');
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return JSON.parse(text.slice(start, i + 1));
    }
  }
  return JSON.parse(text.slice(start)); // throws with JSON's own message
}

function numberList(value: unknown, length: number, key: string): number[] | string {
  let list = value;
  // [[x, y]] for a point: tolerated (models sometimes nest a single point).
  if (length === 2 && Array.isArray(list) && list.length === 1 && Array.isArray(list[0])) list = list[0];
  if (!Array.isArray(list)) return `"${key}" is ${value === undefined ? 'missing' : `not a list (${JSON.stringify(value)})`}`;
  if (list.length !== length) return `"${key}" has ${list.length} values, expected ${length} (${JSON.stringify(value)})`;
  const numbers = list.map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN));
  if (!numbers.every(Number.isFinite)) return `"${key}" holds a non-number (${JSON.stringify(value)})`;
  return numbers;
}

export function parseAnswer(raw: string): ParseResult {
  const warnings: string[] = [];
  const thinkMatch = /<think>([\s\S]*?)<\/think>/.exec(raw);
  const reasoning = thinkMatch ? thinkMatch[1]!.trim() : null;

  let answerText: string | null = null;
  const exact = /<answer>\s*(\{[\s\S]*?\})\s*<\/answer>/.exec(raw);
  if (exact) answerText = exact[1]!.trim();
  else {
    const unterminated = /<answer>\s*(\{[\s\S]*\})/.exec(raw);
    if (unterminated) {
      answerText = unterminated[1]!.trim();
      warnings.push(raw.includes('</answer>') ? 'the <answer> block holds more than the JSON object' : 'the <answer> block is not closed');
    } else {
      const afterThink = thinkMatch ? raw.slice(thinkMatch.index + thinkMatch[0].length) : raw;
      const loose = /\{[^{}]*['"]bbox['"][\s\S]*?\}/.exec(afterThink);
      if (loose) {
        answerText = loose[0];
        warnings.push('the answer is not inside an <answer> block');
      }
    }
  }
  if (answerText === null) {
    return {
      ok: false,
      failure: 'no-answer',
      message: raw.includes('<answer>') ? 'the <answer> block holds no {…} object' : raw.trim() === '' ? 'the model wrote nothing' : 'the model wrote no <answer> block',
      reasoning,
      answerText: null,
    };
  }
  let decoded: unknown;
  try {
    decoded = rawDecode(answerText.replace(/'/g, '"'));
  } catch (error) {
    return { ok: false, failure: 'malformed-answer', message: `the answer is not a JSON object (${(error as Error).message})`, reasoning, answerText };
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    return { ok: false, failure: 'malformed-answer', message: 'the answer is not a JSON object', reasoning, answerText };
  }
  const object = decoded as Record<string, unknown>;
  const bbox = numberList(object.bbox, 4, 'bbox');
  const p1 = numberList(object.points_1, 2, 'points_1');
  const p2 = numberList(object.points_2, 2, 'points_2');
  const problems = [bbox, p1, p2].filter((v): v is string => typeof v === 'string');
  if (problems.length > 0) return { ok: false, failure: 'malformed-answer', message: problems.join('; '), reasoning, answerText };
  const [x0, y0, x1, y1] = bbox as number[];
  if (!(x1! > x0!) || !(y1! > y0!)) {
    return { ok: false, failure: 'malformed-answer', message: `bbox ${JSON.stringify(bbox)} is empty or its corners are reversed (need xmin < xmax, ymin < ymax)`, reasoning, answerText };
  }
  if (thinkMatch === null) warnings.push('no <think> block');
  return {
    ok: true,
    reasoning,
    answerText,
    answer: { bbox: [x0!, y0!, x1!, y1!], points: [p1 as [number, number], p2 as [number, number]] },
    warnings,
  };
}

export interface Size {
  width: number;
  height: number;
}

export type ValidationResult = { ok: true } | { ok: false; failure: 'out-of-range'; message: string };

/** Box inside the image the model saw, both key points inside the box. */
export function validateAnswer(answer: ModelAnswer, seen: Size): ValidationResult {
  const [x0, y0, x1, y1] = answer.bbox;
  const problems: string[] = [];
  if (x0 < 0 || y0 < 0 || x1 > seen.width || y1 > seen.height) {
    problems.push(`bbox [${answer.bbox.join(', ')}] is not inside the ${seen.width}×${seen.height} image the model saw`);
  }
  answer.points.forEach(([x, y], i) => {
    if (x < x0 || x > x1 || y < y0 || y > y1) problems.push(`points_${i + 1} [${x}, ${y}] lies outside the bbox`);
  });
  return problems.length === 0 ? { ok: true } : { ok: false, failure: 'out-of-range', message: problems.join('; ') };
}

export interface SliceAnswer {
  /** Continuous [xmin, ymin, xmax, ymax] on the slice grid. */
  box: [number, number, number, number];
  /** Inclusive pixel corners for the ASM and the UI. */
  pixelBox: PixelBox;
  points: [[number, number], [number, number]];
  scale: { x: number; y: number };
}

/**
 * Model coordinates → slice pixels: × (slice size / resized size) per axis. With
 * `mapping: 'none'` coordinates are taken as slice pixels (the seed's evaluation does
 * that; identical when the slice size is a multiple of 28).
 */
export function mapToSlice(answer: ModelAnswer, seen: Size, slice: Size, mapping: 'resized' | 'none' = 'resized'): SliceAnswer {
  const sx = mapping === 'resized' ? slice.width / seen.width : 1;
  const sy = mapping === 'resized' ? slice.height / seen.height : 1;
  const [x0, y0, x1, y1] = answer.bbox;
  const box: [number, number, number, number] = [x0 * sx, y0 * sy, x1 * sx, y1 * sy];
  const clampX = (v: number) => Math.min(slice.width - 1, Math.max(0, v));
  const clampY = (v: number) => Math.min(slice.height - 1, Math.max(0, v));
  const pixelBox: PixelBox = [clampX(Math.round(box[0])), clampY(Math.round(box[1])), clampX(Math.round(box[2])), clampY(Math.round(box[3]))];
  const points = answer.points.map(([x, y]) => [clampX(x * sx), clampY(y * sy)]) as [[number, number], [number, number]];
  return { box, pixelBox, points, scale: { x: sx, y: sy } };
}
