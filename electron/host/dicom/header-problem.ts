// A per-file problem found while reading a header: thrown inside the reader, turned
// into a FileProblem at its boundary so no file is ever dropped without a reason.
import type { ProblemReason } from '../../common/dicom-model.ts';

export class HeaderProblem extends Error {
  readonly reason: ProblemReason;
  constructor(reason: ProblemReason, detail: string) {
    super(detail);
    this.name = 'HeaderProblem';
    this.reason = reason;
  }
}

/**
 * The bytes read so far end before the header does: read more and parse again.
 * `wholeFile` asks for everything (deflate cannot be inflated from a prefix).
 */
export class NeedMoreBytes extends Error {
  readonly wholeFile: boolean;
  constructor(wholeFile = false) {
    super('the header continues past the bytes read so far');
    this.name = 'NeedMoreBytes';
    this.wholeFile = wholeFile;
  }
}

export function tagName(tag: string): string {
  // dicom-parser tags look like 'x00280010'.
  const hex = tag.startsWith('x') ? tag.slice(1) : tag;
  return `(${hex.slice(0, 4).toUpperCase()},${hex.slice(4, 8).toUpperCase()})`;
}

export function hexPreview(bytes: Uint8Array, start: number, count: number): string {
  const end = Math.min(bytes.length, start + count);
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push((bytes[i] ?? 0).toString(16).padStart(2, '0').toUpperCase());
  return parts.join(' ');
}
