// The study database under process failure and concurrency: kill -9 mid-import leaves
// whole batches and a resumable import; two processes writing at once both land.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { runDbImport } from '../../electron/host/db/db-import.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { dbStats } from '../../electron/host/db/db-index.ts';
import { checkDatabase, openStudyDb, studyDbPath } from '../../electron/host/db/study-db.ts';
import { createHost } from '../../electron/host/host.ts';
import { makeTempDir } from './fixtures-dicom.ts';
import { writeStudyFolder } from './db-fixtures.ts';

const tmp = makeTempDir('study-db-proc');
afterAll(() => tmp.remove());
const child = new URL('./db-child.ts', import.meta.url).pathname;

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function seriesInstanceTotal(dbPath: string): number {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return Number((db.prepare('SELECT coalesce(sum(instance_count), 0) AS n FROM series').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

describe('study database across processes', () => {
  test('kill -9 after two committed batches: the database is consistent and the import resumes without re-reading', async () => {
    const folder = join(tmp.path, 'crash-in');
    // Three studies, so the crash leaves studies whose files are written but not yet grouped.
    for (let s = 0; s < 3; s++) writeStudyFolder(join(folder, `study-${s}`), 10 + s, 2, 200);
    const total = 3 * 2 * 200;
    const dbPath = join(tmp.path, 'crash.db');
    const killed = await runChild([dbPath, folder, '2']);
    expect(killed.signal).toBe('SIGKILL');

    expect(checkDatabase(dbPath, true)).toBeNull();
    const db = openStudyDb(dbPath, { check: true });
    expect(db.recovery).toBeNull();
    const afterCrash = dbStats(db.db);
    db.db.close();
    // Whole batches only, and their studies remembered as dirty for the next writer.
    const committed = Number(readFileSync(`${dbPath}.committed`, 'utf8'));
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(total);
    expect(afterCrash.files).toBe(committed);
    expect(afterCrash.dirtyStudies).toBeGreaterThan(0);

    const resumed = runDbImport(dbPath, [folder]);
    expect(resumed.stored.unchanged).toBe(committed);
    expect(resumed.files).toHaveLength(total);
    const reopened = openStudyDb(dbPath);
    const final = dbStats(reopened.db);
    reopened.db.close();
    expect(final).toMatchObject({ indexed: total, dirtyStudies: 0, studies: 3, series: 6, missing: 0, problems: 0 });
    expect(seriesInstanceTotal(dbPath)).toBe(total);
  });

  test('two processes import into one database at the same time and both land', async () => {
    const a = join(tmp.path, 'two-a');
    const b = join(tmp.path, 'two-b');
    writeStudyFolder(a, 20, 3, 200);
    writeStudyFolder(b, 21, 3, 200);
    const dbPath = join(tmp.path, 'two.db');
    openStudyDb(dbPath).db.close();
    const [ra, rb] = await Promise.all([runChild([dbPath, a]), runChild([dbPath, b])]);
    expect([ra.code, rb.code, ra.stderr + rb.stderr]).toEqual([0, 0, expect.not.stringMatching(/locked|busy/i)]);
    const opened = openStudyDb(dbPath, { check: true });
    const stats = dbStats(opened.db);
    opened.db.close();
    expect(stats).toMatchObject({ indexed: 1200, studies: 2, series: 6, dirtyStudies: 0, roots: 2 });
    expect(seriesInstanceTotal(dbPath)).toBe(1200);
  });

  test('the CLI writes while the app has the database open: the app lists the new study without a restart', async () => {
    const dataDir = join(tmp.path, 'shared-data');
    const appFolder = join(tmp.path, 'shared-app');
    const cliFolder = join(tmp.path, 'shared-cli');
    writeStudyFolder(appFolder, 40, 1, 50);
    writeStudyFolder(cliFolder, 41, 1, 300);
    const host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    const studies = async () => {
      const answer = await host.dispatch('dicom.studies', {});
      if (!answer.ok) throw new Error(answer.error.message);
      return (answer.result as { patients: Array<{ studies: Array<{ studyInstanceUid: string }> }> }).patients.flatMap((p) => p.studies.map((s) => s.studyInstanceUid)).sort();
    };
    // Both write at once: the app's import (its worker) and a second process.
    const [appImport, cli] = await Promise.all([host.dispatch('dicom.import', { jobId: 'app', paths: [appFolder] }), runChild([studyDbPath(dataDir), cliFolder])]);
    expect(appImport.ok).toBe(true);
    expect(cli.code).toBe(0);
    expect(await studies()).toEqual(['1.2.826.0.1.3680043.8.498.314.40', '1.2.826.0.1.3680043.8.498.314.41']);
    await host.dispose();
  });

  test('kill -9 mid-import, then the app starts: it finishes the interrupted import itself and lists every file', async () => {
    const dataDir = join(tmp.path, 'crash-app-data');
    const folder = join(tmp.path, 'crash-app-in');
    for (let s = 0; s < 2; s++) writeStudyFolder(join(folder, `study-${s}`), 50 + s, 2, 300);
    const total = 2 * 2 * 300;
    mkdirSync(dataDir, { recursive: true });
    openStudyDb(studyDbPath(dataDir)).db.close();
    const killed = await runChild([studyDbPath(dataDir), folder, '1']);
    expect(killed.signal).toBe('SIGKILL');
    const committed = Number(readFileSync(`${studyDbPath(dataDir)}.committed`, 'utf8'));
    expect(committed).toBeLessThan(total);

    const host = createHost({ shell: 'test', dataDir, modelsDir: join(tmp.path, 'no-models') });
    for (let i = 0; i < 600; i++) {
      const info = await host.dispatch('dicom.database', {});
      if (info.ok && !(info.result as { scanning: boolean }).scanning) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const info = await host.dispatch('dicom.database', {});
    await host.dispose();
    expect(info.ok && info.result).toMatchObject({ indexed: total, studies: 2, series: 4, missing: 0, problems: 0 });
    expect(seriesInstanceTotal(studyDbPath(dataDir))).toBe(total);
    const db = openStudyDb(studyDbPath(dataDir));
    const stats = dbStats(db.db);
    db.db.close();
    expect(stats.dirtyStudies).toBe(0);
  });
});
