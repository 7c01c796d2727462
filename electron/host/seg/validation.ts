// Domain objects collect every problem with their input before refusing it, so one
// error says all that is wrong ("segment 2 "Liver": label is empty; colour …").

export class SegValidationError extends Error {
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[]) {
    super(`Invalid ${subject}: ${problems.join('; ')}`);
    this.name = 'SegValidationError';
    this.problems = problems;
  }
}

export class Problems {
  readonly #subject: string;
  readonly #list: string[] = [];
  constructor(subject: string) {
    this.#subject = subject;
  }
  add(problem: string): void {
    this.#list.push(problem);
  }
  /** Adds `problem` when `ok` is false; returns ok, so callers can skip dependent checks. */
  check(ok: boolean, problem: string | (() => string)): boolean {
    if (!ok) this.add(typeof problem === 'string' ? problem : problem());
    return ok;
  }
  get count(): number {
    return this.#list.length;
  }
  throwIfAny(): void {
    if (this.#list.length > 0) throw new SegValidationError(this.#subject, this.#list);
  }
}

/** DICOM UI: digits and dots, components without leading zeros, at most 64 characters. */
export function isStrictUid(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/.test(value);
}

/** Real files carry UIDs with leading zeros in components: read them, never write new ones like that. */
export function isLenientUid(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}

/** A LO value: at most 64 characters, no backslash (the value separator) and no control characters. */
export function longStringProblem(value: unknown, { required }: { required: boolean }): string | null {
  if (value === undefined || value === null || value === '') return required ? 'is empty' : null;
  if (typeof value !== 'string') return 'is not text';
  if (value.length > 64) return `is ${value.length} characters long (at most 64)`;
  if (/[\\\u0000-\u001f]/.test(value)) return 'contains a backslash or a control character';
  if (required && value.trim() === '') return 'is blank';
  return null;
}

export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
