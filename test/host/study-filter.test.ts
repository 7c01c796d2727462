// The study browser's search, filters and sort (renderer/src/ui/study-filter.ts).
import { describe, expect, test } from 'vitest';
import type { PatientSummary, SeriesSummary } from '../../electron/common/dicom-model.ts';
import { allModalities, dicomDateOf, filterStudies, studyRows, EMPTY_QUERY } from '../../renderer/src/ui/study-filter.ts';

function series(modality: string, description = ''): SeriesSummary {
  return { seriesKey: `${modality}-${description}`, seriesInstanceUid: 'x', studyInstanceUid: 'y', seriesNumber: 1, modality, description, kind: 'image', sopClassUid: '', instanceCount: 1, sliceCount: 1, geometry: null, splitFrom: null };
}

const patients: PatientSummary[] = [
  {
    patientKey: 'P1', patientId: 'MRN-001', patientName: 'Müller^Anna', birthDate: '', sex: 'F',
    studies: [
      { studyInstanceUid: '1.1', studyDate: '20240105', studyTime: '0900', description: 'CT Thorax', accessionNumber: 'ACC77', series: [series('CT', 'lung window')] },
      { studyInstanceUid: '1.2', studyDate: '20230310', studyTime: '', description: 'MR Knee', accessionNumber: '', series: [series('MR'), series('SEG')] },
    ],
  },
  {
    patientKey: 'P2', patientId: 'MRN-002', patientName: 'Brown^Bob', birthDate: '', sex: 'M',
    studies: [{ studyInstanceUid: '2.1', studyDate: '', studyTime: '', description: 'Abdomen', accessionNumber: 'ACC12', series: [series('CT')] }],
  },
];
const rows = studyRows(patients);
const uids = (query: Partial<typeof EMPTY_QUERY>) => filterStudies(rows, { ...EMPTY_QUERY, ...query }).map((r) => r.study.studyInstanceUid);

describe('study filter', () => {
  test('newest first by default, studies without a date last', () => {
    expect(uids({})).toEqual(['1.1', '1.2', '2.1']);
    expect(uids({ sort: 'date-asc' })).toEqual(['2.1', '1.2', '1.1']);
    expect(uids({ sort: 'patient' })).toEqual(['2.1', '1.1', '1.2']);
    expect(uids({ sort: 'description' })).toEqual(['2.1', '1.1', '1.2']);
  });

  test('search matches name (accents folded, ^ as space), ID, accession, study and series descriptions; all words must match', () => {
    expect(uids({ text: 'muller' })).toEqual(['1.1', '1.2']);
    expect(uids({ text: 'anna knee' })).toEqual(['1.2']);
    expect(uids({ text: 'mrn-002' })).toEqual(['2.1']);
    expect(uids({ text: 'acc77' })).toEqual(['1.1']);
    expect(uids({ text: 'LUNG' })).toEqual(['1.1']);
    expect(uids({ text: 'nobody' })).toEqual([]);
  });

  test('date range is inclusive and drops undated studies; modality matches any series', () => {
    expect(uids({ from: '20240105' })).toEqual(['1.1']);
    expect(uids({ from: '20230101', to: '20231231' })).toEqual(['1.2']);
    expect(uids({ modality: 'CT' })).toEqual(['1.1', '2.1']);
    expect(uids({ modality: 'SEG' })).toEqual(['1.2']);
    expect(allModalities(rows)).toEqual(['CT', 'MR', 'SEG']);
    expect(dicomDateOf('2024-01-05')).toBe('20240105');
    expect(dicomDateOf('')).toBe('');
  });
});
