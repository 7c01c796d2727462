// `medreasoner index --data-dir` writes the app's study database; `medreasoner db`
// reports, checks and rebuilds it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { PatientSummary } from '../../electron/common/dicom-model.ts';
import { main } from '../../electron/cli/medreasoner.ts';
import { createHost } from '../../electron/host/host.ts';
import { studyDbPath } from '../../electron/host/db/study-db.ts';
import { SCHEMA_VERSION } from '../../electron/host/db/schema.ts';
import { makeTempDir } from './fixtures-dicom.ts';
import { UID_ROOT, writeStudyFolder } from './db-fixtures.ts';

const tmp = makeTempDir('db-cli');
afterAll(() => tmp.remove());

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('medreasoner index --data-dir and medreasoner db', () => {
  const dataDir = join(tmp.path, 'data');
  const folder = join(tmp.path, 'in');

  test('index --data-dir writes the database the app then lists from; a second run reads nothing again', async () => {
    writeStudyFolder(folder, 30, 2, 4);
    const first = await cli('index', folder, '--data-dir', dataDir, '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out).database).toMatchObject({ instancesAdded: 8, unchanged: 0 });
    const again = await cli('index', folder, '--data-dir', dataDir);
    expect(again.out).toMatch(/0 new image instance\(s\), 8 file\(s\) unchanged/);

    const host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    const response = await host.dispatch('dicom.studies', {});
    await host.dispose();
    const patients = response.ok ? (response.result as { patients: PatientSummary[] }).patients : [];
    expect(patients.flatMap((p) => p.studies.map((s) => s.studyInstanceUid))).toEqual([`${UID_ROOT}.30`]);
  });

  test('db stats and db check report the database', async () => {
    const stats = await cli('db', 'stats', '--data-dir', dataDir, '--json');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.out)).toMatchObject({ studies: 1, series: 2, indexed: 8, missing: 0, problems: 0, roots: 1, schemaVersion: SCHEMA_VERSION });
    const check = await cli('db', 'check', '--data-dir', dataDir);
    expect([check.code, check.out]).toEqual([0, `${studyDbPath(dataDir)}: ok\n`]);
  });

  test('db check fails on a damaged file; db rebuild makes it whole again from the imported folders', async () => {
    writeFileSync(studyDbPath(dataDir), Buffer.alloc(4096, 0x42));
    const check = await cli('db', 'check', '--data-dir', dataDir, '--json');
    expect(check.code).toBe(1);
    expect(JSON.parse(check.out).ok).toBe(false);
    const rebuild = await cli('db', 'rebuild', '--data-dir', dataDir, '--json');
    expect(rebuild.code).toBe(0);
    expect(JSON.parse(rebuild.out)).toMatchObject({ studies: 1, series: 2, indexed: 8, paths: expect.arrayContaining([folder]) });
    expect((await cli('db', 'check', '--data-dir', dataDir)).code).toBe(0);
  });

  test('usage errors exit 2', async () => {
    expect((await cli('db')).code).toBe(2);
    expect((await cli('db', 'vacuum-everything', '--data-dir', dataDir)).code).toBe(2);
    expect((await cli('index', folder, '--data-dir')).code).toBe(2);
  });
});
