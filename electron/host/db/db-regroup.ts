// Re-groups one study from its indexed files: the same series builder as an in-memory
// import, so a study read from the database is the study an import would have built.
// One transaction per study: readers see the old grouping or the new, never half.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { InstanceRecord } from '../dicom/instance-record.ts';
import { buildIndex } from '../dicom/series-builder.ts';

const REFERENCING_KINDS = new Set(['SEG', 'SR', 'RTSTRUCT', 'PR', 'KO']);

export function regroupStudy(db: DatabaseSync, studyInstanceUid: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = db.prepare("SELECT record FROM files WHERE study_instance_uid = ? AND state = 'indexed'").all(studyInstanceUid) as Array<{ record: string }>;
    const records = rows.map((r) => JSON.parse(r.record) as InstanceRecord);
    db.prepare('DELETE FROM geometry_warnings WHERE series_key IN (SELECT series_key FROM series WHERE study_instance_uid = ?)').run(studyInstanceUid);
    db.prepare('DELETE FROM series WHERE study_instance_uid = ?').run(studyInstanceUid);
    db.prepare('DELETE FROM object_references WHERE study_instance_uid = ?').run(studyInstanceUid);
    db.prepare('DELETE FROM object_links WHERE study_instance_uid = ?').run(studyInstanceUid);
    db.prepare('DELETE FROM studies WHERE study_instance_uid = ?').run(studyInstanceUid);
    if (records.length > 0) writeStudy(db, records);
    db.prepare('DELETE FROM dirty_studies WHERE study_instance_uid = ?').run(studyInstanceUid);
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function writeLinks(insert: StatementSync, record: InstanceRecord): void {
  const links = record.links!;
  const add = (kind: string, target: string, series: string | null) => insert.run(record.sopInstanceUid, record.studyInstanceUid, kind, target, series);
  for (const uid of links.sourceSeries) add('source-series', uid, uid);
  for (const uid of links.sourceInstances) add('source-instance', uid, null);
  for (const ref of links.documents) add('documents', ref.sopInstanceUid, ref.seriesInstanceUid || null);
  for (const ref of links.supersedes) add('supersedes', ref.sopInstanceUid, ref.seriesInstanceUid || null);
  for (const ref of links.predecessors) add('predecessor', ref.sopInstanceUid, ref.seriesInstanceUid || null);
}

function writeStudy(db: DatabaseSync, records: InstanceRecord[]): void {
  const built = buildIndex(records);
  const insertSeries = db.prepare(`INSERT OR REPLACE INTO series (series_key, study_instance_uid, series_instance_uid, position, modality, kind,
    instance_count, summary, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertWarning = db.prepare('INSERT INTO geometry_warnings (series_key, code, message) VALUES (?, ?, ?)');
  const insertReference = db.prepare('INSERT INTO object_references (path, kind, study_instance_uid, series_instance_uid, frame_of_reference_uid) VALUES (?, ?, ?, ?, ?)');
  const insertLink = db.prepare('INSERT INTO object_links (object_sop_uid, study_instance_uid, kind, target_uid, target_series_uid) VALUES (?, ?, ?, ?, ?)');
  const upsertPatient = db.prepare(`INSERT INTO patients (patient_key, patient_id, patient_name, birth_date, sex) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (patient_key) DO UPDATE SET patient_id = excluded.patient_id, patient_name = excluded.patient_name,
    birth_date = excluded.birth_date, sex = excluded.sex`);
  const insertStudy = db.prepare(`INSERT OR REPLACE INTO studies (study_instance_uid, patient_key, study_date, study_time, description, accession_number,
    modalities, series_count, instance_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const byKey = new Map(built.series.map((s) => [s.summary.seriesKey, s]));
  for (const patient of built.patients) {
    upsertPatient.run(patient.patientKey, patient.patientId, patient.patientName, patient.birthDate, patient.sex);
    for (const study of patient.studies) {
      const modalities = [...new Set(study.series.map((s) => s.modality).filter(Boolean))].sort();
      const instances = study.series.reduce((n, s) => n + s.instanceCount, 0);
      insertStudy.run(study.studyInstanceUid, patient.patientKey, study.studyDate, study.studyTime, study.description, study.accessionNumber,
        modalities.join('\\'), study.series.length, instances);
      study.series.forEach((summary, position) => {
        const host = byKey.get(summary.seriesKey)!;
        insertSeries.run(summary.seriesKey, study.studyInstanceUid, summary.seriesInstanceUid, position, summary.modality, summary.kind,
          summary.instanceCount, JSON.stringify(summary), JSON.stringify({ patient: host.patient, slices: host.slices, instances: host.instances }));
        for (const warning of summary.geometry?.warnings ?? []) insertWarning.run(summary.seriesKey, warning.code, warning.message);
      });
    }
  }
  for (const record of records) {
    if (REFERENCING_KINDS.has(record.kind)) {
      insertReference.run(record.path, record.kind, record.studyInstanceUid, record.seriesInstanceUid, record.frameOfReferenceUid);
    }
    if (record.links) writeLinks(insertLink, record);
  }
}
