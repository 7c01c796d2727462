// The outbox's edge cases: an outcome that cannot be saved (disk full) does not leave an
// item 'sending' until the next start-up; a lock file without a readable owner is not
// stale while it is fresh, and concurrent takers never both hold the lock; concurrent
// enqueues of one instance queue it once. The PACS is a stub transport.
import { utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimseNode, type PacsNode } from '../../electron/common/contract-pacs.ts';
import { Outbox, type OutboxTransport } from '../../electron/host/pacs/outbox.ts';
import type { OutboxRecord } from '../../electron/host/pacs/outbox-store.ts';
import { acquireWorkerLock, UNREADABLE_LOCK_GRACE_MS } from '../../electron/host/pacs/worker-lock.ts';
import { ctSlice, makeTempDir, writeDicom } from './fixtures-dicom.ts';

const work = makeTempDir('outbox-hardening');
const node: PacsNode = DimseNode.parse({ type: 'dimse', name: 'Stub', calledAet: 'STUB', host: '127.0.0.1', port: 104 });
let source: string;

beforeAll(() => {
  source = path.join(work.path, 'ct.dcm');
  writeDicom(source, ctSlice({ studyUid: '1.2.99.1', seriesUid: '1.2.99.1.1', sopUid: '1.2.99.1.1.1', rows: 8, columns: 8, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }));
});
afterAll(() => work.remove());

function stubTransport(): OutboxTransport & { stored: string[]; asked: string[] } {
  const stored: string[] = [];
  const asked: string[] = [];
  return {
    stored,
    asked,
    store: async (_node, items) => {
      for (const item of items) stored.push(item.info.sopInstanceUid);
      return items.map(() => ({ delivered: true as const, status: 0 }));
    },
    hasInstance: async (_node, instance) => {
      asked.push(instance.sopInstanceUid);
      return { found: stored.includes(instance.sopInstanceUid), failure: null };
    },
  };
}

describe('outbox hardening', () => {
  it("an outcome that cannot be written does not leave the item 'sending': the next pass settles it without sending twice", async () => {
    const transport = stubTransport();
    const outbox = await Outbox.open({ dir: path.join(work.path, 'outbox-full'), resolveNode: async () => node, transport, autoStart: false });
    try {
      const { queued } = await outbox.enqueue({ kind: 'saved', name: 'Stub' }, 'disk full', [source]);
      // The disk fills up after the send: the write of the outcome fails once.
      const store = Reflect.get(outbox, 'store') as { write: (record: OutboxRecord) => Promise<void> };
      const write = store.write.bind(store);
      let failures = 0;
      store.write = async (record) => {
        if (record.state === 'delivered' && failures === 0) {
          failures++;
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        return write(record);
      };
      await outbox.flush().catch(() => {});
      expect(failures).toBe(1);
      expect((await outbox.list()).items.map((item) => item.state)).toEqual(['sending']);

      const after = await outbox.flush();
      expect(after.items.map((item) => [item.id, item.state, item.confirmedBy])).toEqual([[queued[0]!.id, 'delivered', 'pacs-query']]);
      expect(transport.stored).toEqual(['1.2.99.1.1.1']); // asked, not sent again
      expect(transport.asked).toEqual(['1.2.99.1.1.1']);
    } finally {
      await outbox.close();
    }
  });

  it('concurrent enqueues of the same instance queue it once', async () => {
    const outbox = await Outbox.open({ dir: path.join(work.path, 'outbox-twice'), resolveNode: async () => node, transport: stubTransport(), autoStart: false });
    try {
      const results = await Promise.all([1, 2, 3, 4].map((n) => outbox.enqueue({ kind: 'saved', name: 'Stub' }, `call ${n}`, [source])));
      const ids = new Set(results.flatMap((result) => result.queued.map((item) => item.id)));
      expect(ids.size).toBe(1);
      expect((await outbox.list()).items).toHaveLength(1);
    } finally {
      await outbox.close();
    }
  });

  it('a fresh empty lock file is not stale; a long-empty one is taken over', async () => {
    const lock = path.join(work.path, 'empty.lock');
    writeFileSync(lock, '');
    const fresh = await acquireWorkerLock(lock);
    expect(fresh).toEqual({ acquired: false, holderPid: null });
    const old = (Date.now() - UNREADABLE_LOCK_GRACE_MS - 5000) / 1000;
    utimesSync(lock, old, old);
    const later = await acquireWorkerLock(lock);
    expect(later.acquired).toBe(true);
    if (later.acquired) await later.release();
  });

  it('of many concurrent takers exactly one holds the lock (nobody reads it empty)', async () => {
    for (let round = 0; round < 5; round++) {
      const lock = path.join(work.path, `race-${round}.lock`);
      const attempts = await Promise.all(Array.from({ length: 6 }, () => acquireWorkerLock(lock)));
      const holders = attempts.filter((attempt) => attempt.acquired);
      expect(holders, `round ${round}`).toHaveLength(1);
      for (const holder of holders) if (holder.acquired) await holder.release();
    }
  });

  it('a lock whose owner is gone is taken over', async () => {
    const lock = path.join(work.path, 'dead.lock');
    // A pid far above any pid_max: no such process.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 30, hostname: hostname(), token: 'dead', startedAt: new Date().toISOString() }));
    const attempt = await acquireWorkerLock(lock);
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) await attempt.release();
  });
});
