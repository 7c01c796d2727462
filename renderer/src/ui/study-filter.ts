// Pure: the study browser's search, filters and sort over the patients tree, flattened to
// one row per study (the unit the list shows, forgets and deletes). No DOM: unit-tested.
import type { PatientSummary, StudySummary } from '../../../electron/common/dicom-model.ts';

export type StudySort = 'date-desc' | 'date-asc' | 'patient' | 'description';

export interface StudyQuery {
  /** Matched, case- and accent-insensitively, against patient name and ID, accession and descriptions. */
  text: string;
  /** Inclusive, YYYYMMDD (DICOM DA) or '' for open. */
  from: string;
  to: string;
  /** '' for any modality. */
  modality: string;
  sort: StudySort;
}

export const EMPTY_QUERY: StudyQuery = { text: '', from: '', to: '', modality: '', sort: 'date-desc' };

export interface StudyRow {
  patient: PatientSummary;
  study: StudySummary;
  modalities: string[];
  /** Lower-cased, accent-free text the search matches against. */
  haystack: string;
}

export function studyRows(patients: readonly PatientSummary[]): StudyRow[] {
  const rows: StudyRow[] = [];
  for (const patient of patients) {
    for (const study of patient.studies) {
      const modalities = [...new Set(study.series.map((s) => s.modality).filter(Boolean))].sort();
      const haystack = fold(
        [patient.patientName.replace(/\^/g, ' '), patient.patientId, study.accessionNumber, study.description, ...study.series.map((s) => s.description)].join('\n'),
      );
      rows.push({ patient, study, modalities, haystack });
    }
  }
  return rows;
}

export function allModalities(rows: readonly StudyRow[]): string[] {
  return [...new Set(rows.flatMap((r) => r.modalities))].sort();
}

export function filterStudies(rows: readonly StudyRow[], query: StudyQuery): StudyRow[] {
  const words = fold(query.text).split(/\s+/).filter(Boolean);
  const matched = rows.filter((row) => {
    if (query.modality && !row.modalities.includes(query.modality)) return false;
    const date = row.study.studyDate;
    if (query.from && (!date || date < query.from)) return false;
    if (query.to && (!date || date > query.to)) return false;
    return words.every((word) => row.haystack.includes(word));
  });
  return matched.sort(comparator(query.sort));
}

/** "2024-01-02" (an <input type=date>) → "20240102"; anything else → ''. */
export function dicomDateOf(inputValue: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(inputValue) ? inputValue.replace(/-/g, '') : '';
}

function comparator(sort: StudySort): (a: StudyRow, b: StudyRow) => number {
  const when = (r: StudyRow) => r.study.studyDate + r.study.studyTime;
  const tie = (a: StudyRow, b: StudyRow) => compare(a.study.studyInstanceUid, b.study.studyInstanceUid);
  switch (sort) {
    case 'date-asc':
      return (a, b) => compare(when(a), when(b)) || tie(a, b);
    case 'patient':
      return (a, b) => compare(fold(a.patient.patientName), fold(b.patient.patientName)) || compare(when(b), when(a)) || tie(a, b);
    case 'description':
      return (a, b) => compare(fold(a.study.description), fold(b.study.description)) || compare(when(b), when(a)) || tie(a, b);
    default:
      return (a, b) => compare(when(b), when(a)) || tie(a, b);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}
