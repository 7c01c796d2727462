// Which loaded series a SEG belongs to: the image series whose Series Instance UID the
// SEG references and which holds most of the instances its frames reference (a series
// the index split in parts has several keys); failing that, any image series holding
// those instances (a SEG that names no series, or names it wrongly).
import type { PatientSummary } from '../../common/dicom-model.ts';
import type { HostSeries } from '../dicom/import-types.ts';
import type { SegInspection } from './seg-jobs.ts';

export interface SeriesLookup {
  patients(): PatientSummary[];
  hostSeries(seriesKey: string): HostSeries | undefined;
}

export function findSourceSeriesKey(index: SeriesLookup, inspection: SegInspection): string | null {
  const wantedSeries = new Set(inspection.referencedSeries.map((s) => s.seriesInstanceUid).filter(Boolean));
  const wantedInstances = new Set(inspection.referencedInstanceUids);
  const candidates: Array<{ key: string; named: boolean; hits: number }> = [];
  for (const patient of index.patients()) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        if (series.kind !== 'image' && series.kind !== 'RTDOSE') continue;
        const named = wantedSeries.has(series.seriesInstanceUid);
        const host = index.hostSeries(series.seriesKey);
        const hits = host ? host.slices.reduce((n, s) => n + (wantedInstances.has(s.sopInstanceUid) ? 1 : 0), 0) : 0;
        if (named || hits > 0) candidates.push({ key: series.seriesKey, named, hits });
      }
    }
  }
  candidates.sort((a, b) => b.hits - a.hits || Number(b.named) - Number(a.named));
  return candidates[0]?.key ?? null;
}

/** The sentence for a SEG whose source is not loaded. */
export function sourceNotLoadedMessage(inspection: SegInspection): string {
  const named = inspection.referencedSeries.filter((s) => s.seriesInstanceUid);
  const what = named.length > 0 ? `series ${named.map((s) => s.seriesInstanceUid).join(', ')}` : `${inspection.referencedInstanceUids.length} instances that no loaded series holds`;
  return `The SEG's source series is not loaded: it references ${what} (study ${inspection.info.studyInstanceUid || 'unknown'}). Import the source series first, then import the SEG again.`;
}
