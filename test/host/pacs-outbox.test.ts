// The outbox against a real Orthanc, through faults: the PACS down while items are queued
// (calls stay prompt, items wait with their reason, backoff grows), the PACS and the app
// restarted (every item delivered exactly once, counted by Orthanc's own store log), an
// attempt that may have reached the PACS (checked by SOP Instance UID, not resent), the app
// killed mid-send, a permanent refusal, and two outboxes over one folder.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxItemView, PacsNode } from '../../electron/common/contract-pacs.ts';
import { Outbox, OutboxBusyError, pacsTransport, type OutboxTransport } from '../../electron/host/pacs/outbox.ts';
import { pacsFailure } from '../../electron/host/pacs/pacs-failure.ts';
import { PacsService } from '../../electron/host/pacs/pacs-service.ts';
import { makeTempDir } from './fixtures-dicom.ts';
import { OrthancFixture } from './orthanc-fixture.ts';
import { requirePydicomFiles, writeTestSeries } from './orthanc-test-data.ts';

const NODE_BINARY = path.resolve(import.meta.dirname, '../../node_modules/.bin/node');
const FAST_BACKOFF = { initialMs: 300, maxMs: 2000 };

let orthanc: OrthancFixture;
let work: { path: string; remove: () => void };
let dimseNode: PacsNode;
let webNode: PacsNode;

function seriesOf(count: number, label: string) {
  return writeTestSeries(path.join(work.path, 'data', label), count, { patientId: `OUTBOX-${label}`, patientName: `Outbox^${label}`, accessionNumber: label });
}

async function openService(dataDir: string, transport?: OutboxTransport): Promise<PacsService> {
  const service = await PacsService.open({ dataDir, outbox: { backoff: FAST_BACKOFF, ...(transport ? { transport } : {}) } });
  if (!(await service.settings.node('dimse'))) {
    await service.saveNode(dimseNode.type === 'dimse' ? { ...dimseNode } : dimseNode);
    await service.saveNode({ type: 'dicomweb', name: 'web', baseUrl: orthanc.dicomwebUrl });
  }
  return service;
}

function timesStored(sopInstanceUid: string): number {
  return orthanc.storedLog().filter((uid) => uid === sopInstanceUid).length;
}

beforeAll(async () => {
  requirePydicomFiles();
  orthanc = await OrthancFixture.start();
  work = makeTempDir('pacs-outbox');
  dimseNode = { type: 'dimse', name: 'dimse', calledAet: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort, callingAet: 'MEDREASONER', tls: false, retrieveMethod: 'c-get' };
  webNode = { type: 'dicomweb', name: 'web', baseUrl: orthanc.dicomwebUrl, auth: { type: 'none' } };
});

afterAll(async () => {
  await orthanc?.dispose();
  work?.remove();
});

describe('outbox with the PACS down, then the PACS and the app restarted', () => {
  it('keeps the app responsive and the items waiting with their reason, then delivers each exactly once', async () => {
    const dataDir = path.join(work.path, 'restart-app');
    const overDimse = seriesOf(3, 'down-dimse');
    const overWeb = seriesOf(3, 'down-web');
    let service = await openService(dataDir);
    await orthanc.stop();

    let started = Date.now();
    const queuedDimse = await service.send({ name: 'dimse' }, [path.dirname(overDimse.files[0]!)]);
    const queuedWeb = await service.send({ name: 'web' }, overWeb.files);
    expect(Date.now() - started, 'queueing waits for nothing').toBeLessThan(2000);
    expect(queuedDimse.queued.map((item) => item.sopInstanceUid).sort()).toEqual([...overDimse.sopInstanceUids].sort());
    expect(queuedWeb.queued).toHaveLength(3);

    started = Date.now();
    let listing = await service.outbox.flush();
    expect(Date.now() - started, 'a flush against a stopped PACS answers promptly').toBeLessThan(3000);
    expect(listing.items).toHaveLength(6);
    for (const item of listing.items) {
      expect(item).toMatchObject({ state: 'queued', attempts: 1, uncertain: false });
      expect(item.lastFailure?.code, JSON.stringify(item.lastFailure)).toBe('refused');
      expect(Date.parse(item.nextAttemptAt!)).toBeGreaterThan(Date.parse(item.lastAttemptAt!));
    }
    const firstWait = waitOf(listing.items[0]!);

    // The rest of the app keeps working meanwhile: a query fails fast with the same reason.
    started = Date.now();
    const query = await service.find(dimseNode, {}, 10);
    expect(!query.ok && query.failure.code).toBe('refused');
    expect(Date.now() - started).toBeLessThan(2000);

    listing = await service.outbox.flush();
    expect(listing.items.every((item) => item.state === 'queued' && item.attempts === 2)).toBe(true);
    expect(waitOf(listing.items[0]!), 'the wait grows after each failure').toBeGreaterThan(firstWait);
    await service.close(); // the app quits with everything still queued

    await orthanc.restart();
    expect(await orthanc.instanceCount()).toBe(0);
    service = await openService(dataDir); // the app starts again over the same folder
    expect((await service.outbox.list()).items.map((item) => item.state)).toEqual(Array(6).fill('queued'));
    listing = await service.outbox.flush();
    try {
      expect(listing.items.map((item) => [item.state, item.confirmedBy])).toEqual(Array(6).fill(['delivered', 'store-response']));
      expect(await orthanc.instanceCount()).toBe(6);
      for (const uid of [...overDimse.sopInstanceUids, ...overWeb.sopInstanceUids]) expect(timesStored(uid), uid).toBe(1);
      // Delivered items keep their record, not their copy of the file.
      for (const item of listing.items) expect(existsSync(service.outbox.store.payloadPath(item.id))).toBe(false);
      // Flushing again sends nothing again.
      await service.outbox.flush();
      expect(orthanc.storedLog()).toHaveLength(6);
    } finally {
      await service.close();
    }
  });
});

function waitOf(item: OutboxItemView): number {
  return Date.parse(item.nextAttemptAt!) - Date.parse(item.lastAttemptAt!);
}

describe('delivered once when an attempt may have reached the PACS', () => {
  for (const which of ['dimse', 'web'] as const) {
    it(`asks the PACS (${which}) for the SOP Instance UID instead of sending again`, async () => {
      const data = seriesOf(1, `uncertain-${which}`);
      let storeCalls = 0;
      // Delivers for real, then reports the connection lost before the answer: the PACS has it, we cannot know.
      const lossy: OutboxTransport = {
        hasInstance: pacsTransport.hasInstance,
        store: async (node, items) => {
          storeCalls++;
          const outcomes = await pacsTransport.store(node, items);
          expect(outcomes.every((outcome) => outcome.delivered)).toBe(true);
          return items.map(() => ({ delivered: false, failure: pacsFailure('connection-lost', 'lost after sending'), uncertain: true }));
        },
      };
      const service = await openService(path.join(work.path, `uncertain-${which}`), lossy);
      try {
        const { queued } = await service.send({ name: which }, data.files);
        let item = (await service.outbox.flush()).items.find((entry) => entry.id === queued[0]!.id)!;
        expect(item).toMatchObject({ state: 'queued', uncertain: true, attempts: 1 });
        expect(timesStored(data.sopInstanceUids[0]!)).toBe(1);
        item = (await service.outbox.flush()).items.find((entry) => entry.id === queued[0]!.id)!;
        expect(item).toMatchObject({ state: 'delivered', confirmedBy: 'pacs-query' });
        expect(storeCalls, 'not sent a second time').toBe(1);
        expect(timesStored(data.sopInstanceUids[0]!)).toBe(1);
      } finally {
        await service.close();
      }
    });
  }

  it('recovers after the app was killed mid-send: finds the instance at the PACS, sends nothing twice', async () => {
    const data = seriesOf(2, 'killed');
    const outboxDir = path.join(work.path, 'killed-app', 'outbox');
    const child = await new Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
      const run = execFile(
        NODE_BINARY,
        [path.join(import.meta.dirname, 'orthanc-outbox-crash-child.ts'), outboxDir, JSON.stringify(dimseNode), ...data.files],
        (error, stdout, stderr) => resolve({ signal: run.signalCode ?? (error as { signal?: NodeJS.Signals } | null)?.signal ?? null, stdout, stderr }),
      );
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stdout).toContain('queued');
    for (const uid of data.sopInstanceUids) expect(timesStored(uid)).toBe(1);

    const outbox = await Outbox.open({ dir: outboxDir, resolveNode: async () => undefined, backoff: FAST_BACKOFF });
    try {
      expect(outbox.delivering, 'the dead process left its lock; it is taken over').toBe(true);
      const recovered = (await outbox.list()).items;
      expect(recovered.map((item) => [item.state, item.uncertain])).toEqual([
        ['queued', true],
        ['queued', true],
      ]);
      const listing = await outbox.flush();
      expect(listing.items.map((item) => [item.state, item.confirmedBy])).toEqual([
        ['delivered', 'pacs-query'],
        ['delivered', 'pacs-query'],
      ]);
      for (const uid of data.sopInstanceUids) expect(timesStored(uid), uid).toBe(1);
    } finally {
      await outbox.close();
    }
  });
});

describe('outbox states and rules', () => {
  it('stops on a permanent refusal with its reason, and delivers after the node is fixed and the item retried', async () => {
    const data = seriesOf(1, 'refused');
    const service = await openService(path.join(work.path, 'refusal-app'));
    try {
      await service.saveNode({ ...dimseNode, name: 'misconfigured', calledAet: 'NOT-ORTHANC' } as PacsNode);
      const { queued } = await service.send({ name: 'misconfigured' }, data.files);
      let item = (await service.outbox.flush()).items.find((entry) => entry.id === queued[0]!.id)!;
      expect(item.state).toBe('failed');
      expect(item.lastFailure?.rejection?.reason).toBe('called AE title not recognized');
      expect(item.nextAttemptAt).toBeNull();
      // A failed item is not retried by itself.
      item = (await service.outbox.flush()).items.find((entry) => entry.id === queued[0]!.id)!;
      expect(item).toMatchObject({ state: 'failed', attempts: 1 });

      await service.saveNode({ ...dimseNode, name: 'misconfigured' } as PacsNode);
      await service.outbox.retry([item.id]);
      item = (await service.outbox.flush()).items.find((entry) => entry.id === queued[0]!.id)!;
      expect(item).toMatchObject({ state: 'delivered', attempts: 2 });
      expect(timesStored(data.sopInstanceUids[0]!)).toBe(1);
    } finally {
      await service.close();
    }
  });

  it('queues one item per instance and node, and skips what is not DICOM with the reason', async () => {
    const data = seriesOf(2, 'dedupe');
    const notDicom = path.join(work.path, 'notes.txt');
    writeFileSync(notDicom, 'not a DICOM file');
    const service = await openService(path.join(work.path, 'dedupe-app'));
    try {
      await orthanc.stop();
      const first = await service.send({ name: 'dimse' }, data.files);
      const second = await service.send({ name: 'dimse' }, [...data.files, notDicom]);
      expect(second.queued.map((item) => item.id).sort()).toEqual(first.queued.map((item) => item.id).sort());
      expect(second.skipped).toEqual([{ path: notDicom, reason: expect.stringMatching(/not a DICOM Part 10 file/) }]);
      expect((await service.outbox.list()).items).toHaveLength(2);
      // Another node is another delivery.
      await service.send({ name: 'web' }, data.files);
      expect((await service.outbox.list()).items).toHaveLength(4);
    } finally {
      await service.close();
      await orthanc.restart();
    }
  });

  it('lets only one outbox object deliver a folder; the other queues and sees states', async () => {
    const data = seriesOf(1, 'two-owners');
    const dir = path.join(work.path, 'shared-outbox');
    const resolveNode = async () => undefined;
    const first = await Outbox.open({ dir, resolveNode });
    const second = await Outbox.open({ dir, resolveNode });
    try {
      expect(first.delivering).toBe(true);
      expect(second.delivering).toBe(false);
      const { queued } = await second.enqueue({ kind: 'inline', node: webNode }, 'web', data.files);
      await expect(second.flush()).rejects.toBeInstanceOf(OutboxBusyError);
      await first.flush();
      const seen = (await second.list()).items.find((item) => item.id === queued[0]!.id);
      expect(seen?.state).toBe('delivered');
      await first.close();
      // The lock is free now: the other one takes over on its next try.
      await second.flush();
      expect(second.delivering).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
