// The CRM's prompt filling (Python str.format, as the seed) and answer parsing (the seed's
// regex and JSON decode first, then tolerated near misses), fitting to the image the model
// saw (clip, keep, flag) and mapping.
import { describe, expect, test } from 'vitest';
import { fitAnswer, mapToSlice, parseAnswer } from '../../electron/host/inference/crm-answer.ts';
import { buildPrompt, pythonFormat, PromptError, type PromptFile } from '../../electron/host/inference/crm-prompt.ts';

const SEED_EXAMPLE = "{'bbox': [xmin, ymin, xmax, ymax], 'points_1': [x1, y1], 'points_2': [x2, y2]}";

describe('prompt filling', () => {
  test('fills {Question} and {Answer} and turns {{ }} into literal braces, as Python str.format', () => {
    expect(pythonFormat('Q: {Question}\n{{json}} <answer>{Answer}</answer>', { Question: 'Where?', Answer: "{'bbox': []}" })).toBe(
      "Q: Where?\n{json} <answer>{'bbox': []}</answer>",
    );
  });
  test('a question containing braces is inserted verbatim (format does not re-read values)', () => {
    expect(pythonFormat('[{Question}]', { Question: '{Answer} {{x}}' })).toBe('[{Answer} {{x}}]');
  });
  test('stray braces, unknown fields and format specs are errors, as in Python', () => {
    expect(() => pythonFormat('a } b', {})).toThrow(PromptError);
    expect(() => pythonFormat('a { b', {})).toThrow(/no closing/);
    expect(() => pythonFormat('{Other}', { Question: 'q' })).toThrow(/no value/);
    expect(() => pythonFormat('{Question:>10}', { Question: 'q' })).toThrow(/plain keyword/);
  });
  test('buildPrompt uses the default variant and the answer example from prompt.json', () => {
    const prompt: PromptFile = {
      format: 'medreasoner-prompt',
      version: 1,
      source: 'test',
      fill: 'python-format',
      answerExample: SEED_EXAMPLE,
      default: 'think',
      variants: { think: '<image>\nQuestion: {Question}\n<answer>{Answer}</answer>', no_think: 'Please answer {Question}.' },
    };
    const built = buildPrompt(prompt, 'Which organ is enlarged?');
    expect(built).toEqual({ variant: 'think', think: true, text: `<image>\nQuestion: Which organ is enlarged?\n<answer>${SEED_EXAMPLE}</answer>` });
    expect(buildPrompt(prompt, 'x', 'no_think')).toMatchObject({ think: false, text: 'Please answer x.' });
    expect(() => buildPrompt(prompt, 'x', 'other')).toThrow(/does not exist/);
  });
});

describe('answer parsing', () => {
  const valid = "<think> The lesion is bright. </think><answer>{'bbox': [10, 20, 110, 220], 'points_1': [50, 60], 'points_2': [70.5, 80]}</answer>";

  test("the seed's format: reasoning trimmed, single quotes accepted, numbers read", () => {
    const result = parseAnswer(valid);
    expect(result).toEqual({
      ok: true,
      reasoning: 'The lesion is bright.',
      answerText: "{'bbox': [10, 20, 110, 220], 'points_1': [50, 60], 'points_2': [70.5, 80]}",
      written: {
        bbox: [10, 20, 110, 220],
        points: [
          [50, 60],
          [70.5, 80],
        ],
      },
      answer: {
        bbox: [10, 20, 110, 220],
        points: [
          [50, 60],
          [70.5, 80],
        ],
      },
      warnings: [],
    });
  });
  test('text after the JSON object inside the block is ignored like raw_decode; an unclosed block is tolerated with a note', () => {
    const unclosed = parseAnswer("<think>x</think><answer>{'bbox': [1, 2, 3, 4], 'points_1': [2, 3], 'points_2': [2, 3]}");
    expect(unclosed.ok && unclosed.warnings).toEqual(['the <answer> block is not closed']);
    const outside = parseAnswer("<think>x</think> So: {'bbox': [1, 2, 3, 4], 'points_1': [2, 3], 'points_2': [2, 3]}");
    expect(outside.ok && outside.warnings).toEqual(['the answer is not inside an <answer> block']);
  });
  test('no answer at all: no-answer, reasoning kept', () => {
    const result = parseAnswer('<think>I am not sure.</think> The image is unclear.');
    expect(result).toMatchObject({ ok: false, failure: 'no-answer', reasoning: 'I am not sure.' });
  });
  test('an empty reply is a no-answer', () => {
    expect(parseAnswer('')).toMatchObject({ ok: false, failure: 'no-answer', message: 'the model wrote nothing' });
  });
  test('malformed answers name what is wrong', () => {
    expect(parseAnswer("<answer>{'bbox': [1, 2, 3], 'points_1': [1, 1], 'points_2': [2, 2]}</answer>")).toMatchObject({
      ok: false,
      failure: 'malformed-answer',
      message: expect.stringContaining('"bbox" has 3 values, expected 4'),
    });
    expect(parseAnswer("<answer>{'bbox': [1, 2, 3, 4], 'points_1': [1, 1]}</answer>")).toMatchObject({
      failure: 'malformed-answer',
      message: expect.stringContaining('"points_2" is missing'),
    });
    expect(parseAnswer("<answer>{'bbox': [1, 2, 3, 4], 'points_1': [1, 'a'], 'points_2': [2, 2]}</answer>")).toMatchObject({
      failure: 'malformed-answer',
      message: expect.stringContaining('"points_1" holds a non-number'),
    });
    expect(parseAnswer("<answer>{'bbox': [1, 2, 3, 4,, ]}</answer>")).toMatchObject({ failure: 'malformed-answer' });
  });
  test('a reversed box is swapped per axis, with a warning each; what the model wrote is kept', () => {
    const result = parseAnswer("<think>t</think><answer>{'bbox': [30, 40, 3, 4.5], 'points_1': [10, 10], 'points_2': [20, 20]}</answer>");
    expect(result).toMatchObject({
      ok: true,
      written: { bbox: [30, 40, 3, 4.5] },
      answer: { bbox: [3, 4.5, 30, 40] },
      warnings: ['bbox x corners reversed (30 > 3): swapped', 'bbox y corners reversed (40 > 4.5): swapped'],
    });
    const onlyY = parseAnswer("<think>t</think><answer>{'bbox': [3, 40, 30, 4], 'points_1': [10, 10], 'points_2': [20, 20]}</answer>");
    expect(onlyY).toMatchObject({ ok: true, answer: { bbox: [3, 4, 30, 40] }, warnings: ['bbox y corners reversed (40 > 4): swapped'] });
  });
  test('a box without area is used and flagged', () => {
    expect(parseAnswer("<think>t</think><answer>{'bbox': [5, 5, 5, 9], 'points_1': [5, 6], 'points_2': [5, 7]}</answer>")).toMatchObject({
      ok: true,
      answer: { bbox: [5, 5, 5, 9] },
      warnings: ['bbox [5, 5, 5, 9] has no area'],
    });
  });
  test('ints, floats and numeric strings are all read as numbers', () => {
    const result = parseAnswer("<think>t</think><answer>{'bbox': [1, 2.5, '30', 40.0], 'points_1': [10, '12.5'], 'points_2': [20.25, 21]}</answer>");
    expect(result).toMatchObject({ ok: true, answer: { bbox: [1, 2.5, 30, 40], points: [[10, 12.5], [20.25, 21]] }, warnings: [] });
  });
});

describe('validation and mapping', () => {
  const answer = {
    bbox: [10, 20, 110, 220] as [number, number, number, number],
    points: [
      [50, 60],
      [70, 80],
    ] as [[number, number], [number, number]],
  };
  test('inside the image the model saw, points inside the box: unchanged, no warnings', () => {
    expect(fitAnswer(answer, { width: 252, height: 252 })).toEqual({ answer, warnings: [] });
  });
  test('a box reaching past the resized image is clipped to it', () => {
    const fitted = fitAnswer({ ...answer, bbox: [-4, 20, 110, 300] }, { width: 100, height: 252 });
    expect(fitted.answer.bbox).toEqual([0, 20, 100, 252]);
    expect(fitted.warnings[0]).toBe('bbox [-4, 20, 110, 300] reaches outside the 100×252 image the model saw: clipped to [0, 20, 100, 252]');
  });
  test('a box entirely outside is clipped to an empty box on the edge, and says so', () => {
    const fitted = fitAnswer({ bbox: [300, 10, 320, 40], points: [[310, 20], [315, 30]] }, { width: 252, height: 252 });
    expect(fitted.answer.bbox).toEqual([252, 10, 252, 40]);
    expect(fitted.warnings[0]).toMatch(/clipped to \[252, 10, 252, 40\], which has no area/);
    expect(fitted.warnings).toContain('points_1 [310, 20] lies outside the image the model saw: clipped to [252, 20]');
  });
  test('a key point outside the box is kept where the model put it, and flagged', () => {
    const outside = { ...answer, points: [[5, 60], [70, 80]] as [[number, number], [number, number]] };
    expect(fitAnswer(outside, { width: 252, height: 252 })).toEqual({ answer: outside, warnings: ['points_1 [5, 60] lies outside the bbox (kept)'] });
  });
  test('coordinates scale by slice size / resized size per axis', () => {
    const mapped = mapToSlice(answer, { width: 252, height: 504 }, { width: 256, height: 512 });
    expect(mapped.scale).toEqual({ x: 256 / 252, y: 512 / 504 });
    expect(mapped.box[0]).toBeCloseTo((10 * 256) / 252, 9);
    expect(mapped.box[3]).toBeCloseTo((220 * 512) / 504, 9);
    expect(mapped.pixelBox).toEqual([Math.round((10 * 256) / 252), Math.round((20 * 512) / 504), Math.round((110 * 256) / 252), Math.round((220 * 512) / 504)]);
    expect(mapped.points[1][0]).toBeCloseTo((70 * 256) / 252, 9);
    expect(mapToSlice(answer, { width: 252, height: 252 }, { width: 256, height: 256 }, 'none').box).toEqual([10, 20, 110, 220]);
  });
});
