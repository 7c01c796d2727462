// Text for people: query results, outbox states and failures as the CLI prints them.
import type { OutboxItemView, PacsFailure, RetrieveMethod, SeriesResult, SkippedInstances, StudyResult } from '../../common/contract-pacs.ts';
import { describeSkippedInstance } from '../../common/skipped-instance-text.ts';

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function dicomDate(date: string): string {
  return /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}` : date;
}

export function formatStudies(studies: StudyResult[]): string {
  if (studies.length === 0) return 'No matching studies.';
  return table(
    ['DATE', 'PATIENT', 'PATIENT ID', 'MODALITIES', 'SERIES', 'INSTANCES', 'ACCESSION', 'DESCRIPTION', 'STUDY UID'],
    studies.map((study) => [
      dicomDate(study.studyDate),
      study.patientName,
      study.patientId,
      study.modalities.join(','),
      study.seriesCount?.toString() ?? '',
      study.instanceCount?.toString() ?? '',
      study.accessionNumber,
      study.studyDescription,
      study.studyInstanceUid,
    ]),
  );
}

export function formatSeries(series: SeriesResult[]): string {
  if (series.length === 0) return 'No series.';
  return table(
    ['NUMBER', 'MODALITY', 'INSTANCES', 'DESCRIPTION', 'SERIES UID'],
    series.map((entry) => [entry.seriesNumber?.toString() ?? '', entry.modality, entry.instanceCount?.toString() ?? '', entry.seriesDescription, entry.seriesInstanceUid]),
  );
}

export function formatFailure(failure: PacsFailure): string {
  return `${failure.message} [${failure.code}${failure.httpStatus ? ` ${failure.httpStatus}` : ''}${failure.dimseStatus !== undefined ? ` 0x${failure.dimseStatus.toString(16).toUpperCase().padStart(4, '0')}` : ''}]`;
}

/** One line per listed instance, and how many more there were. */
export function formatSkipped(skipped: SkippedInstances, method: RetrieveMethod): string {
  const lines = skipped.instances.map((entry) => `  ${describeSkippedInstance(entry, method)}`);
  const unlisted = skipped.count - skipped.instances.length;
  if (unlisted > 0) lines.push(`  … and ${unlisted} more`);
  return [`${skipped.count} instance${skipped.count === 1 ? '' : 's'} skipped (refused here):`, ...lines].join('\n');
}

function when(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  if (seconds > 0 && seconds < 3600) return `in ${seconds} s`;
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatOutbox(items: OutboxItemView[]): string {
  if (items.length === 0) return 'The outbox is empty.';
  return table(
    ['ID', 'STATE', 'TRIES', 'NODE', 'MODALITY', 'SOP INSTANCE UID', 'NEXT TRY', 'REASON'],
    items.map((item) => [
      item.id,
      item.state,
      String(item.attempts),
      item.node,
      item.modality,
      item.sopInstanceUid,
      item.state === 'queued' ? when(item.nextAttemptAt) : '',
      item.state === 'delivered' ? `delivered ${when(item.deliveredAt)}${item.confirmedBy === 'pacs-query' ? ' (found at the PACS)' : ''}` : item.lastFailure ? formatFailure(item.lastFailure) : '',
    ]),
  );
}

/** "3 delivered, 2 queued (reason), 1 failed (reason)". */
export function summarizeOutbox(items: OutboxItemView[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
  const parts = ['delivered', 'sending', 'queued', 'failed'].filter((state) => counts.has(state)).map((state) => `${counts.get(state)} ${state}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}
