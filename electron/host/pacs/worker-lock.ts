// One deliverer per outbox folder. The app and a CLI `medreasoner pacs send` may run at
// once over the same data folder: both may queue, only the lock holder sends, so an
// item is never on the wire twice. A lock left by a process that died is taken over.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { open, readFile, rename, rm } from 'node:fs/promises';
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

export async function acquireWorkerLock(file: string): Promise<LockAttempt> {
  const content: LockContent = { pid: process.pid, hostname: os.hostname(), token: randomBytes(12).toString('hex'), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(content));
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldHere.add(content.token);
      return {
        acquired: true,
        release: async () => {
          heldHere.delete(content.token);
          const current = await readLock(file);
          if (current?.token === content.token) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLock(file);
    if (holder && isHeld(holder)) return { acquired: false, holderPid: holder.pid };
    // Stale (its process is gone) or unreadable: move it aside rather than delete, so that of
    // two processes taking over at once only one finds it, then race on the exclusive create.
    const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await rename(file, aside);
      await rm(aside, { force: true });
    } catch {
      // another process moved it first
    }
  }
  const holder = await readLock(file);
  return { acquired: false, holderPid: holder?.pid ?? null };
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
