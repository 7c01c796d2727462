// Data for the PACS tests: small CT series written with dcmjs (an independent writer),
// pydicom's real files (a real SEG among them), and facts about files read by pydicom.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ImportResult } from '../../electron/common/dicom-model.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import type { ImportOutcome } from '../../electron/host/dicom/import-types.ts';
import { deflatedCt } from './deflate-bomb.ts';
import { ctSlice, writeDicom } from './fixtures-dicom.ts';
import { DEBIAN_PYTHON } from './orthanc-dicom-compare.ts';
import type { OrthancFixture } from './orthanc-fixture.ts';

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const LIVER_SEG = path.join(PYDICOM_TEST_FILES, 'liver_1frame.dcm');
export const MR_SMALL = path.join(PYDICOM_TEST_FILES, 'MR_small.dcm');
export const CT_SMALL = path.join(PYDICOM_TEST_FILES, 'CT_small.dcm');

export function requirePydicomFiles(): void {
  for (const file of [LIVER_SEG, MR_SMALL, CT_SMALL]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: install Debian's python3-pydicom (its test files are the PACS tests' real DICOM).`);
  }
}

/** A fresh UID under 2.25 (UUID-derived): each run's data is its own. */
export function randomUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`).toString(10)}`;
}

export interface TestSeries {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUids: string[];
  files: string[];
  patientId: string;
  patientName: string;
  accessionNumber: string;
}

/** `count` 8×8 CT slices, 2.5 mm apart, in <dir>/<series>/. */
export function writeTestSeries(dir: string, count: number, identity: { patientId: string; patientName: string; accessionNumber: string; studyDate?: string }): TestSeries {
  const studyInstanceUid = randomUid();
  const seriesInstanceUid = randomUid();
  const folder = path.join(dir, seriesInstanceUid);
  mkdirSync(folder, { recursive: true });
  const sopInstanceUids: string[] = [];
  const files: string[] = [];
  for (let index = 0; index < count; index++) {
    const sopUid = randomUid();
    const dataset = ctSlice({
      studyUid: studyInstanceUid,
      seriesUid: seriesInstanceUid,
      sopUid,
      instanceNumber: index + 1,
      position: [0, 0, index * 2.5],
      orientation: [1, 0, 0, 0, 1, 0],
      patientId: identity.patientId,
    });
    dataset.PatientName = identity.patientName;
    dataset.AccessionNumber = identity.accessionNumber;
    if (identity.studyDate) dataset.StudyDate = identity.studyDate;
    // Distinct pixels per slice: a mix-up between slices would show.
    dataset.PixelData = [Uint16Array.from({ length: 64 }, (_, i) => (index * 64 + i) % 4096).buffer];
    const file = path.join(folder, `slice-${String(index + 1).padStart(3, '0')}.dcm`);
    writeDicom(file, dataset);
    sopInstanceUids.push(sopUid);
    files.push(file);
  }
  return { studyInstanceUid, seriesInstanceUid, sopInstanceUids, files, patientId: identity.patientId, patientName: identity.patientName, accessionNumber: identity.accessionNumber };
}

/** What the tests ask pydicom about a file: read all at once, since each Python start costs a second or more here. */
const FACT_KEYWORDS = ['SOPInstanceUID', 'SOPClassUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'PatientID', 'PatientName', 'Modality', 'SegmentationType'];
const factCache = new Map<string, Record<string, string>>();

/** Attribute values as pydicom reads them (keyword → str, '' when absent), for expectations that do not come from our code. */
export function pydicomValues(file: string, keywords: string[]): Record<string, string> {
  const unknown = keywords.filter((keyword) => !FACT_KEYWORDS.includes(keyword));
  if (unknown.length > 0) throw new Error(`pydicomValues reads ${FACT_KEYWORDS.join(', ')}; add ${unknown.join(', ')} there`);
  let facts = factCache.get(file);
  if (!facts) {
    const script = String.raw`
import json, sys
import pydicom
ds = pydicom.dcmread(sys.argv[1])
print(json.dumps({k: (str(ds.get(k)) if ds.get(k) is not None else '') for k in sys.argv[2:]}))
`;
    facts = JSON.parse(execFileSync(DEBIAN_PYTHON, ['-c', script, file, ...FACT_KEYWORDS], { encoding: 'utf8' })) as Record<string, string>;
    factCache.set(file, facts);
  }
  return Object.fromEntries(keywords.map((keyword) => [keyword, facts[keyword] ?? '']));
}

/**
 * The importer as the host wires it for retrieved files (importDicom, then an ImportResult):
 * tests see both what was handed over and what the index would show ("view it").
 */
export function recordingImporter(): {
  importFiles: (paths: string[], jobId: string) => Promise<ImportResult>;
  outcomes: { paths: string[]; outcome: ImportOutcome }[];
} {
  const outcomes: { paths: string[]; outcome: ImportOutcome }[] = [];
  return {
    outcomes,
    importFiles: async (paths, jobId) => {
      const outcome = await importDicom({ paths });
      outcomes.push({ paths, outcome });
      return {
        jobId,
        cancelled: outcome.cancelled,
        filesSeen: outcome.files.length,
        instancesAdded: outcome.records.length,
        seriesKeys: outcome.series.map((series) => series.summary.seriesKey),
        problems: outcome.problems,
        elapsedMs: outcome.elapsedMs,
      };
    },
  };
}

/**
 * A study in Orthanc with `count` good CT instances and one our store refuses: 4 MiB of zeros,
 * deflated, beside them in the same series (refused under a 1 MB inflate budget). Posted through
 * Orthanc's REST API so Orthanc keeps it exactly as written.
 */
export async function storeStudyWithRefusedInstance(
  orthanc: Pick<OrthancFixture, 'storeWithDcmtk' | 'rest'>,
  dir: string,
  count: number,
  identity: { patientId: string; patientName: string; accessionNumber: string },
): Promise<{ good: TestSeries; refusedSop: string }> {
  const good = writeTestSeries(dir, count, identity);
  orthanc.storeWithDcmtk(good.files);
  const refusedSop = randomUid();
  const bomb = await deflatedCt(dir, refusedSop, 4 * 1024 * 1024, good.seriesInstanceUid, { studyUid: good.studyInstanceUid, patientId: good.patientId });
  await orthanc.rest('/instances', { method: 'POST', body: bomb });
  return { good, refusedSop };
}
