// The host's view of the study database, on the main thread: only reads, each a few
// indexed rows or one series, so start-up lists studies without touching a DICOM file.
// Another connection's commit (the import worker, the CLI) bumps PRAGMA data_version,
// which drops the caches; this connection itself writes only small forget batches.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { PatientSummary, SeriesDetail, SeriesSummary, StudySummary } from '../../common/dicom-model.ts';
import type { HostSeries } from '../dicom/import-types.ts';

export interface DbStats {
  patients: number;
  studies: number;
  series: number;
  files: number;
  indexed: number;
  missing: number;
  problems: number;
  dirtyStudies: number;
  roots: number;
  schemaVersion: number;
}

export type ObjectLinkKind = 'source-series' | 'source-instance' | 'documents' | 'supersedes' | 'predecessor';

export interface ObjectLinkRow {
  objectSopUid: string;
  kind: ObjectLinkKind;
  targetUid: string;
  targetSeriesUid: string | null;
}

const HOST_SERIES_CACHE = 16;

export class DbIndex {
  #db: DatabaseSync;
  #pathForKey: StatementSync;
  #detail: StatementSync;
  #dataVersion = -1;
  #patients: PatientSummary[] | null = null;
  readonly #hostSeries = new Map<string, HostSeries>();

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#pathForKey = db.prepare("SELECT path FROM files WHERE file_key = ? AND state = 'indexed'");
    this.#detail = db.prepare('SELECT summary, detail FROM series WHERE series_key = ?');
  }

  get db(): DatabaseSync {
    return this.#db;
  }

  /** After a damaged database was moved aside: read the new one from now on. */
  replace(db: DatabaseSync): void {
    this.#db = db;
    this.#pathForKey = db.prepare("SELECT path FROM files WHERE file_key = ? AND state = 'indexed'");
    this.#detail = db.prepare('SELECT summary, detail FROM series WHERE series_key = ?');
    this.#dataVersion = -1;
    this.invalidate();
  }

  /** Drops the caches when anyone (this connection included, through `invalidate`) changed the database. */
  #fresh(): void {
    const version = Number((this.#db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version);
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.invalidate();
  }

  invalidate(): void {
    this.#patients = null;
    this.#hostSeries.clear();
  }

  patients(): PatientSummary[] {
    this.#fresh();
    if (this.#patients) return this.#patients;
    const seriesByStudy = new Map<string, SeriesSummary[]>();
    for (const row of this.#db.prepare('SELECT study_instance_uid, summary FROM series ORDER BY study_instance_uid, position').all() as Array<{ study_instance_uid: string; summary: string }>) {
      const list = seriesByStudy.get(row.study_instance_uid) ?? [];
      list.push(JSON.parse(row.summary) as SeriesSummary);
      seriesByStudy.set(row.study_instance_uid, list);
    }
    const studiesByPatient = new Map<string, StudySummary[]>();
    const studyRows = this.#db
      .prepare('SELECT study_instance_uid, patient_key, study_date, study_time, description, accession_number FROM studies ORDER BY study_date || study_time, study_instance_uid')
      .all() as Array<Record<string, string>>;
    for (const row of studyRows) {
      const list = studiesByPatient.get(row.patient_key!) ?? [];
      list.push({
        studyInstanceUid: row.study_instance_uid!,
        studyDate: row.study_date!,
        studyTime: row.study_time!,
        description: row.description!,
        accessionNumber: row.accession_number!,
        series: seriesByStudy.get(row.study_instance_uid!) ?? [],
      });
      studiesByPatient.set(row.patient_key!, list);
    }
    const patients: PatientSummary[] = [];
    const patientRows = this.#db.prepare('SELECT patient_key, patient_id, patient_name, birth_date, sex FROM patients').all() as Array<Record<string, string>>;
    // The order the series builder gives (by code unit, as its compareText): SQLite's BINARY collation is bytewise UTF-8, which differs.
    patientRows.sort((a, b) => compareText(a.patient_name!, b.patient_name!) || compareText(a.patient_key!, b.patient_key!));
    for (const row of patientRows) {
      const studies = studiesByPatient.get(row.patient_key!);
      if (!studies) continue;
      patients.push({ patientKey: row.patient_key!, patientId: row.patient_id!, patientName: row.patient_name!, birthDate: row.birth_date!, sex: row.sex!, studies });
    }
    this.#patients = patients;
    return patients;
  }

  hostSeries(seriesKey: string): HostSeries | undefined {
    this.#fresh();
    const cached = this.#hostSeries.get(seriesKey);
    if (cached) return cached;
    const row = this.#detail.get(seriesKey) as { summary: string; detail: string } | undefined;
    if (!row) return undefined;
    const detail = JSON.parse(row.detail) as Omit<HostSeries, 'summary'>;
    const series: HostSeries = { summary: JSON.parse(row.summary) as SeriesSummary, ...detail };
    if (this.#hostSeries.size >= HOST_SERIES_CACHE) this.#hostSeries.delete(this.#hostSeries.keys().next().value!);
    this.#hostSeries.set(seriesKey, series);
    return series;
  }

  seriesDetail(seriesKey: string): SeriesDetail | undefined {
    const series = this.hostSeries(seriesKey);
    if (!series) return undefined;
    return {
      series: series.summary,
      patient: series.patient,
      slices: series.slices.map(({ fileKey, sopInstanceUid, instanceNumber, frame, position }) => ({ fileKey, sopInstanceUid, instanceNumber, frame, position })),
      instances: series.instances.map(({ fileKey, sopInstanceUid, instanceNumber, kind }) => ({ fileKey, sopInstanceUid, instanceNumber, kind })),
    };
  }

  /** Only files the index holds (and has not seen go missing) are served. */
  pathForFileKey(fileKey: string): string | undefined {
    const row = this.#pathForKey.get(fileKey) as { path: string } | undefined;
    return row?.path;
  }

  /** Studies whose files a crashed import wrote but did not group. */
  hasDirtyStudies(): boolean {
    return this.#db.prepare('SELECT 1 AS x FROM dirty_studies LIMIT 1').get() !== undefined;
  }

  /** What an object (by SOP Instance UID) refers to. */
  linksOf(objectSopUid: string): ObjectLinkRow[] {
    return this.#db
      .prepare('SELECT object_sop_uid AS objectSopUid, kind, target_uid AS targetUid, target_series_uid AS targetSeriesUid FROM object_links WHERE object_sop_uid = ? ORDER BY rowid')
      .all(objectSopUid) as unknown as ObjectLinkRow[];
  }

  /** The objects that refer to a UID (a series, a SEG, a report), optionally of one kind of link. */
  linksTo(targetUid: string, kind?: ObjectLinkKind): ObjectLinkRow[] {
    const rows = this.#db
      .prepare('SELECT object_sop_uid AS objectSopUid, kind, target_uid AS targetUid, target_series_uid AS targetSeriesUid FROM object_links WHERE target_uid = ? ORDER BY rowid')
      .all(targetUid) as unknown as ObjectLinkRow[];
    return kind ? rows.filter((r) => r.kind === kind) : rows;
  }

  roots(): string[] {
    return (this.#db.prepare('SELECT path FROM roots ORDER BY path').all() as Array<{ path: string }>).map((r) => r.path);
  }

  stats(): DbStats {
    return dbStats(this.#db);
  }
}

export function dbStats(db: DatabaseSync): DbStats {
  const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
  return {
    patients: count('SELECT count(*) AS n FROM patients'),
    studies: count('SELECT count(*) AS n FROM studies'),
    series: count('SELECT count(*) AS n FROM series'),
    files: count('SELECT count(*) AS n FROM files'),
    indexed: count("SELECT count(*) AS n FROM files WHERE state = 'indexed'"),
    missing: count("SELECT count(*) AS n FROM files WHERE state = 'missing'"),
    problems: count("SELECT count(*) AS n FROM files WHERE state = 'problem'"),
    dirtyStudies: count('SELECT count(*) AS n FROM dirty_studies'),
    roots: count('SELECT count(*) AS n FROM roots'),
    schemaVersion: count('SELECT user_version AS n FROM pragma_user_version'),
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
