// One query, two protocols: C-FIND identifiers and QIDO-RS parameters from the same
// FindQuery, and the answers (dcmjs-dimse's naturalized data sets, DICOM JSON) read
// into the same StudyResult and SeriesResult.
import type { FindQuery, SeriesResult, StudyResult } from '../../common/contract-pacs.ts';

/** The attributes we ask for and read back, by keyword, with their tags for DICOM JSON. */
export const QUERY_TAGS = {
  SpecificCharacterSet: '00080005',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;
export type QueryKeyword = keyof typeof QUERY_TAGS;

/** Return keys at study level (empty values ask the PACS to fill them in). */
const STUDY_RETURN_KEYS: QueryKeyword[] = [
  'StudyInstanceUID',
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'StudyDescription',
  'AccessionNumber',
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
];

const SERIES_RETURN_KEYS: QueryKeyword[] = [
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'Modality',
  'SeriesNumber',
  'SeriesDescription',
  'NumberOfSeriesRelatedInstances',
];

/** Matching keys from the query, by keyword. */
function studyMatchingKeys(query: FindQuery): Partial<Record<QueryKeyword, string>> {
  const keys: Partial<Record<QueryKeyword, string>> = {};
  if (query.patientName) keys.PatientName = query.patientName;
  if (query.patientId) keys.PatientID = query.patientId;
  if (query.studyDate) keys.StudyDate = query.studyDate;
  if (query.modality) keys.ModalitiesInStudy = query.modality;
  if (query.accessionNumber) keys.AccessionNumber = query.accessionNumber;
  if (query.studyInstanceUid) keys.StudyInstanceUID = query.studyInstanceUid;
  return keys;
}

/** C-FIND identifier at STUDY level: every return key present (empty) and the matching keys filled. */
export function studyFindIdentifier(query: FindQuery): Record<string, string> {
  const identifier: Record<string, string> = {};
  for (const key of STUDY_RETURN_KEYS) identifier[key] = '';
  return { ...identifier, ...studyMatchingKeys(query) };
}

export function seriesFindIdentifier(studyInstanceUid: string): Record<string, string> {
  const identifier: Record<string, string> = {};
  for (const key of SERIES_RETURN_KEYS) identifier[key] = '';
  identifier.StudyInstanceUID = studyInstanceUid;
  return identifier;
}

/** QIDO-RS /studies parameters. */
export function studyQidoParams(query: FindQuery, limit: number): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(studyMatchingKeys(query))) params.set(key, value);
  for (const key of STUDY_RETURN_KEYS) params.append('includefield', QUERY_TAGS[key]);
  params.set('limit', String(limit));
  return params;
}

export function seriesQidoParams(): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of SERIES_RETURN_KEYS) params.append('includefield', QUERY_TAGS[key]);
  return params;
}

/** A returned identifier, whichever protocol carried it. */
export interface QueryRecord {
  text(keyword: QueryKeyword): string;
  list(keyword: QueryKeyword): string[];
  number(keyword: QueryKeyword): number | null;
}

function personName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Alphabetic' in value) return String((value as { Alphabetic?: unknown }).Alphabetic ?? '');
  return '';
}

function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return personName(value);
  return String(value);
}

function toNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** dcmjs-dimse hands C-FIND answers as dcmjs naturalized data sets: keyword → value or values. */
export function recordFromNaturalized(elements: Record<string, unknown>): QueryRecord {
  const values = (keyword: QueryKeyword): unknown[] => {
    const value = elements[keyword];
    if (value === undefined || value === null || value === '') return [];
    return Array.isArray(value) ? value : [value];
  };
  return {
    text: (keyword) => values(keyword).map(valueText).join('\\').trim(),
    list: (keyword) => values(keyword).flatMap((v) => valueText(v).split('\\')).map((v) => v.trim()).filter((v) => v !== ''),
    number: (keyword) => toNumber(valueText(values(keyword)[0])),
  };
}

/** QIDO-RS answers: DICOM JSON (PS3.18 F.2), tag → { vr, Value }. */
export function recordFromDicomJson(object: Record<string, { vr?: string; Value?: unknown[] }>): QueryRecord {
  const values = (keyword: QueryKeyword): unknown[] => {
    const attribute = object[QUERY_TAGS[keyword]] ?? object[QUERY_TAGS[keyword].toLowerCase()];
    return Array.isArray(attribute?.Value) ? attribute.Value : [];
  };
  return {
    text: (keyword) => values(keyword).map(valueText).join('\\').trim(),
    list: (keyword) => values(keyword).map(valueText).map((v) => v.trim()).filter((v) => v !== ''),
    number: (keyword) => toNumber(valueText(values(keyword)[0])),
  };
}

export function toStudyResult(record: QueryRecord): StudyResult {
  const seriesCount = record.number('NumberOfStudyRelatedSeries');
  const instanceCount = record.number('NumberOfStudyRelatedInstances');
  return {
    studyInstanceUid: record.text('StudyInstanceUID'),
    patientName: record.text('PatientName'),
    patientId: record.text('PatientID'),
    patientBirthDate: record.text('PatientBirthDate'),
    patientSex: record.text('PatientSex'),
    studyDate: record.text('StudyDate'),
    studyTime: record.text('StudyTime'),
    studyDescription: record.text('StudyDescription'),
    accessionNumber: record.text('AccessionNumber'),
    modalities: record.list('ModalitiesInStudy'),
    seriesCount: seriesCount === null ? null : Math.round(seriesCount),
    instanceCount: instanceCount === null ? null : Math.round(instanceCount),
  };
}

export function toSeriesResult(record: QueryRecord): SeriesResult {
  const instanceCount = record.number('NumberOfSeriesRelatedInstances');
  return {
    studyInstanceUid: record.text('StudyInstanceUID'),
    seriesInstanceUid: record.text('SeriesInstanceUID'),
    modality: record.text('Modality'),
    seriesNumber: record.number('SeriesNumber'),
    seriesDescription: record.text('SeriesDescription'),
    instanceCount: instanceCount === null ? null : Math.round(instanceCount),
  };
}

/** Newest first, then by patient: the order a study browser shows. */
export function sortStudies(studies: StudyResult[]): StudyResult[] {
  return [...studies].sort(
    (a, b) => `${b.studyDate}${b.studyTime}`.localeCompare(`${a.studyDate}${a.studyTime}`) || a.patientName.localeCompare(b.patientName),
  );
}

export function sortSeries(series: SeriesResult[]): SeriesResult[] {
  return [...series].sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) || a.seriesInstanceUid.localeCompare(b.seriesInstanceUid));
}

/** Accepts the DICOM forms and ISO dates (2024-01-31, 2024-01-01..2024-01-31 with '-' or '..' between). */
export function normalizeDateRange(input: string): string | null {
  const text = input.trim();
  const date = String.raw`(\d{4})-?(\d{2})-?(\d{2})`;
  const single = new RegExp(`^${date}$`);
  const match = single.exec(text);
  if (match) return `${match[1]}${match[2]}${match[3]}`;
  const range = new RegExp(`^(?:${date})?\\s*(?:-|\\.\\.)\\s*(?:${date})?$`).exec(text);
  if (!range) return null;
  const from = range[1] ? `${range[1]}${range[2]}${range[3]}` : '';
  const to = range[4] ? `${range[4]}${range[5]}${range[6]}` : '';
  if (!from && !to) return null;
  return `${from}-${to}`;
}
