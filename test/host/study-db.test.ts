// The study database: what an import writes survives a restart, re-scans add, update
// and mark missing, the store is always indexed, a corrupt file is rebuilt and reported.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { HostEvent } from '../../electron/common/contract.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { checkDatabase, studyDbPath } from '../../electron/host/db/study-db.ts';
import { DatabaseSync } from 'node:sqlite';
import { makeTempDir, ctSlice, writeDicom } from './fixtures-dicom.ts';

function fileRow(dataDir: string, path: string): { state: string; first_seen_ms: number; missing_since_ms: number | null; record: string | null } {
  const db = new DatabaseSync(studyDbPath(dataDir), { readOnly: true });
  try {
    return db.prepare('SELECT state, first_seen_ms, missing_since_ms, record FROM files WHERE path = ?').get(path) as never;
  } finally {
    db.close();
  }
}
import { UID_ROOT, writeStudyFolder } from './db-fixtures.ts';

const tmp = makeTempDir('study-db');
afterAll(() => tmp.remove());

async function call<T = any>(host: Host, method: string, params: unknown = {}): Promise<T> {
  const response = await host.dispatch(method, params);
  if (!response.ok) throw new Error(`${method}: ${response.error.message}`);
  return response.result as T;
}

async function startedHost(dataDir: string, events: HostEvent[] = []): Promise<Host> {
  const host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
  host.subscribe((e) => events.push(e));
  return host;
}

async function untilScanned(host: Host): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (!(await call<{ scanning: boolean }>(host, 'dicom.database')).scanning) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the start-up re-scan did not end');
}

function studyUids(patients: Array<{ studies: Array<{ studyInstanceUid: string }> }>): string[] {
  return patients.flatMap((p) => p.studies.map((s) => s.studyInstanceUid)).sort();
}

describe('study database', () => {
  test('an import survives a restart: studies listed from the database, series open, database file owner-only', async () => {
    const dataDir = join(tmp.path, 'restart-data');
    const folder = join(tmp.path, 'restart-in');
    writeStudyFolder(folder, 1, 2, 5);
    const first = await startedHost(dataDir);
    const result = await call(first, 'dicom.import', { jobId: 'a', paths: [folder] });
    expect(result.instancesAdded).toBe(10);
    const before = (await call(first, 'dicom.studies')).patients;
    await first.dispose();

    const second = await startedHost(dataDir);
    // Asked before the start-up re-scan could have read anything: the answer is the database's.
    const after = (await call(second, 'dicom.studies')).patients;
    expect(after).toEqual(before);
    const seriesKey = after[0].studies[0].series[0].seriesKey;
    const detail = await call(second, 'dicom.series', { seriesKey });
    expect(detail.slices).toHaveLength(5);
    expect(second.resolveFile(detail.slices[0].fileKey)).toBe(join(folder, 'series-0', 'slice-0.dcm'));
    expect(statSync(studyDbPath(dataDir)).mode & 0o777).toBe(0o600);
    await untilScanned(second);
    // Nothing changed on disk: the start-up re-scan did not re-read or add anything.
    expect((await call(second, 'dicom.database')).indexed).toBe(10);
    await second.dispose();
  });

  test('a re-scan adds new files, updates changed ones and marks deleted ones missing without losing their row', async () => {
    const dataDir = join(tmp.path, 'rescan-data');
    const folder = join(tmp.path, 'rescan-in');
    const paths = writeStudyFolder(folder, 2, 1, 4);
    const host = await startedHost(dataDir);
    await call(host, 'dicom.import', { jobId: 'a', paths: [folder] });
    const key = (await call(host, 'dicom.studies')).patients[0].studies[0].series[0].seriesKey;
    const deletedKey = (await call(host, 'dicom.series', { seriesKey: key })).slices[3].fileKey;

    const firstSeen = fileRow(dataDir, paths[3]!).first_seen_ms;
    rmSync(paths[3]!);
    writeDicom(join(folder, 'series-0', 'slice-new.dcm'), ctSlice({ studyUid: `${UID_ROOT}.2`, seriesUid: `${UID_ROOT}.2.0`, sopUid: `${UID_ROOT}.2.0.99`, instanceNumber: 9, position: [0, 0, 18], orientation: [1, 0, 0, 0, 1, 0], patientId: 'DB-2' }));
    // Changed in place: now a different patient's description; same path.
    writeDicom(paths[0]!, { ...ctSlice({ studyUid: `${UID_ROOT}.2`, seriesUid: `${UID_ROOT}.2.0`, sopUid: `${UID_ROOT}.2.0.0`, instanceNumber: 1, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0], patientId: 'DB-2' }), SeriesDescription: 'changed' });
    utimesSync(paths[0]!, new Date(), new Date(Date.now() + 5000));

    const rescan = await call(host, 'dicom.rescan', { jobId: 'r' });
    expect(rescan.instancesAdded).toBe(1);
    const db = await call(host, 'dicom.database');
    expect(db.missing).toBe(1);
    expect(db.indexed).toBe(4);
    const detail = await call(host, 'dicom.series', { seriesKey: key });
    expect(detail.slices).toHaveLength(4);
    expect(detail.series.description).toBe('changed');
    // The viewer asking for the deleted file gets "not in the index", not a crash.
    expect(host.resolveFile(deletedKey)).toBeUndefined();
    const missing = fileRow(dataDir, paths[3]!);
    expect(missing).toMatchObject({ state: 'missing', first_seen_ms: firstSeen });
    expect(missing.missing_since_ms).not.toBeNull();
    expect(JSON.parse(missing.record!).sopInstanceUid).toBe(`${UID_ROOT}.2.0.3`);

    // The file comes back: indexed again in place.
    writeDicom(paths[3]!, ctSlice({ studyUid: `${UID_ROOT}.2`, seriesUid: `${UID_ROOT}.2.0`, sopUid: `${UID_ROOT}.2.0.3`, instanceNumber: 4, position: [0, 0, 6], orientation: [1, 0, 0, 0, 1, 0], patientId: 'DB-2' }));
    await call(host, 'dicom.rescan', { jobId: 'r2' });
    expect((await call(host, 'dicom.database')).missing).toBe(0);
    expect(host.resolveFile(deletedKey)).toBe(paths[3]);
    expect(fileRow(dataDir, paths[3]!)).toMatchObject({ state: 'indexed', first_seen_ms: firstSeen, missing_since_ms: null });
    await host.dispose();
  });

  test('files that land in <data>/store while the app is closed are indexed at the next start', async () => {
    const dataDir = join(tmp.path, 'store-data');
    const first = await startedHost(dataDir);
    await untilScanned(first);
    await first.dispose();
    writeStudyFolder(join(dataDir, 'store', 'retrieved'), 3, 1, 3);
    const second = await startedHost(dataDir);
    await untilScanned(second);
    expect(studyUids((await call(second, 'dicom.studies')).patients)).toEqual([`${UID_ROOT}.3`]);
    await second.dispose();
  });

  test('a corrupt database is moved aside, rebuilt from the imported folders, and the user is told', async () => {
    const dataDir = join(tmp.path, 'corrupt-data');
    const folder = join(tmp.path, 'corrupt-in');
    writeStudyFolder(folder, 4, 1, 3);
    const first = await startedHost(dataDir);
    await call(first, 'dicom.import', { jobId: 'a', paths: [folder] });
    await first.dispose();
    writeFileSync(studyDbPath(dataDir), Buffer.alloc(8192, 0x5a));

    const events: HostEvent[] = [];
    const second = await startedHost(dataDir, events);
    const info = await call(second, 'dicom.database');
    expect(info.notice).toMatch(/could not be read.*moved to .*studies\.db\.corrupt-/);
    expect(readdirSync(dataDir).some((name) => name.startsWith('studies.db.corrupt-'))).toBe(true);
    await untilScanned(second);
    expect(studyUids((await call(second, 'dicom.studies')).patients)).toEqual([`${UID_ROOT}.4`]);
    expect(events.some((e) => e.event === 'dicom.databaseNotice')).toBe(true);
    await second.dispose();
  });

  test('a database damaged inside (its header fine): the quick check fails, and whichever read meets the damage first has it moved aside and rebuilt', async () => {
    const dataDir = join(tmp.path, 'damaged-data');
    const folder = join(tmp.path, 'damaged-in');
    writeStudyFolder(folder, 7, 2, 20);
    const first = await startedHost(dataDir);
    await call(first, 'dicom.import', { jobId: 'a', paths: [folder] });
    await first.dispose();
    expect(existsSync(`${studyDbPath(dataDir)}-wal`)).toBe(false);
    // The second half of the pages overwritten: the header, the schema and the tables' first pages are fine.
    const bytes = readFileSync(studyDbPath(dataDir));
    bytes.fill(0xa5, Math.floor(bytes.length / 8192) * 4096);
    writeFileSync(studyDbPath(dataDir), bytes);
    expect(checkDatabase(studyDbPath(dataDir), false)).toBeNull();
    expect(checkDatabase(studyDbPath(dataDir), true)).toMatch(/quick check failed|malformed/);

    const events: HostEvent[] = [];
    const second = await startedHost(dataDir, events);
    let info = null as { notice: string | null; scanning: boolean } | null;
    for (let i = 0; i < 600 && !(info?.notice && !info.scanning); i++) {
      await new Promise((r) => setTimeout(r, 25));
      const response = await second.dispatch('dicom.database', {});
      info = response.ok ? (response.result as typeof info) : null;
    }
    expect(info?.notice).toMatch(/could not be read \((SQLite's quick check failed: .*|database disk image is malformed)\)\. It was moved to .*studies\.db\.corrupt-/);
    expect(studyUids((await call(second, 'dicom.studies')).patients)).toEqual([`${UID_ROOT}.7`]);
    expect((await call(second, 'dicom.database')).indexed).toBe(40);
    expect(events.some((e) => e.event === 'dicom.databaseNotice')).toBe(true);
    await second.dispose();
  });

  test('forget removes a study from the index only; delete removes the copies in the store', async () => {
    const dataDir = join(tmp.path, 'forget-data');
    const folder = join(tmp.path, 'forget-in');
    const own = writeStudyFolder(folder, 5, 1, 2);
    const stored = writeStudyFolder(join(dataDir, 'store', 'pulled'), 6, 1, 2);
    const host = await startedHost(dataDir);
    await untilScanned(host);
    await call(host, 'dicom.import', { jobId: 'a', paths: [folder] });
    expect(await call(host, 'dicom.forgetStudy', { studyInstanceUid: `${UID_ROOT}.5` })).toEqual({ forgottenFiles: 2 });
    expect(own.every((p) => existsSync(p))).toBe(true);
    expect(await call(host, 'dicom.deleteStudy', { studyInstanceUid: `${UID_ROOT}.6` })).toEqual({ deletedFiles: 2, forgottenFiles: 0 });
    expect(stored.some((p) => existsSync(p))).toBe(false);
    expect((await call(host, 'dicom.studies')).patients).toEqual([]);
    await host.dispose();
  });
});

