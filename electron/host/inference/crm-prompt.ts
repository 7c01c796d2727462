// The CRM's prompt belongs to the model package: prompt.json in the model folder holds the
// exact template text MedReasoner was trained on (written by the export script from
// eval/infer.py's prepare_message), and the app fills its two slots exactly as the seed
// does — Python's str.format(Question=…, Answer=…) — and never rewrites it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const PROMPT_FILE = 'prompt.json';

export const PromptFile = z.object({
  format: z.literal('medreasoner-prompt'),
  version: z.literal(1),
  /** Where the text came from (file and commit of the MedReasoner source). */
  source: z.string(),
  /** How the slots are filled; only Python str.format semantics exist. */
  fill: z.literal('python-format'),
  /** What the seed puts in the {Answer} slot. */
  answerExample: z.string(),
  /** The variant used when the caller names none. */
  default: z.string(),
  /** Variant name (think, no_think) → template text. */
  variants: z.record(z.string(), z.string()).refine((v) => Object.keys(v).length > 0, 'at least one variant'),
});
export type PromptFile = z.infer<typeof PromptFile>;

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

export async function readPromptFile(modelDir: string): Promise<PromptFile> {
  return readPromptAt(path.join(modelDir, PROMPT_FILE));
}

/** A prompt file by its own path (a server CRM may be given one outside any model folder). */
export async function readPromptAt(file: string): Promise<PromptFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new PromptError(`${file} is missing or not JSON (${(error as Error).message}); the export script writes it next to the model`);
  }
  const parsed = PromptFile.safeParse(json);
  if (!parsed.success) throw new PromptError(`${file} is not a valid prompt file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (!(parsed.data.default in parsed.data.variants)) throw new PromptError(`${file}: default variant "${parsed.data.default}" is not one of ${Object.keys(parsed.data.variants).join(', ')}`);
  return parsed.data;
}

/**
 * Python's str.format with keyword arguments only: {{ and }} are literal braces, {Name}
 * is replaced, anything else in braces (positional fields, conversions, format specs) or a
 * stray single brace is an error, as it is in Python.
 */
export function pythonFormat(template: string, values: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i++;
        continue;
      }
      const end = template.indexOf('}', i);
      if (end < 0) throw new PromptError(`template: single '{' at offset ${i} has no closing '}'`);
      const name = template.slice(i + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PromptError(`template: field "{${name}}" at offset ${i} is not a plain keyword field`);
      if (!Object.prototype.hasOwnProperty.call(values, name)) throw new PromptError(`template: no value for field {${name}}`);
      out += values[name];
      i = end;
    } else if (ch === '}') {
      if (template[i + 1] !== '}') throw new PromptError(`template: single '}' at offset ${i}`);
      out += '}';
      i++;
    } else out += ch;
  }
  return out;
}

export interface BuiltPrompt {
  variant: string;
  text: string;
  /** True for variants that ask for a <think> block (every variant but no_think). */
  think: boolean;
}

export function buildPrompt(prompt: PromptFile, question: string, variant?: string): BuiltPrompt {
  const name = variant ?? prompt.default;
  const template = prompt.variants[name];
  if (template === undefined) throw new PromptError(`prompt variant "${name}" does not exist (have: ${Object.keys(prompt.variants).join(', ')})`);
  return { variant: name, text: pythonFormat(template, { Question: question, Answer: prompt.answerExample }), think: name !== 'no_think' };
}
