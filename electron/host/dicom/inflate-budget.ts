// Every inflate of a deflated data set goes through here, with an output limit. Deflate
// compresses zeros about 1000:1, so a 1 MB file can ask for 1 GiB: without a limit one
// such file — imported from a disk, or arriving at the storage listener, whose parse runs
// on the main thread — takes the process's memory. zlib stops at maxOutputLength, so
// the memory a bomb costs is the budget, never its claimed size.
import { inflateRawSync, inflateSync } from 'node:zlib';

const DEFAULT_BUDGET_MB = 256;

/**
 * Bytes one data set may inflate to. 256 MB by default (a deflated image series is rare;
 * deflate is for SR and other small objects); MEDREASONER_MAX_INFLATE_MB raises or lowers
 * it. Read on every call so import and slice workers follow the environment they start in.
 */
export function inflateBudgetBytes(): number {
  const configured = Number(process.env.MEDREASONER_MAX_INFLATE_MB);
  const megabytes = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_BUDGET_MB;
  return Math.floor(megabytes * 1024 * 1024);
}

export class InflateBudgetError extends Error {
  readonly budgetBytes: number;
  constructor(budgetBytes: number) {
    super(`the deflated data set inflates past ${formatMegabytes(budgetBytes)} MB (the limit for one file; MEDREASONER_MAX_INFLATE_MB changes it), refused as a possible decompression bomb`);
    this.name = 'InflateBudgetError';
    this.budgetBytes = budgetBytes;
  }
}

function formatMegabytes(bytes: number): string {
  const megabytes = bytes / (1024 * 1024);
  return Number.isInteger(megabytes) ? String(megabytes) : megabytes.toFixed(1);
}

function isTooLarge(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError;
}

/**
 * Raw deflate (what the standard says), or with `zlibWrapped` a zlib stream.
 * Throws InflateBudgetError past the budget; other zlib errors pass through.
 */
export function inflateWithinBudget(deflated: Uint8Array, zlibWrapped = false, budgetBytes = inflateBudgetBytes()): Buffer {
  try {
    return zlibWrapped ? inflateSync(deflated, { maxOutputLength: budgetBytes }) : inflateRawSync(deflated, { maxOutputLength: budgetBytes });
  } catch (error) {
    if (isTooLarge(error)) throw new InflateBudgetError(budgetBytes);
    throw error;
  }
}

/**
 * dicom-parser's `inflater` option: the bytes before `position` (preamble and meta
 * header) followed by the inflated data set. Without it dicom-parser inflates with no limit.
 */
export function budgetedInflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateWithinBudget(bytes.subarray(position));
  const whole = new Uint8Array(position + inflated.length);
  whole.set(bytes.subarray(0, position), 0);
  whole.set(inflated, position);
  return whole;
}
