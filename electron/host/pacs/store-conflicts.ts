// Instances that arrived with the SOP Instance UID of a stored one but other bytes. The
// stored file and its index entry stay as they are (what a reader has seen must not change
// under them: a patient-safety matter); the newcomer is kept in <dir>/<study>/<series>/,
// outside the folders the index scans, and a line in <dir>/conflicts.jsonl says what,
// when, from whom and why, for the CLI (`medreasoner pacs conflicts`) and listener.conflicts.
import { appendFile, chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { StoreConflict } from '../../common/contract-pacs.ts';
import { mkdirPrivate, PRIVATE_FILE_MODE } from '../atomic-file.ts';

export const CONFLICTS_LOG = 'conflicts.jsonl';

export class StoreConflicts {
  readonly dir: string;
  readonly log: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.log = path.join(this.dir, CONFLICTS_LOG);
  }

  async record(conflict: StoreConflict): Promise<void> {
    await mkdirPrivate(this.dir);
    await appendFile(this.log, `${JSON.stringify(conflict)}\n`, { mode: PRIVATE_FILE_MODE });
    await chmod(this.log, PRIVATE_FILE_MODE);
  }

  /** Oldest first; a line that does not parse (a write cut by a crash) is skipped. */
  async list(): Promise<StoreConflict[]> {
    let text: string;
    try {
      text = await readFile(this.log, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const conflicts: StoreConflict[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const parsed = StoreConflict.safeParse(JSON.parse(line));
        if (parsed.success) conflicts.push(parsed.data);
      } catch {
        // a torn last line
      }
    }
    return conflicts;
  }
}
