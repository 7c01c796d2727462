// The study database at archive scale, in one run:
//   1. importing N generated files (default 10,000 CT slices of 512×512) end to end into
//      the study database, against a plain read of every byte of the same files;
//   2. the cold start to a listed study browser with M instances indexed (default 100,000:
//      2,000 studies of 50 small slices) against re-indexing them (what each start did
//      before the database).
//   npx node bench/study-db.ts [--files N] [--size 512] [--instances M] [--rounds R] [--keep]
// Files come from test/host/dicom-template.ts (one template, UIDs patched per file), so
// generating 100,000 takes seconds. Warm page cache throughout (files just written or read):
// this measures CPU and fixed costs, not the disk. Generated folders are removed unless --keep.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbIndex } from '../electron/host/db/db-index.ts';
import { openStudyDb, studyDbPath } from '../electron/host/db/study-db.ts';
import { importDicom } from '../electron/host/dicom/importer.ts';
import { createHost } from '../electron/host/host.ts';
import { generate, listFiles } from '../test/host/dicom-template.ts';


const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const FILES = option('files', 10_000);
const SIZE = option('size', 512);
const INSTANCES = option('instances', 100_000);
const ROUNDS = option('rounds', 3);
const PER_STUDY = 50;
const KEEP = args.includes('--keep');
const work = join(tmpdir(), 'medreasoner-bench-study-db');

async function best(rounds: number, run: () => Promise<void> | void, before?: () => void): Promise<number> {
  let fastest = Infinity;
  for (let r = 0; r < rounds; r++) {
    before?.();
    const start = performance.now();
    await run();
    fastest = Math.min(fastest, (performance.now() - start) / 1000);
  }
  return fastest;
}

function freshData(name: string): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const setup = performance.now();
  const importFolder = join(work, `import-${FILES}x${SIZE}`);
  generate(importFolder, FILES, SIZE, 500);
  const coldFolder = join(work, `cold-${INSTANCES}x32`);
  generate(coldFolder, INSTANCES, 32, PER_STUDY);
  const setupSeconds = (performance.now() - setup) / 1000;
  const importPaths = listFiles(importFolder, FILES);
  const importBytes = importPaths.reduce((n, p) => n + statSync(p).size, 0);

  // 1. Import end to end against a plain read of every byte.
  const plain = await best(ROUNDS, () => {
    for (const p of importPaths) readFileSync(p);
  });
  let importData = '';
  const imported = await best(
    ROUNDS,
    async () => {
      const outcome = await importDicom({ paths: [importFolder], dbPath: studyDbPath(importData) });
      if (outcome.stored?.instancesAdded !== FILES) throw new Error(`the import added ${outcome.stored?.instancesAdded} of ${FILES}`);
    },
    () => {
      importData = freshData('import-data');
      openStudyDb(studyDbPath(importData)).db.close();
    },
  );
  const inMemory = await best(ROUNDS, async () => {
    await importDicom({ paths: [importFolder] });
  });

  // 2. Cold start with INSTANCES indexed against re-indexing them.
  const coldData = freshData('cold-data');
  const reindexStart = performance.now();
  const stored = await importDicom({ paths: [coldFolder], dbPath: (openStudyDb(studyDbPath(coldData)).db.close(), studyDbPath(coldData)) });
  const reindexDb = (performance.now() - reindexStart) / 1000;
  if (stored.stored?.instancesAdded !== INSTANCES) throw new Error(`indexed ${stored.stored?.instancesAdded} of ${INSTANCES}`);
  const reindexMemory = await best(1, async () => {
    await importDicom({ paths: [coldFolder] });
  });
  let studies = 0;
  const openAndList = await best(ROUNDS, () => {
    const opened = openStudyDb(studyDbPath(coldData), { check: true });
    studies = new DbIndex(opened.db).patients().reduce((n, p) => n + p.studies.length, 0);
    opened.db.close();
  });
  if (studies !== INSTANCES / PER_STUDY) throw new Error(`listed ${studies} studies`);
  const openUnchecked = await best(ROUNDS, () => {
    const opened = openStudyDb(studyDbPath(coldData), { check: false });
    new DbIndex(opened.db).patients();
    opened.db.close();
  });
  // Until the study list is answered; the host's shutdown (workers, the start-up re-scan) is not part of a start.
  let hostStart = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    const host = createHost({ shell: 'test', dataDir: coldData, modelsDir: join(work, 'no-models') });
    const answer = await host.dispatch('dicom.studies', {});
    hostStart = Math.min(hostStart, (performance.now() - start) / 1000);
    if (!answer.ok || (answer.result as { patients: unknown[] }).patients.length === 0) throw new Error('no studies listed');
    await host.dispose();
  }
  const dbBytes = statSync(studyDbPath(coldData)).size;

  const line = (name: string, seconds: number, extra?: string) => `| ${name} | ${seconds.toFixed(3)} |${extra === undefined ? '' : ` ${extra} |`}`;
  console.log('# Study database\n');
  console.log(`Node ${process.version}, best of ${ROUNDS} rounds unless noted, warm page cache. Setup (generating files) ${setupSeconds.toFixed(1)} s.\n`);
  console.log(`## Import: ${FILES} CT files of ${SIZE}×${SIZE}, ${(importBytes / 1e6).toFixed(0)} MB\n`);
  console.log('| measurement | seconds | files/s |\n|---|---:|---:|');
  console.log(line('plain fs.readFileSync of every file (no parsing)', plain, (FILES / plain).toFixed(0)));
  console.log(line('importDicom into the study database (worker: scan, headers, batched writes, grouping)', imported, (FILES / imported).toFixed(0)));
  console.log(line('importDicom in memory only (no database), for reference', inMemory, (FILES / inMemory).toFixed(0)));
  console.log(`\nEnd to end into the database vs a plain read: ${(plain / imported).toFixed(2)}× (goal: above 1×).\n`);
  console.log(`## Cold start: ${INSTANCES} instances in ${INSTANCES / PER_STUDY} studies indexed (database ${(dbBytes / 1e6).toFixed(0)} MB)\n`);
  console.log('| measurement | seconds |\n|---|---:|');
  console.log(line('re-index into a new database (importDicom, 1 round)', reindexDb));
  console.log(line('re-index in memory (what every start did before the database, 1 round)', reindexMemory));
  console.log(line('open the database (quick check) and list every study', openAndList));
  console.log(line('the same without the quick check (what the check costs: the difference)', openUnchecked));
  console.log(line('createHost until dicom.studies is answered (the app start, all services)', hostStart));
  console.log(`\nCold start (createHost to a listed study browser) vs re-indexing in memory: ${(reindexMemory / hostStart).toFixed(1)}×; vs re-indexing into the database: ${(reindexDb / hostStart).toFixed(1)}× (goal: at least 20×).`);
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}

await main();
