// Wording shared by the PACS views: failures, errors from the host, node addresses,
// and dates, said the same way everywhere.
import { HostCallError } from '../../../electron/common/contract.ts';
import type { PacsFailure, PacsNodeView, StoreConflict } from '../../../electron/common/contract-pacs.ts';

/** A host error with its field problems (invalid-params names which field and why). */
export function describeError(error: unknown): string {
  if (error instanceof HostCallError) {
    const issues = (error.issues ?? []).map((issue) => `${issue.path || 'value'}: ${issue.message}`);
    return issues.length > 0 ? `${error.message} (${issues.join('; ')})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The code first: it is what the user acts on (refused → is the PACS running? rejected → AE titles). */
export function describeFailure(failure: PacsFailure): string {
  const extra = [
    failure.httpStatus !== undefined && `HTTP ${failure.httpStatus}`,
    failure.dimseStatus !== undefined && `DIMSE status 0x${failure.dimseStatus.toString(16).padStart(4, '0')}`,
    failure.rejection && `${failure.rejection.result}, ${failure.rejection.source}: ${failure.rejection.reason}`,
  ].filter(Boolean);
  return `${failure.code}: ${failure.message}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
}

export function nodeAddress(node: PacsNodeView): string {
  if (node.type === 'dimse') return `${node.calledAet}@${node.host}:${node.port}${node.tls ? ' (TLS)' : ''} as ${node.callingAet}`;
  const auth = node.auth.type === 'none' ? '' : ` (${node.auth.type})`;
  return `${node.baseUrl}${auth}`;
}

/** <input type=date> gives YYYY-MM-DD; DICOM wants YYYYMMDD, and a range with open ends. */
export function dicomDateRange(from: string, to: string): string | undefined {
  const compact = (value: string) => value.replaceAll('-', '');
  if (!from && !to) return undefined;
  if (from && to && from === to) return compact(from);
  return `${compact(from)}-${compact(to)}`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`;
}

let jobCounter = 0;
/** Unique within this page; the host only needs it to route progress and cancel. */
export function newJobId(prefix: string): string {
  jobCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${jobCounter}`;
}

/** The notice for a received instance that differs from the stored one with its SOP Instance UID. */
export function conflictNotice(conflict: StoreConflict): string {
  return `An instance received from ${conflict.source || 'a PACS'} has the SOP Instance UID ${conflict.sopInstanceUid} of a stored instance but different content. The stored instance is shown unchanged; the received one was kept at ${conflict.conflictPath} for review (medreasoner pacs conflicts lists them).`;
}
