// The study database knows what SEGs and SRs refer to: a SEG and its SR exported by the
// host's seg service, then a second version, are indexed with their source series, the
// SEG the SR documents and the SEG the new version supersedes; the study list carries
// it; a database at the previous schema version migrates, keeps its rows and gains links.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeLabelmap, SegExportResult } from '../../electron/common/contract-seg.ts';
import type { PatientSummary, SeriesSummary } from '../../electron/common/dicom-model.ts';
import { DbIndex } from '../../electron/host/db/db-index.ts';
import { SCHEMA_VERSION } from '../../electron/host/db/schema.ts';
import { studyDbPath } from '../../electron/host/db/study-db.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { CATEGORY, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { UID_ROOT, writeStudyFolder } from './db-fixtures.ts';
import { makeTempDir } from './fixtures-dicom.ts';

const tmp = makeTempDir('study-db-links');
afterAll(() => tmp.remove());

async function call<T = any>(host: Host, method: string, params: unknown = {}): Promise<T> {
  const response = await host.dispatch(method, params);
  if (!response.ok) throw new Error(`${method}: ${response.error.message}`);
  return response.result as T;
}

async function untilScanned(host: Host): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (!(await call<{ scanning: boolean }>(host, 'dicom.database')).scanning) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the start-up re-scan did not end');
}

function withDb<T>(dataDir: string, read: (index: DbIndex, db: DatabaseSync) => T): T {
  const db = new DatabaseSync(studyDbPath(dataDir));
  try {
    return read(new DbIndex(db), db);
  } finally {
    db.close();
  }
}

const seriesOf = (patients: PatientSummary[], seriesInstanceUid: string): SeriesSummary =>
  patients.flatMap((p) => p.studies.flatMap((s) => s.series)).find((s) => s.seriesInstanceUid === seriesInstanceUid)!;

const SLICES = 4;
const ctSeriesUid = `${UID_ROOT}.71.0`;
const ctSopUids = Array.from({ length: SLICES }, (_, k) => `${UID_ROOT}.71.0.${k}`);

describe('object links in the study database', () => {
  const dataDir = join(tmp.path, 'data');
  let host: Host;
  let v1: SegExportResult;
  let v2: SegExportResult;

  beforeAll(async () => {
    writeStudyFolder(join(tmp.path, 'ct'), 71, 1, SLICES);
    host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    await call(host, 'dicom.import', { jobId: 'ct', paths: [join(tmp.path, 'ct')] });
    const labels = new Uint8Array(8 * 8 * SLICES);
    // Slices 1 and 2 only: a SEG lists the instances its frames lie on.
    labels.fill(1, 8 * 8 + 10, 3 * 8 * 8 - 10);
    const segmentation = {
      segments: [{ number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'ai', question: 'Where is the liver?', answer: 'here', prompts: [{ kind: 'point', sliceIndex: 1, x: 2.5, y: 1.5, label: 'positive' }], models: [{ name: 'MedSAM2', version: '1.0' }] } }],
      labelmap: encodeLabelmap(labels),
    };
    v1 = await call(host, 'seg.export', { seriesKey: ctSeriesUid, segmentation, withSr: true });
    v2 = await call(host, 'seg.export', {
      seriesKey: ctSeriesUid,
      segmentation,
      withSr: true,
      supersedes: { sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid },
    });
  }, 120_000);
  afterAll(async () => host?.dispose());

  test("the database answers a SEG's source series and instances, the SEG an SR documents, and the SEG a new version supersedes", () => {
    expect(v1.sr).not.toBeNull();
    withDb(dataDir, (index) => {
      const first = index.linksOf(v1.seg.sopInstanceUid);
      expect(first.filter((l) => l.kind === 'source-series').map((l) => l.targetUid)).toEqual([ctSeriesUid]);
      expect(first.filter((l) => l.kind === 'source-instance').map((l) => l.targetUid).sort()).toEqual([ctSopUids[1], ctSopUids[2]]);
      expect(first.filter((l) => l.kind === 'supersedes')).toEqual([]);

      expect(index.linksTo(v1.seg.sopInstanceUid, 'documents').map((l) => l.objectSopUid)).toEqual([v1.sr!.sopInstanceUid]);
      expect(index.linksTo(v2.seg.sopInstanceUid, 'documents').map((l) => l.objectSopUid)).toEqual([v2.sr!.sopInstanceUid]);
      expect(index.linksTo(v1.seg.sopInstanceUid, 'supersedes')).toEqual([
        { objectSopUid: v2.seg.sopInstanceUid, kind: 'supersedes', targetUid: v1.seg.sopInstanceUid, targetSeriesUid: v1.seg.seriesInstanceUid },
      ]);
      // The new version's source is still the CT, not the SEG it replaces.
      expect(index.linksOf(v2.seg.sopInstanceUid).filter((l) => l.kind === 'source-series').map((l) => l.targetUid)).toEqual([ctSeriesUid]);
      expect(index.linksOf(v1.sr!.sopInstanceUid).filter((l) => l.kind === 'source-series').map((l) => l.targetUid)).toContain(ctSeriesUid);
      expect(index.linksTo(v1.sr!.sopInstanceUid, 'predecessor').map((l) => l.objectSopUid)).toEqual([v2.sr!.sopInstanceUid]);
    });
  });

  test('the study list gives each SEG and SR series its links, the same after a restart (read from the database)', async () => {
    const check = (patients: PatientSummary[]) => {
      expect(seriesOf(patients, v2.seg.seriesInstanceUid).links).toEqual({
        sourceSeries: [ctSeriesUid],
        documents: [],
        supersedes: [{ sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid }],
        predecessors: [],
      });
      expect(seriesOf(patients, v1.seg.seriesInstanceUid).links!.supersedes).toEqual([]);
      const sr = seriesOf(patients, v1.sr!.seriesInstanceUid).links!;
      expect(sr.documents).toEqual([{ sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid }]);
      expect(sr.sourceSeries).toEqual([ctSeriesUid]);
      expect(seriesOf(patients, ctSeriesUid).links).toBeUndefined();
    };
    check((await call<{ patients: PatientSummary[] }>(host, 'dicom.studies')).patients);
    await host.dispose();
    host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    check((await call<{ patients: PatientSummary[] }>(host, 'dicom.studies')).patients);
  });

  test('a database at the previous schema version migrates: its rows are kept, and the next start-up scan fills in the links', async () => {
    await host.dispose();
    // What the previous build left: no object_links table, records and summaries without links.
    const before = withDb(dataDir, (_index, db) => {
      db.exec("DROP TABLE object_links; UPDATE files SET record = json_remove(record, '$.links') WHERE record IS NOT NULL; UPDATE series SET summary = json_remove(summary, '$.links')");
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION - 1}`);
      const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
      return { files: count('SELECT count(*) AS n FROM files'), series: count('SELECT count(*) AS n FROM series'), studies: count('SELECT count(*) AS n FROM studies') };
    });
    expect(before.series).toBe(5);

    host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    const info = await call<{ schemaVersion: number; indexed: number; studies: number; series: number }>(host, 'dicom.database');
    expect(info.schemaVersion).toBe(SCHEMA_VERSION);
    expect([info.studies, info.series]).toEqual([before.studies, before.series]);
    await untilScanned(host);
    const after = await call<{ indexed: number }>(host, 'dicom.database');
    expect(after.indexed).toBe(before.files);
    const patients = (await call<{ patients: PatientSummary[] }>(host, 'dicom.studies')).patients;
    expect(seriesOf(patients, v2.seg.seriesInstanceUid).links?.supersedes).toEqual([{ sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid }]);
    withDb(dataDir, (index) => {
      expect(index.linksTo(v1.seg.sopInstanceUid, 'documents').map((l) => l.objectSopUid)).toEqual([v1.sr!.sopInstanceUid]);
      expect(index.linksOf(v1.seg.sopInstanceUid).filter((l) => l.kind === 'source-series').map((l) => l.targetUid)).toEqual([ctSeriesUid]);
    });
  }, 60_000);
});
