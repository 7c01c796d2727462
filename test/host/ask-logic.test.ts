// The ask panel's pure parts: screen mapping and box editing, prompt undo, overlap
// scores and CSV, naming and coding an answer, the run state and history, propagation.
import { describe, expect, it } from 'vitest';
import type { AskResult } from '../../electron/common/contract-inference.ts';
import { affineFromSamples, boxOutline, dragBox, hitHandle, imageToScreen, screenToImage, type PixelBox } from '../../renderer/src/ask/ask-geometry.ts';
import { boxMask, maskArea, maskBounds, overlapScores, teachingCsv } from '../../renderer/src/ask/ask-metrics.ts';
import { findNamedTerm, nameAnswer, nameFromQuestion } from '../../renderer/src/ask/ask-naming.ts';
import { PromptEditor, provenancePrompts } from '../../renderer/src/ask/ask-prompts.ts';
import { AskHistory, AskRun, historyEntry, streamingReasoning } from '../../renderer/src/ask/ask-session.ts';

describe('image ↔ screen mapping', () => {
  // Zoomed ×2, panned, and flipped horizontally: the map must still invert exactly.
  const map = affineFromSamples({ x: 300, y: 50 }, { x: 298, y: 50 }, { x: 300, y: 52 });
  it('maps pixel centres and back', () => {
    expect(imageToScreen(map, 10, 20)).toEqual({ x: 280, y: 90 });
    expect(screenToImage(map, { x: 280, y: 90 })).toEqual({ x: 10, y: 20 });
  });
  it('outlines a box on pixel edges', () => {
    const outline = boxOutline(map, [0, 0, 1, 1]);
    expect(outline[0]).toEqual({ x: 301, y: 49 });
    expect(outline[2]).toEqual({ x: 297, y: 53 });
  });
  it('finds the handle under the pointer, or "move" inside the box', () => {
    const straight = affineFromSamples({ x: 0, y: 0 }, { x: 2, y: 0 }, { x: 0, y: 2 });
    const box: PixelBox = [10, 10, 30, 20];
    expect(hitHandle(straight, box, { x: 19, y: 19 })).toBe('nw');
    expect(hitHandle(straight, box, { x: 61, y: 41 })).toBe('se');
    expect(hitHandle(straight, box, { x: 40, y: 19 })).toBe('n');
    expect(hitHandle(straight, box, { x: 40, y: 30 })).toBe('move');
    expect(hitHandle(straight, box, { x: 200, y: 200 })).toBeNull();
  });
});

describe('box dragging', () => {
  it('moves a box without leaving the image', () => {
    expect(dragBox([10, 10, 20, 20], 'move', 5, -3, 64, 64)).toEqual([15, 7, 25, 17]);
    expect(dragBox([10, 10, 20, 20], 'move', 100, -100, 64, 64)).toEqual([53, 0, 63, 10]);
  });
  it('resizes by an edge or corner and keeps the corners in order', () => {
    expect(dragBox([10, 10, 20, 20], 'e', 4, 9, 64, 64)).toEqual([10, 10, 24, 20]);
    expect(dragBox([10, 10, 20, 20], 'nw', 15, 15, 64, 64)).toEqual([20, 20, 25, 25]);
  });
});

describe('prompt editor', () => {
  it('records changes for undo and knows when the user refined the model prompts', () => {
    const editor = new PromptEditor({ box: [1, 2, 3, 4], points: [{ x: 2, y: 3, label: 1 }] });
    expect(editor.refined).toBe(false);
    editor.addPoint({ x: 9, y: 9, label: 0 });
    editor.setBox([1, 2, 5, 6]);
    expect(editor.refined).toBe(true);
    expect(editor.prompts.points).toHaveLength(2);
    expect(editor.undo()).toBe(true);
    expect(editor.prompts.box).toEqual([1, 2, 3, 4]);
    expect(editor.undo()).toBe(true);
    expect(editor.refined).toBe(false);
    expect(editor.undo()).toBe(false);
    editor.clear();
    expect(editor.isEmpty).toBe(true);
    editor.undo();
    expect(editor.isEmpty).toBe(false);
  });
  it('stores prompts with pixel corners at integers (SR convention)', () => {
    expect(provenancePrompts({ box: [10, 20, 30, 40], points: [{ x: 15, y: 25, label: 0 }] }, 7)).toEqual([
      { kind: 'box', sliceIndex: 7, x0: 10, y0: 20, x1: 31, y1: 41 },
      { kind: 'point', sliceIndex: 7, x: 15.5, y: 25.5, label: 'negative' },
    ]);
  });
});

describe('overlap scores', () => {
  it('computes Dice and IoU of two boxes', () => {
    const a = boxMask(10, 10, [0, 0, 3, 3]); // 16 px
    const b = boxMask(10, 10, [2, 2, 5, 5]); // 16 px, 4 shared
    expect(maskArea(a)).toBe(16);
    const { dice, iou } = overlapScores(a, b);
    expect(dice).toBeCloseTo(8 / 32, 10);
    expect(iou).toBeCloseTo(4 / 28, 10);
    expect(maskBounds(b, 10)).toEqual([2, 2, 5, 5]);
    expect(maskBounds(new Uint8Array(100), 10)).toBeNull();
  });
  it('writes the session as CSV with quoted questions', () => {
    const csv = teachingCsv([{ question: 'Where, exactly, is the "liver"?', dice: 0.5, iou: 1 / 3, time: '2026-01-01T00:00:00.000Z', sliceIndex: 59 }]);
    expect(csv).toBe('question,slice,dice,iou,time\r\n"Where, exactly, is the ""liver""?",60,0.5000,0.3333,2026-01-01T00:00:00.000Z\r\n');
  });
});

describe('naming an answer', () => {
  it('codes the structure the question names, the longest match first', () => {
    expect(findNamedTerm('Where is the left kidney?')?.id).toBe('leftKidney');
    expect(findNamedTerm('Are the kidneys normal?')?.id).toBe('kidney');
    expect(findNamedTerm('Anything odd here?')).toBeNull();
    const naming = nameAnswer('Where is the liver?', null);
    expect(naming.label).toBe('Liver');
    expect(naming.type).toEqual({ value: '10200004', scheme: 'SCT', meaning: 'Liver' });
  });
  it('falls back to the reasoning, then to the question text', () => {
    expect(nameAnswer('Which organ looks abnormal?', 'the region matches the liver').termId).toBe('liver');
    const plain = nameAnswer('Which organ looks abnormal?', 'no idea');
    expect(plain.termId).toBeNull();
    expect(plain.label).toBe('Which organ looks abnormal');
    expect(nameFromQuestion('where is the thing at the bottom left of this slice that looks much brighter than everything else?').length).toBeLessThanOrEqual(64);
  });
});

function askResult(patch: Partial<AskResult> = {}): AskResult {
  return {
    jobId: 'job-1', seriesKey: 's', sliceIndex: 3, question: 'Where is the liver?', status: 'ok', failure: null,
    rawText: '<think>because</think><answer>{}</answer>', reasoning: 'because', answerText: '{}', warnings: [], promptVariant: 'think',
    window: { center: 40, width: 400 }, image: { width: 8, height: 8, seen: { width: 28, height: 28 } }, modelAnswer: null,
    box: [1, 2, 3, 4], points: [[2, 3], [3, 3]], crm: { id: 'crm-id', variant: 'fp32', label: 'CRM' }, segmenter: null,
    provider: { name: 'cpu', reason: 'test' }, mask: { width: 8, height: 8, area: 9, png: '' }, score: null,
    tokens: { prompt: 1, image: 1, generated: 1, perSecond: null }, timings: {}, ...patch,
  };
}

describe('a running question', () => {
  it('collects streamed text, stage timings and progress', () => {
    const run = new AskRun({ jobId: 'job-1', question: 'q', seriesKey: 's', sliceIndex: 3 });
    run.stage('load-slice', 'started');
    expect(run.activity).toBe('Reading the slice…');
    run.stage('load-slice', 'finished', 12);
    run.stage('crm', 'started');
    run.addToken('<think>The li');
    run.addToken('ver is');
    expect(streamingReasoning(run.text)).toBe('The liver is');
    expect(run.tokenEvents).toBe(2);
    expect(run.progress).toBeGreaterThan(0);
    expect(run.progress).toBeLessThan(1);
    expect(run.stages.find((s) => s.stage === 'load-slice')?.ms).toBe(12);
    run.finish(askResult());
    expect(run.phase).toBe('answered');
    expect(run.progress).toBe(1);
    expect(run.text).toBe(askResult().rawText);
  });
  it('reports a failed answer with the host’s reason', () => {
    const run = new AskRun({ jobId: 'j', question: 'q', seriesKey: 's', sliceIndex: 0 });
    run.finish(askResult({ status: 'failed', failure: { kind: 'no-answer', message: 'The model wrote no <answer> block.' }, box: null }));
    expect(run.phase).toBe('failed');
    expect(run.activity).toBe('The model wrote no <answer> block.');
  });
  it('keeps the history per series, newest first', () => {
    const history = new AskHistory();
    history.add('a', historyEntry(askResult(), new Date(0)));
    history.add('a', historyEntry(askResult({ jobId: 'job-2', question: 'second' }), new Date(1000)));
    expect(history.list('a').map((e) => e.question)).toEqual(['second', 'Where is the liver?']);
    expect(history.list('b')).toEqual([]);
    expect(history.list('a')[1]!.answer).toBe('Box (1, 2)–(3, 4), mask 9 px');
    expect(history.list('a')[1]!.model).toBe('CRM');
  });
  it('shows the host’s fixes to the answer next to the box', () => {
    const warnings = ['points_1 [5, 60] lies outside the bbox (kept)', 'bbox x corners reversed (30 > 3): swapped'];
    expect(historyEntry(askResult({ warnings }), new Date(0)).answer).toBe(`Box (1, 2)–(3, 4), mask 9 px (note: ${warnings.join('; ')})`);
  });
});
