// A second process on the study database, for the crash and two-writer tests:
//   db-child.ts <dbPath> <folder> [killAfterBatches]
// imports the folder into the database; with killAfterBatches it SIGKILLs itself right
// after that many committed batches, as a crash or `kill -9` would, having written the
// number of files committed to <dbPath>.committed.
import { writeFileSync } from 'node:fs';
import { runDbImport } from '../../electron/host/db/db-import.ts';
import { openStudyDb } from '../../electron/host/db/study-db.ts';

const [dbPath, folder, killAfter] = process.argv.slice(2) as [string, string, string | undefined];
openStudyDb(dbPath).db.close();
const limit = killAfter === undefined ? Infinity : Number(killAfter);
const outcome = runDbImport(dbPath, [folder], {
  onBatchCommitted: (batches, filesCommitted) => {
    if (batches < limit) return;
    writeFileSync(`${dbPath}.committed`, String(filesCommitted));
    process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write(`${JSON.stringify({ files: outcome.files.length, ...outcome.stored })}\n`);
