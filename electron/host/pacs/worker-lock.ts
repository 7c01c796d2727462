// One deliverer per outbox folder. The app and a CLI `medreasoner pacs send` may run at
// once over the same data folder: both may queue, only the lock holder sends, so an
// item is never on the wire twice. A lock left by a process that died is taken over.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { linkExclusive } from '../atomic-file.ts';
import { isProcessAlive } from '../process-alive.ts';

interface LockContent {
  pid: number;
  hostname: string;
  token: string;
  startedAt: string;
}

/** Tokens of locks held by live objects in this process (several outboxes in one process, as in tests). */
const heldHere = new Set<string>();

export type LockAttempt = { acquired: true; release: () => Promise<void> } | { acquired: false; holderPid: number | null };

/**
 * A lock file without a readable owner is taken over only once it is this old: a lock
 * written by an older version (create, then write) is empty for a moment while its owner
 * lives; a crash in that moment leaves an empty file that nobody else would ever free.
 */
export const UNREADABLE_LOCK_GRACE_MS = 30_000;

export async function acquireWorkerLock(file: string): Promise<LockAttempt> {
  const content: LockContent = { pid: process.pid, hostname: os.hostname(), token: randomBytes(12).toString('hex'), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createWithContent(file, content)) {
      heldHere.add(content.token);
      return {
        acquired: true,
        release: async () => {
          heldHere.delete(content.token);
          const current = await readLock(file);
          if (current?.token === content.token) await rm(file, { force: true });
        },
      };
    }
    const holder = await readLock(file);
    if (holder && isHeld(holder)) return { acquired: false, holderPid: holder.pid };
    if (!holder && !(await unreadableForLong(file))) return { acquired: false, holderPid: null };
    // Stale (its process is gone) or long unreadable: move it aside rather than delete, so that
    // of two processes taking over at once only one finds it, then race on the exclusive create.
    const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
    } catch {
      continue; // another process moved it first
    }
    // Between our look and the move another process may have taken over and written a fresh
    // lock: that one is put back, not thrown away.
    const moved = await readLock(aside);
    if (moved && isHeld(moved)) {
      await link(aside, file).catch(() => {});
      await rm(aside, { force: true });
      return { acquired: false, holderPid: moved.pid };
    }
    await rm(aside, { force: true });
  }
  const holder = await readLock(file);
  return { acquired: false, holderPid: holder?.pid ?? null };
}

/**
 * Creates the lock with its content in one step (a hard link to a written temporary file),
 * so no other process ever reads it empty. File systems without hard links fall back to an
 * exclusive create and write.
 */
async function createWithContent(file: string, content: LockContent): Promise<boolean> {
  const temporary = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  await writeSynced(temporary, 'w', content);
  try {
    const linked = await linkExclusive(temporary, file);
    if (linked !== 'unsupported') return linked === 'linked';
  } finally {
    await rm(temporary, { force: true });
  }
  try {
    await writeSynced(file, 'wx', content);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function writeSynced(file: string, flags: 'w' | 'wx', content: LockContent): Promise<void> {
  const handle = await open(file, flags, 0o600);
  try {
    await handle.writeFile(JSON.stringify(content));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function unreadableForLong(file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
  } catch {
    return true; // gone: the next create decides
  }
}

function isHeld(lock: LockContent): boolean {
  if (lock.hostname !== os.hostname()) return true; // another machine's process: we cannot tell, so we defer
  if (lock.pid === process.pid) return heldHere.has(lock.token);
  return isProcessAlive(lock.pid);
}

async function readLock(file: string): Promise<LockContent | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContent>;
    if (typeof value.pid === 'number' && typeof value.token === 'string' && typeof value.hostname === 'string') return value as LockContent;
    return undefined;
  } catch {
    return undefined;
  }
}
