// What an accepted answer is called and coded: the structure the question (or else the
// reasoning) names, when it is in the app's term table; otherwise a short name from the
// question, and a placeholder code the user can change in the segments panel. Pure.
import type { CodeSchema } from '../../../electron/common/contract-seg.ts';
import { CATEGORY, MEDR, TERMS, type TermEntry } from '../../../electron/host/seg/codes.ts';

export type SegmentNaming = { label: string; category: CodeSchema; type: CodeSchema; anatomicRegion?: CodeSchema; termId: string | null };

const NAME_LIMIT = 64;

/** The term a text names: the longest meaning found as whole words (plurals too), the earliest on a tie. */
export function findNamedTerm(text: string): TermEntry | null {
  const lower = text.toLowerCase();
  let best: { entry: TermEntry; length: number; at: number } | null = null;
  for (const entry of TERMS) {
    const meaning = entry.type.meaning.toLowerCase();
    const pattern = new RegExp(`(^|[^a-z])${meaning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+')}(e?s)?(?![a-z])`);
    const match = pattern.exec(lower);
    if (!match) continue;
    const at = match.index + match[1]!.length;
    if (!best || meaning.length > best.length || (meaning.length === best.length && at < best.at)) best = { entry, length: meaning.length, at };
  }
  return best?.entry ?? null;
}

/** A segment name from a question: without the question's frame ("where is the …?"), capitalised, at most 64 characters. */
export function nameFromQuestion(question: string): string {
  let name = question
    .trim()
    .replace(/[?.!]+$/, '')
    .replace(/^(please\s+)?(show|find|segment|locate|mark|outline)\s+(me\s+)?(the\s+)?/i, '')
    .replace(/^(where|what|which)\s+(is|are)\s+(the\s+)?/i, '')
    .trim();
  if (!name) name = 'AI answer';
  name = name.charAt(0).toUpperCase() + name.slice(1);
  return name.length > NAME_LIMIT ? `${name.slice(0, NAME_LIMIT - 1).trimEnd()}…` : name;
}

export function nameAnswer(question: string, reasoning: string | null): SegmentNaming {
  const term = findNamedTerm(question) ?? (reasoning ? findNamedTerm(reasoning) : null);
  if (term) {
    return {
      label: term.type.meaning,
      category: { ...term.category },
      type: { ...term.type },
      ...(term.anatomicRegion ? { anatomicRegion: { ...term.anatomicRegion } } : {}),
      termId: term.id,
    };
  }
  return { label: nameFromQuestion(question), category: { ...CATEGORY.anatomicalStructure }, type: { ...MEDR.uncoded }, termId: null };
}

/** The preview colour of an answer: a coded structure keeps the colour it has elsewhere in the app. */
export const ANSWER_COLORS: Readonly<Record<string, [number, number, number]>> = {
  liver: [221, 130, 101],
  spleen: [157, 108, 162],
  kidney: [185, 102, 83],
  leftKidney: [185, 102, 83],
  rightKidney: [185, 102, 83],
  lung: [197, 165, 145],
  leftLung: [197, 165, 145],
  rightLung: [197, 165, 145],
  aorta: [224, 97, 76],
};
export const DEFAULT_ANSWER_COLOR: [number, number, number] = [90, 200, 250];

export function answerColor(termId: string | null): [number, number, number] {
  return (termId ? ANSWER_COLORS[termId] : undefined) ?? DEFAULT_ANSWER_COLOR;
}
