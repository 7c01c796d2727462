// The state of one question while it runs (streamed text, stages and their timings,
// the outcome), and the questions asked per series. Pure: the panel feeds it the host's
// events and renders what it says.
import type { AskResult } from '../../../electron/common/contract-inference.ts';

export type AskPhase = 'idle' | 'running' | 'answered' | 'failed' | 'cancelled';
export type StageName = 'queued' | 'load-slice' | 'load-crm' | 'crm' | 'parse' | 'load-asm' | 'asm' | 'done';
export type StageState = 'started' | 'finished' | 'failed';

/** The stages an ask goes through, in order, with the words the progress line uses. */
export const ASK_STAGES: ReadonlyArray<{ stage: StageName; label: string }> = [
  { stage: 'load-slice', label: 'Reading the slice' },
  { stage: 'load-crm', label: 'Loading the reasoning model' },
  { stage: 'crm', label: 'Reasoning' },
  { stage: 'parse', label: 'Reading the answer' },
  { stage: 'load-asm', label: 'Loading the segmenter' },
  { stage: 'asm', label: 'Segmenting' },
];

export type StageRecord = { stage: StageName; state: StageState; ms: number | null; detail: string | null };

export class AskRun {
  readonly jobId: string;
  readonly question: string;
  readonly seriesKey: string;
  readonly sliceIndex: number;
  phase: AskPhase = 'running';
  text = '';
  tokenEvents = 0;
  result: AskResult | null = null;
  error: string | null = null;
  private readonly stageList: StageRecord[] = [];

  constructor(init: { jobId: string; question: string; seriesKey: string; sliceIndex: number }) {
    this.jobId = init.jobId;
    this.question = init.question;
    this.seriesKey = init.seriesKey;
    this.sliceIndex = init.sliceIndex;
  }

  get stages(): readonly StageRecord[] {
    return this.stageList;
  }

  addToken(text: string): void {
    this.text += text;
    this.tokenEvents++;
  }

  stage(stage: StageName, state: StageState, ms?: number, detail?: string): void {
    const record: StageRecord = { stage, state, ms: ms ?? null, detail: detail ?? null };
    const at = this.stageList.findIndex((s) => s.stage === stage);
    if (at >= 0) this.stageList[at] = record;
    else this.stageList.push(record);
  }

  /** 0…1: finished stages of the known list (the model's load stages are skipped when it is warm, and count as done then). */
  get progress(): number {
    return this.phase === 'answered' ? 1 : this.progressSoFar();
  }

  /** What is happening now, in words. */
  get activity(): string {
    if (this.phase === 'answered') return 'Answered';
    if (this.phase === 'cancelled') return 'Cancelled';
    if (this.phase === 'failed') return this.error ?? 'Failed';
    const running = [...this.stageList].reverse().find((s) => s.state === 'started');
    const label = ASK_STAGES.find((s) => s.stage === running?.stage)?.label;
    return label ? `${label}…` : 'Starting…';
  }

  finish(result: AskResult): void {
    this.result = result;
    // The full reply is authoritative: a token event may have been missed.
    this.text = result.rawText;
    if (result.status === 'ok') this.phase = 'answered';
    else if (result.status === 'cancelled') this.phase = 'cancelled';
    else {
      this.phase = 'failed';
      this.error = result.failure?.message ?? 'The model gave no usable answer.';
    }
  }

  fail(message: string): void {
    this.phase = 'failed';
    this.error = message;
  }

  private progressSoFar(): number {
    const order = ASK_STAGES.map((s) => s.stage);
    let reached = -1;
    for (const record of this.stageList) {
      const at = order.indexOf(record.stage);
      if (at < 0) continue;
      const done = record.state === 'finished' ? at + 1 : at + 0.5;
      reached = Math.max(reached, done);
    }
    return Math.max(0, Math.min(1, reached / order.length));
  }
}

/** The reasoning as it streams: the text inside <think>, before </think> arrives too. */
export function streamingReasoning(text: string): string {
  const open = text.indexOf('<think>');
  if (open < 0) return text.replace(/<answer>[\s\S]*$/, '');
  const rest = text.slice(open + '<think>'.length);
  const close = rest.indexOf('</think>');
  return (close < 0 ? rest : rest.slice(0, close)).trim();
}

export type HistoryEntry = {
  id: string;
  question: string;
  /** The answer in a line: the box, or why there was none. */
  answer: string;
  reasoning: string | null;
  time: string;
  model: string;
  sliceIndex: number;
  status: AskResult['status'];
};

/** Questions asked per series, newest first. */
export class AskHistory {
  private readonly bySeries = new Map<string, HistoryEntry[]>();

  add(seriesKey: string, entry: HistoryEntry): void {
    this.bySeries.set(seriesKey, [entry, ...(this.bySeries.get(seriesKey) ?? [])]);
  }

  list(seriesKey: string | null): readonly HistoryEntry[] {
    return seriesKey ? (this.bySeries.get(seriesKey) ?? []) : [];
  }
}

export function historyEntry(result: AskResult, time: Date): HistoryEntry {
  return {
    id: result.jobId,
    question: result.question,
    answer: answerSummary(result),
    reasoning: result.reasoning,
    time: time.toISOString(),
    model: result.crm.label || result.crm.id,
    sliceIndex: result.sliceIndex,
    status: result.status,
  };
}

export function answerSummary(result: AskResult): string {
  if (result.status === 'cancelled') return 'Cancelled';
  if (result.status !== 'ok' || !result.box) return result.failure?.message ?? 'No answer';
  const [x0, y0, x1, y1] = result.box;
  const area = result.mask ? `, mask ${result.mask.area} px` : '';
  // The host used an answer it had to fix (box clipped or reversed, a key point outside the
  // box): the reader sees what was changed next to the box it produced.
  const notes = result.warnings.length > 0 ? ` (note: ${result.warnings.join('; ')})` : '';
  return `Box (${x0}, ${y0})–(${x1}, ${y1})${area}${notes}`;
}

/** Questions a reader asks of a CT slice, offered as one-click starts. */
export const SUGGESTED_QUESTIONS: readonly string[] = [
  'Where is the liver?',
  'Which organ looks abnormal on this slice?',
  'Is there a lesion in the lungs?',
  'Where is the spleen?',
  'Show the aorta.',
];
