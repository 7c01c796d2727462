// The host's index of everything imported this session. Each merge re-groups all
// records, so slices of one series imported in two batches end up in one series.
// A record for a path already indexed replaces it (the file may have changed); a
// different file with a SOP Instance UID already indexed is a duplicate-instance.
import type { FileProblem, PatientSummary, SeriesDetail } from '../../common/dicom-model.ts';
import type { HostSeries, ImportOutcome } from './import-types.ts';
import { isStackable, type InstanceRecord } from './instance-record.ts';
import { buildIndex, type BuiltIndex } from './series-builder.ts';

/** What the services read from an index, in memory (DicomIndex) or the study database (db/db-index.ts). */
export type StudyIndex = Pick<DicomIndex, 'patients' | 'seriesDetail' | 'hostSeries' | 'pathForFileKey'>;

export interface MergeResult {
  /** Series (keys after re-grouping) that hold files of this import. */
  seriesKeys: string[];
  /** Stacked instances of this import that were not in the index before. */
  instancesAdded: number;
  /** The import's own problems plus duplicates of files indexed by earlier imports. */
  problems: FileProblem[];
}

export class DicomIndex {
  private readonly records = new Map<string, InstanceRecord>();
  private built: BuiltIndex = buildIndex([]);
  private readonly seriesByKey = new Map<string, HostSeries>();
  private readonly pathByFileKey = new Map<string, string>();

  merge(outcome: Pick<ImportOutcome, 'records' | 'problems'>): MergeResult {
    const newPaths = new Set<string>();
    for (const record of outcome.records) {
      if (!this.records.has(record.path)) newPaths.add(record.path);
      this.records.set(record.path, record);
    }
    this.built = buildIndex([...this.records.values()]);
    const problems = [...outcome.problems];
    const ownPaths = new Set(outcome.records.map((r) => r.path));
    for (const duplicate of this.built.duplicates) {
      // Only the first file of a SOP Instance UID stays; later ones leave the index.
      this.records.delete(duplicate.path);
      newPaths.delete(duplicate.path);
      if (ownPaths.has(duplicate.path)) problems.push(duplicate);
    }
    this.seriesByKey.clear();
    for (const series of this.built.series) this.seriesByKey.set(series.summary.seriesKey, series);
    this.pathByFileKey.clear();
    for (const record of this.records.values()) this.pathByFileKey.set(record.fileKey, record.path);

    const seriesKeys = this.built.series
      .filter((s) => s.instances.some((i) => ownPaths.has(i.path)))
      .map((s) => s.summary.seriesKey);
    let instancesAdded = 0;
    for (const path of newPaths) {
      const record = this.records.get(path);
      if (record && isStackable(record)) instancesAdded++;
    }
    return { seriesKeys, instancesAdded, problems };
  }

  patients(): PatientSummary[] {
    return this.built.patients;
  }

  seriesDetail(seriesKey: string): SeriesDetail | undefined {
    const series = this.seriesByKey.get(seriesKey);
    if (!series) return undefined;
    return {
      series: series.summary,
      patient: series.patient,
      slices: series.slices.map(({ fileKey, sopInstanceUid, instanceNumber, frame, position }) => ({ fileKey, sopInstanceUid, instanceNumber, frame, position })),
      instances: series.instances.map(({ fileKey, sopInstanceUid, instanceNumber, kind }) => ({ fileKey, sopInstanceUid, instanceNumber, kind })),
    };
  }

  /** The host-side series (with paths), for serving and reports. */
  hostSeries(seriesKey: string): HostSeries | undefined {
    return this.seriesByKey.get(seriesKey);
  }

  /** The only way a file becomes readable to the renderer: it must be in the index. */
  pathForFileKey(fileKey: string): string | undefined {
    return this.pathByFileKey.get(fileKey);
  }
}
