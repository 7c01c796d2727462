// The `medreasoner index` report: a text tree for people, JSON for scripts. Both list
// every input file; nothing imported is left out of either.
import type { FileProblem, ObjectKind, ProblemReason, SeriesSummary, Vec3 } from '../../common/dicom-model.ts';
import type { FileOutcome, HostSeries, ImportOutcome } from './import-types.ts';

export interface IndexTotals {
  files: number;
  instances: number;
  nonImage: number;
  problems: number;
  series: number;
  patients: number;
  problemsByReason: Partial<Record<ProblemReason, number>>;
}

export interface IndexJson {
  cancelled: boolean;
  elapsedMs: number;
  totals: IndexTotals;
  /** Every input file once, by absolute path, with what became of it. */
  files: FileOutcome[];
  patients: Array<{
    patientKey: string;
    patientId: string;
    patientName: string;
    birthDate: string;
    sex: string;
    studies: Array<{
      studyInstanceUid: string;
      studyDate: string;
      studyTime: string;
      description: string;
      accessionNumber: string;
      series: Array<SeriesSummary & { instances: IndexJsonInstance[] }>;
    }>;
  }>;
  problems: FileProblem[];
}

/** A slice (images) or an instance (other kinds), in slice order. */
export interface IndexJsonInstance {
  path: string;
  sopInstanceUid: string;
  instanceNumber: number | null;
  frame: number | null;
  position: Vec3 | null;
}

export function indexTotals(outcome: ImportOutcome): IndexTotals {
  const problemsByReason: Partial<Record<ProblemReason, number>> = {};
  let instances = 0;
  let nonImage = 0;
  for (const file of outcome.files) {
    if (file.outcome === 'instance') instances++;
    else if (file.outcome === 'non-image') nonImage++;
    else problemsByReason[file.reason] = (problemsByReason[file.reason] ?? 0) + 1;
  }
  return {
    files: outcome.files.length,
    instances,
    nonImage,
    problems: outcome.files.length - instances - nonImage,
    series: outcome.series.length,
    patients: outcome.patients.length,
    problemsByReason,
  };
}

export function toIndexJson(outcome: ImportOutcome): IndexJson {
  const byKey = new Map(outcome.series.map((s) => [s.summary.seriesKey, s]));
  return {
    cancelled: outcome.cancelled,
    elapsedMs: Math.round(outcome.elapsedMs),
    totals: indexTotals(outcome),
    files: outcome.files,
    patients: outcome.patients.map((patient) => ({
      ...patient,
      studies: patient.studies.map((study) => ({
        ...study,
        series: study.series.map((summary) => ({ ...summary, instances: jsonInstances(byKey.get(summary.seriesKey)) })),
      })),
    })),
    problems: outcome.problems,
  };
}

function jsonInstances(series: HostSeries | undefined): IndexJsonInstance[] {
  if (!series) return [];
  if (series.slices.length > 0) {
    return series.slices.map((s) => ({ path: s.path, sopInstanceUid: s.sopInstanceUid, instanceNumber: s.instanceNumber, frame: s.frame, position: s.position }));
  }
  return series.instances.map((i) => ({ path: i.path, sopInstanceUid: i.sopInstanceUid, instanceNumber: i.instanceNumber, frame: null, position: null }));
}

export function formatIndexText(outcome: ImportOutcome): string {
  const lines: string[] = [];
  for (const patient of outcome.patients) {
    const born = patient.birthDate ? `, born ${formatDate(patient.birthDate)}` : '';
    const sex = patient.sex ? `, sex ${patient.sex}` : '';
    lines.push(`Patient ${patient.patientName || '(no name)'} (ID ${patient.patientId || 'none'}${born}${sex})`);
    for (const study of patient.studies) {
      const when = [formatDate(study.studyDate), formatTime(study.studyTime)].filter(Boolean).join(' ');
      const accession = study.accessionNumber ? `, accession ${study.accessionNumber}` : '';
      lines.push(`  Study ${quote(study.description)}${when ? ` ${when}` : ''}${accession} [${study.studyInstanceUid}]`);
      for (const series of study.series) lines.push(...formatSeries(series));
    }
  }
  const dicomdirs = outcome.files.filter((f) => f.outcome === 'non-image' && f.kind === 'DICOMDIR');
  if (dicomdirs.length > 0) {
    lines.push('', `DICOMDIR files (${dicomdirs.length}):`);
    for (const file of dicomdirs) {
      const record = outcome.records.find((r) => r.path === file.path);
      const references = record?.referencedFiles?.length ?? 0;
      lines.push(`  ${file.path}: ${references} referenced file(s)`);
      for (const note of record?.referenceNotes ?? []) lines.push(`    note: ${note}`);
    }
  }
  if (outcome.problems.length > 0) {
    lines.push('', `Problems (${outcome.problems.length}):`);
    for (const problem of outcome.problems) lines.push(`  ${problem.path}`, `    ${problem.reason}: ${problem.detail}`);
  }
  const totals = indexTotals(outcome);
  const reasons = Object.entries(totals.problemsByReason)
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
  lines.push(
    '',
    `Totals: ${totals.files} file(s): ${totals.instances} image instance(s) and ${totals.nonImage} other object(s) in ${totals.series} series of ${totals.patients} patient(s); ${totals.problems} problem(s)${reasons ? ` (${reasons})` : ''}.`,
  );
  if (outcome.cancelled) lines.push('The import was cancelled: only the files read before the cancel are listed.');
  return `${lines.join('\n')}\n`;
}

function formatSeries(series: SeriesSummary): string[] {
  const number = series.seriesNumber === null ? '' : ` #${series.seriesNumber}`;
  const kind: ObjectKind = series.kind;
  const counts =
    series.sliceCount > 0
      ? `${series.instanceCount} instance(s), ${series.sliceCount} slice(s)`
      : `${series.instanceCount} instance(s)`;
  const geometry = series.geometry;
  const size = geometry ? `, ${geometry.rows}×${geometry.columns} (rows×columns)` : '';
  const spacing = geometry?.sliceSpacing ? `, spacing ${geometry.sliceSpacing.toFixed(2)} mm` : '';
  const split = series.splitFrom ? ` (part of split series ${series.splitFrom})` : '';
  const lines = [`    Series${number} ${series.modality || '??'} ${quote(series.description)} [${kind}] ${counts}${size}${spacing}${split} key=${series.seriesKey}`];
  for (const warning of geometry?.warnings ?? []) lines.push(`      warning ${warning.code}: ${warning.message}`);
  return lines;
}

function quote(text: string): string {
  return text ? `"${text}"` : '(no description)';
}

function formatDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : da;
}

function formatTime(tm: string): string {
  return /^\d{4}/.test(tm) ? `${tm.slice(0, 2)}:${tm.slice(2, 4)}` : tm;
}
