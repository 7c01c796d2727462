// Finds, among the SRs the index holds in a study, the reasoning report that lists a
// given SEG instance as evidence: an import restores its provenance from it, and a new
// version's report names it as predecessor.
import { readFile } from 'node:fs/promises';
import type { DicomIndex } from '../dicom/dicom-index.ts';
import { parseReasoningSr, type ParsedReport } from './sr-reader.ts';

export interface FoundReport {
  path: string;
  report: ParsedReport;
}

export async function findReportFor(index: Pick<DicomIndex, 'patients' | 'hostSeries'>, studyInstanceUid: string, segSopInstanceUid: string): Promise<FoundReport | null> {
  let found: FoundReport | null = null;
  for (const patient of index.patients()) {
    for (const study of patient.studies) {
      if (study.studyInstanceUid !== studyInstanceUid) continue;
      for (const series of study.series) {
        if (series.modality !== 'SR') continue;
        for (const instance of index.hostSeries(series.seriesKey)?.instances ?? []) {
          let report: ParsedReport | null;
          try {
            const bytes = await readFile(instance.path);
            report = parseReasoningSr(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          } catch {
            continue; // not an SR this reader can read: not ours
          }
          // The newest report wins when several reference the same SEG (a re-export with the SR only).
          if (report && report.segInstanceUids.includes(segSopInstanceUid)) found = { path: instance.path, report };
        }
      }
    }
  }
  return found;
}
