// Reading the CRM's answer. The seed's parser (eval/utils.py extract_think_bbox_points):
// reasoning = the first <think>…</think>; answer = <answer>\s*({.*?})\s*</answer>, single
// quotes replaced by double quotes, then the first JSON value decoded; keys bbox,
// points_1, points_2. This module does exactly that first, then tolerates the near misses
// a model produces (an unterminated <answer>, the dict outside the block), always saying
// what it tolerated, and fails with a named failure and the raw text kept otherwise.
// What parses is used, as the seed uses it (it validates nothing and hands MedSAM2 whatever
// it read): a reversed box is put the right way round, a box reaching past the image is
// clipped to it, a key point outside the box is kept; each fix is a warning on the result.
// Only an answer that cannot be read at all fails. Coordinates are in the image the
// processor resized; they are fitted there and then mapped to the slice's pixel grid.
import type { PixelBox } from './segmenter-types.ts';

export type AnswerFailureKind = 'no-answer' | 'malformed-answer';

export interface ModelAnswer {
  /** [xmin, ymin, xmax, ymax] in the resized image's pixels. */
  bbox: [number, number, number, number];
  points: [[number, number], [number, number]];
}

export type ParseResult =
  /** `written` holds the numbers as the model wrote them; `answer` has its box corners ordered. */
  | { ok: true; reasoning: string | null; answerText: string; written: ModelAnswer; answer: ModelAnswer; warnings: string[] }
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
  if (thinkMatch === null) warnings.push('no <think> block');
  const written: ModelAnswer = { bbox: bbox as ModelAnswer['bbox'], points: [p1 as [number, number], p2 as [number, number]] };
  const [x0, y0, x1, y1] = written.bbox;
  if (x0 > x1) warnings.push(`bbox x corners reversed (${x0} > ${x1}): swapped`);
  if (y0 > y1) warnings.push(`bbox y corners reversed (${y0} > ${y1}): swapped`);
  const ordered: ModelAnswer['bbox'] = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
  if (ordered[0] === ordered[2] || ordered[1] === ordered[3]) warnings.push(`bbox [${written.bbox.join(', ')}] has no area`);
  return { ok: true, reasoning, answerText, written, answer: { bbox: ordered, points: written.points }, warnings };
}

export interface Size {
  width: number;
  height: number;
}

export interface FittedAnswer {
  answer: ModelAnswer;
  warnings: string[];
}

const clip = (v: number, max: number) => Math.min(max, Math.max(0, v));

/**
 * The answer fitted to the image the model saw: the box and the key points clipped to it;
 * a key point outside the box is kept (MedSAM2 is prompted with it, as in the seed) and
 * flagged. Expects the box corners ordered (parseAnswer does that).
 */
export function fitAnswer(answer: ModelAnswer, seen: Size): FittedAnswer {
  const warnings: string[] = [];
  const [x0, y0, x1, y1] = answer.bbox;
  const bbox: ModelAnswer['bbox'] = [clip(x0, seen.width), clip(y0, seen.height), clip(x1, seen.width), clip(y1, seen.height)];
  if (bbox.some((v, i) => v !== answer.bbox[i])) {
    const empty = bbox[0] === bbox[2] || bbox[1] === bbox[3];
    warnings.push(`bbox [${answer.bbox.join(', ')}] reaches outside the ${seen.width}×${seen.height} image the model saw: clipped to [${bbox.join(', ')}]${empty ? ', which has no area' : ''}`);
  }
  const points = answer.points.map(([x, y], i): [number, number] => {
    const fitted: [number, number] = [clip(x, seen.width), clip(y, seen.height)];
    if (fitted[0] !== x || fitted[1] !== y) warnings.push(`points_${i + 1} [${x}, ${y}] lies outside the image the model saw: clipped to [${fitted.join(', ')}]`);
    const [px, py] = fitted;
    if (px < bbox[0] || px > bbox[2] || py < bbox[1] || py > bbox[3]) warnings.push(`points_${i + 1} [${px}, ${py}] lies outside the bbox (kept)`);
    return fitted;
  }) as ModelAnswer['points'];
  return { answer: { bbox, points }, warnings };
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
