// The storage listener against hostile peers: where it binds, who it accepts (AE title
// and address: a second loopback address, 127.0.0.2, plays the peer elsewhere), PDU
// lengths refused at the header before anything is buffered, the connection cap, the
// quotas, deflate bombs over C-STORE and WADO-RS, and an instance that conflicts with a
// stored one. Peers are dcmtk's storescu, our own SCU, and a raw Upper Layer peer
// (raw-dicom-ul.ts) for what no well-behaved SCU would send.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPacsCommand } from '../../electron/cli/commands/pacs-command.ts';
import { DimseNode, ListenerSettings, pacsCalls, pacsEvents, type ListenerLimitsChange, type PacsEventName } from '../../electron/common/contract-pacs.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { dicomwebRetrieve } from '../../electron/host/pacs/dicomweb.ts';
import { dimseStore } from '../../electron/host/pacs/dimse-scu.ts';
import { InstanceStore } from '../../electron/host/pacs/instance-store.ts';
import { createPacsHandlers } from '../../electron/host/pacs/pacs-handlers.ts';
import { readPart10Header } from '../../electron/host/pacs/part10.ts';
import { PacsService } from '../../electron/host/pacs/pacs-service.ts';
import { PacsSettingsStore } from '../../electron/host/pacs/pacs-settings.ts';
import { conflictNotice } from '../../renderer/src/pacs/pacs-text.ts';
import { DEFLATED, deflatedCt } from './deflate-bomb.ts';
import { ctSlice, listFilesRecursively, makeTempDir, writeDicom } from './fixtures-dicom.ts';
import { freePort } from './orthanc-fixture.ts';
import { pydicomValues } from './orthanc-test-data.ts';
import { A_RELEASE_RQ, associateRq, pduHeader, RawPeer, rejectFields } from './raw-dicom-ul.ts';

const STORESCU = '/usr/bin/storescu';
const OUR_AET = 'MEDREASONER';
const MODALITY_AET = 'MODALITY';
const GIB = 1024 * 1024 * 1024;
const BUDGET_MB = 64;
/** Stated bound for a bomb (as in inflate-budget.test.ts): far below its 1 GiB, above the 64 MB budget plus copies. */
const BOMB_MEMORY_BOUND = 200 * 1024 * 1024;
/** Stated bound while a peer pushes 48 MiB behind a header announcing 1 GiB: nothing of it is held. */
const PDU_FLOOD_BYTES = 48 * 1024 * 1024;
const PDU_MEMORY_BOUND = 16 * 1024 * 1024;

const work = makeTempDir('listener-hardening');
const dataDir = path.join(work.path, 'app');
const logs: string[] = [];
const events: { event: PacsEventName; payload: unknown }[] = [];
let service: PacsService;
let port: number;
const previousBudget = process.env.MEDREASONER_MAX_INFLATE_MB;

beforeAll(async () => {
  port = await freePort();
  service = await PacsService.open({
    dataDir,
    log: (message) => logs.push(message),
    emit: (event, payload) => {
      // Every event as the renderer would receive it: valid against the contract.
      pacsEvents[event].parse(payload);
      events.push({ event, payload });
    },
  });
  await service.saveNode({ type: 'dimse', name: 'Modality', calledAet: MODALITY_AET, host: '127.0.0.1', port: 104 });
  process.env.MEDREASONER_MAX_INFLATE_MB = String(BUDGET_MB);
});

afterAll(async () => {
  await service?.close();
  work.remove();
  if (previousBudget === undefined) delete process.env.MEDREASONER_MAX_INFLATE_MB;
  else process.env.MEDREASONER_MAX_INFLATE_MB = previousBudget;
});

afterEach(async () => {
  await service.stopListener({ persist: false });
});

function start(limits?: ListenerLimitsChange) {
  return service.startListener({ port, ...(limits ? { limits } : {}) }, { persist: false });
}

/** The highest RSS growth seen while `work` runs, sampled every 20 ms (peak RSS of the process would remember earlier tests). */
async function rssGrowthDuring<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = process.memoryUsage().rss;
  let highest = before;
  const sampler = setInterval(() => {
    highest = Math.max(highest, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await work();
    highest = Math.max(highest, process.memoryUsage().rss);
    return { result, growth: highest - before };
  } finally {
    clearInterval(sampler);
  }
}

async function associate(callingAet: string, localAddress?: string) {
  const peer = await RawPeer.connect(port, localAddress ? { localAddress } : {});
  await peer.write(associateRq(callingAet, OUR_AET));
  return { peer, answer: await peer.readPdu() };
}

function storescu(callingAet: string, files: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(STORESCU, ['-v', '-aet', callingAet, '-aec', OUR_AET, '127.0.0.1', String(port), ...files], (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

function storedFiles(): string[] {
  return listFilesRecursively(path.join(dataDir, 'store')).filter((file) => !file.includes(`${path.sep}.incoming${path.sep}`));
}

let sliceCount = 0;
function slice(dir: string, overrides: { sopUid?: string; patientId?: string } = {}): { file: string; sopUid: string } {
  mkdirSync(dir, { recursive: true });
  const sopUid = overrides.sopUid ?? `1.2.826.0.1.3680043.8.498.77.${++sliceCount}`;
  const file = path.join(dir, `${sopUid}-${overrides.patientId ?? 'TEST-1'}.dcm`);
  writeDicom(
    file,
    ctSlice({ seriesUid: '1.2.826.0.1.3680043.8.498.77', sopUid, position: [0, 0, sliceCount], orientation: [1, 0, 0, 0, 1, 0], rows: 16, columns: 16, ...(overrides.patientId ? { patientId: overrides.patientId } : {}) }),
  );
  return { file, sopUid };
}

describe('PDU lengths, checked before anything is buffered', () => {
  // First in the file: the memory measured here is not mixed with the bombs'.
  it('refuses an A-ASSOCIATE-RQ announcing 1 GiB at its header, while the peer keeps pushing, without memory growth', async () => {
    await start();
    const { result, growth } = await rssGrowthDuring(async () => {
      const peer = await RawPeer.connect(port);
      await peer.write(pduHeader(0x01, GIB));
      const sent = await peer.flood(PDU_FLOOD_BYTES);
      const answer = await peer.readPdu();
      await peer.closedPromise;
      return { answer, sent };
    });
    expect(result.answer?.type, 'an A-ASSOCIATE-RJ').toBe(0x03);
    expect(rejectFields(result.answer!)).toEqual({ result: 1, source: 3, reason: 2 });
    expect(growth).toBeLessThan(PDU_MEMORY_BOUND);
    expect(logs.some((line) => /A-ASSOCIATE-RQ announces 1073741824 bytes, more than the 131072 we accept/.test(line))).toBe(true);
    // The listener goes on serving.
    const { peer, answer } = await associate(MODALITY_AET);
    expect(answer?.type, 'an A-ASSOCIATE-AC').toBe(0x02);
    peer.close();
  });

  it('aborts an association whose P-DATA-TF announces more than the maximum PDU length we negotiated, and a first PDU that is not a request', async () => {
    await start();
    const { peer, answer } = await associate(MODALITY_AET);
    expect(answer?.type).toBe(0x02);
    await peer.write(pduHeader(0x04, GIB));
    const abort = await peer.readPdu();
    expect(abort?.type, 'an A-ABORT').toBe(0x07);
    expect({ source: abort!.body[2], reason: abort!.body[3] }).toEqual({ source: 2, reason: 6 });
    await peer.closedPromise;
    expect(logs.some((line) => /P-DATA-TF announces 1073741824 bytes, more than the maximum PDU length of 262144/.test(line))).toBe(true);

    const early = await RawPeer.connect(port);
    await early.write(Buffer.concat([pduHeader(0x04, 10), Buffer.alloc(10)]));
    const unexpected = await early.readPdu();
    expect(unexpected?.type).toBe(0x07);
    expect({ source: unexpected!.body[2], reason: unexpected!.body[3] }).toEqual({ source: 2, reason: 2 });
    await early.closedPromise;
  });
});

describe('where the listener binds', () => {
  it('binds 127.0.0.1 unless the user sets an address, also when a C-MOVE starts it', async () => {
    expect(ListenerSettings.parse({}).bindAddress).toBe('127.0.0.1');
    const status = await start();
    expect(status.settings.bindAddress).toBe('127.0.0.1');
    // Bound to 127.0.0.1 itself, not every address: 127.0.0.2 (also this machine) finds nothing there.
    await expect(RawPeer.connect(port, { host: '127.0.0.2' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    (await RawPeer.connect(port)).close();
    await service.stopListener({ persist: false });

    const closedPort = await freePort();
    events.length = 0;
    const moved = await service.retrieve({
      jobId: 'move-bind',
      node: DimseNode.parse({ type: 'dimse', name: 'Nowhere', calledAet: 'NOWHERE', host: '127.0.0.1', port: closedPort, retrieveMethod: 'c-move' }),
      studyInstanceUid: '1.2.3',
    });
    expect(moved.failure?.code).toBe('refused');
    const whileMoving = events.filter((e) => e.event === 'listener.changed').map((e) => e.payload as { running: boolean; settings: { bindAddress: string } });
    expect(whileMoving.find((s) => s.running)?.settings.bindAddress).toBe('127.0.0.1');
  });

  it('takes another address only as an IP literal, from the settings, the contract and the CLI', async () => {
    expect(ListenerSettings.safeParse({ bindAddress: '0.0.0.0' }).success).toBe(true);
    expect(ListenerSettings.safeParse({ bindAddress: '::1' }).success).toBe(true);
    for (const bad of ['localhost', '0.0.0.0.1', '', 'eth0']) {
      expect(ListenerSettings.safeParse({ bindAddress: bad }).success, bad).toBe(false);
      expect(pacsCalls['listener.start'].params.safeParse({ bindAddress: bad }).success, `listener.start ${bad}`).toBe(false);
    }
    expect(pacsCalls['listener.start'].params.safeParse({ bindAddress: '192.168.10.4', limits: { maxConnections: 4 } }).success).toBe(true);
    expect(pacsCalls['listener.start'].params.safeParse({ limits: { maxConnections: 0 } }).success).toBe(false);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPacsCommand(['listen', '--bind', 'my-host', '--port', String(port)], { out: (s) => out.push(s), err: (s) => err.push(s) }, { dataDir });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--bind my-host: a bind address is an IPv4 or IPv6 address');
  });

  it('reads a version 1 settings file’s implicit 0.0.0.0 as the new default, and keeps an address the user typed', async () => {
    for (const [written, expected] of [
      ['0.0.0.0', '127.0.0.1'],
      ['10.1.2.3', '10.1.2.3'],
    ] as const) {
      const dir = path.join(work.path, `v1-${written}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'pacs-nodes.json'), JSON.stringify({ version: 1, nodes: [], listener: { aeTitle: 'MEDREASONER', port: 11112, bindAddress: written, enabled: false, acceptUnknownCallers: false } }));
      const settings = await new PacsSettingsStore(dir).load();
      expect(settings.listener.bindAddress).toBe(expected);
      expect(settings.version).toBe(2);
    }
  });
});

describe('who may store', () => {
  it("accepts a node's AE title from its address only: the same title from 127.0.0.2 and unknown titles get A-ASSOCIATE-RJ (calling AE not recognized)", async () => {
    await start();
    const home = await associate(MODALITY_AET);
    expect(home.answer?.type, 'A-ASSOCIATE-AC from the node’s address').toBe(0x02);
    await home.peer.write(A_RELEASE_RQ);
    expect((await home.peer.readPdu())?.type, 'A-RELEASE-RP').toBe(0x06);
    home.peer.close();

    const elsewhere = await associate(MODALITY_AET, '127.0.0.2');
    expect(elsewhere.answer?.type).toBe(0x03);
    expect(rejectFields(elsewhere.answer!)).toEqual({ result: 1, source: 1, reason: 3 });
    expect(logs.some((line) => line.includes(`${MODALITY_AET} called from 127.0.0.2, which is not the address of its node: Modality at 127.0.0.1 (127.0.0.1)`))).toBe(true);

    const stranger = await associate('STRANGER');
    expect(rejectFields(stranger.answer!)).toEqual({ result: 1, source: 1, reason: 3 });
    expect(logs.some((line) => line.includes('calling AE title STRANGER belongs to no configured DIMSE node'))).toBe(true);
    expect((await service.listenerStatus()).refused).toBeGreaterThanOrEqual(2);
  });

  it('resolves a node given by host name to its addresses (localhost: 127.0.0.1 and ::1)', async () => {
    await service.saveNode({ type: 'dimse', name: 'ByName', calledAet: 'BYNAME', host: 'localhost', port: 104 });
    try {
      await start();
      const home = await associate('BYNAME');
      expect(home.answer?.type).toBe(0x02);
      home.peer.close();
      const elsewhere = await associate('BYNAME', '127.0.0.2');
      expect(elsewhere.answer?.type).toBe(0x03);
    } finally {
      await service.removeNode('ByName');
    }
  });

  it('refuses the connection over the cap with a transient rejection (local limit exceeded), and serves again once one closes', async () => {
    await start({ maxConnections: 2 });
    const first = await associate(MODALITY_AET);
    const second = await associate(MODALITY_AET);
    expect([first.answer?.type, second.answer?.type]).toEqual([0x02, 0x02]);
    const third = await associate(MODALITY_AET);
    expect(third.answer?.type).toBe(0x03);
    expect(rejectFields(third.answer!)).toEqual({ result: 2, source: 3, reason: 2 });
    expect(logs.some((line) => line.includes('2 connections are open, the limit'))).toBe(true);
    first.peer.close();
    await first.peer.closedPromise;
    let again = await associate(MODALITY_AET);
    for (let tries = 0; again.answer?.type !== 0x02 && tries < 20; tries++) {
      again.peer.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await associate(MODALITY_AET);
    }
    expect(again.answer?.type).toBe(0x02);
    second.peer.close();
    again.peer.close();
  });
});

describe('quotas', () => {
  it('refuses instances past the per-association count (0xA700), then past the listener total', async () => {
    const dir = path.join(work.path, 'quota-count');
    const files = [slice(dir), slice(dir), slice(dir)];
    const before = storedFiles().length;
    await start({ maxAssociationInstances: 2 });
    const run = await storescu(MODALITY_AET, files.map((f) => f.file));
    expect(storedFiles().length - before).toBe(2);
    expect(run.output).toMatch(/Refused: OutOfResources/);
    expect(logs.some((line) => line.includes(`instance ${files[2]!.sopUid}`) && line.includes("the association's limit of 2 instances is reached"))).toBe(true);
    await service.stopListener({ persist: false });

    const more = [slice(dir), slice(dir)];
    await start({ maxTotalInstances: 1 });
    await storescu(MODALITY_AET, [more[0]!.file]);
    const second = await storescu(MODALITY_AET, [more[1]!.file]);
    expect(second.output).toMatch(/Refused: OutOfResources/);
    expect(storedFiles().length - before).toBe(3);
    expect(logs.some((line) => line.includes("the listener's limit of 1 instances since it started is reached"))).toBe(true);
  });

  it('stops storing an instance whose bytes pass the per-association byte quota, and keeps nothing of it', async () => {
    const { file, sopUid } = slice(path.join(work.path, 'quota-bytes'));
    const before = storedFiles().length;
    await start({ maxAssociationBytes: 256 });
    const run = await storescu(MODALITY_AET, [file]);
    expect(run.output).toMatch(/Refused: OutOfResources/);
    expect(storedFiles().length).toBe(before);
    expect(readdirSync(path.join(dataDir, 'store', '.incoming'))).toEqual([]);
    expect(logs.some((line) => line.includes(`instance ${sopUid}`) && line.includes("the association's limit of 256 bytes is exceeded"))).toBe(true);
  });
});

describe('decompression bombs from peers', () => {
  let bombFile: string;
  const bombSop = '1.2.826.0.1.3680043.8.498.66.1';
  beforeAll(async () => {
    const dir = path.join(work.path, 'bombs');
    mkdirSync(dir, { recursive: true });
    bombFile = path.join(dir, 'bomb.dcm');
    writeFileSync(bombFile, await deflatedCt(dir, bombSop, GIB, '1.2.826.0.1.3680043.8.498.66'));
  }, 120_000);

  it('a C-STORE of a deflated data set that inflates to 1 GiB is refused with the reason, memory bounded, nothing kept', async () => {
    await start();
    const bytes = readFileSync(bombFile);
    const before = storedFiles().length;
    const { result, growth } = await rssGrowthDuring(() =>
      dimseStore({ host: '127.0.0.1', port, calledAet: OUR_AET, callingAet: MODALITY_AET, tls: false }, [
        { path: bombFile, info: { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: bombSop, transferSyntaxUid: DEFLATED, datasetOffset: readPart10Header(bytes).datasetOffset } },
      ]),
    );
    expect(growth).toBeLessThan(BOMB_MEMORY_BOUND);
    expect(result[0]).toMatchObject({ delivered: false, failure: { code: 'dimse-status', dimseStatus: 0xa700 } });
    expect(JSON.stringify(result[0])).toContain(`inflates past ${BUDGET_MB} MB`);
    expect(logs.some((line) => line.includes(`instance ${bombSop}`) && line.includes(`the deflated data set inflates past ${BUDGET_MB} MB`))).toBe(true);
    expect(storedFiles().length).toBe(before);
    expect(readdirSync(path.join(dataDir, 'store', '.incoming'))).toEqual([]);
  });

  it('a WADO-RS part that inflates to 1 GiB is skipped with the reason (not a failure of the retrieve), memory bounded, nothing kept; a small deflated part is stored', async () => {
    const controlDir = path.join(work.path, 'wado-control');
    mkdirSync(controlDir, { recursive: true });
    const control = await deflatedCt(controlDir, '1.2.826.0.1.3680043.8.498.66.2', 16 * 16 * 2, '1.2.826.0.1.3680043.8.498.66');
    const bomb = readFileSync(bombFile);
    const boundary = 'bomb-boundary';
    const server = http.createServer((request, response) => {
      const body = request.url?.includes('/studies/1.2.3.4') ? control : bomb;
      response.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
      response.end(Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), body, Buffer.from(`\r\n--${boundary}--\r\n`)]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = { baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/dicom-web`, auth: { type: 'none' as const } };
    const store = new InstanceStore(path.join(work.path, 'wado-store'));
    try {
      const good = await dicomwebRetrieve(target, store, { studyInstanceUid: '1.2.3.4' });
      expect(good).toMatchObject({ received: 1, failure: null });

      const { result, growth } = await rssGrowthDuring(() => dicomwebRetrieve(target, store, { studyInstanceUid: '1.2.3.5' }));
      expect(growth).toBeLessThan(BOMB_MEMORY_BOUND);
      expect(result.received).toBe(0);
      expect(result.failure).toBeNull();
      expect(result.skipped.count).toBe(1);
      // Its UID comes from the file meta information: the data set is what was refused.
      expect(result.skipped.instances).toEqual([{ sopInstanceUid: bombSop, position: 1, reason: expect.stringContaining(`inflates past ${BUDGET_MB} MB`) }]);
      const kept = listFilesRecursively(store.root).filter((file) => !file.includes('.incoming'));
      expect(kept).toHaveLength(1);
      expect(readdirSync(path.join(store.root, '.incoming'))).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('an instance that conflicts with a stored one', () => {
  it('is kept beside the original (never over it, never in the index), recorded, reported and listed; identical re-sends change nothing', async () => {
    const dir = path.join(work.path, 'conflict');
    const original = slice(dir);
    const changed = slice(dir, { sopUid: original.sopUid, patientId: 'TEST-CHANGED' });
    await start();
    events.length = 0;
    expect((await storescu(MODALITY_AET, [original.file])).code).toBe(0);
    const stored = storedFiles().find((file) => file.endsWith(`${original.sopUid}.dcm`))!;
    const storedBytes = readFileSync(stored);

    // The same instance again: idempotent.
    expect((await storescu(MODALITY_AET, [original.file])).code).toBe(0);
    expect(await service.conflicts()).toEqual([]);

    const run = await storescu(MODALITY_AET, [changed.file]);
    expect(run.code, run.output).toBe(0);
    expect(readFileSync(stored).equals(storedBytes), 'the stored file is untouched').toBe(true);
    expect(pydicomValues(stored, ['PatientID']).PatientID).toBe('TEST-1');
    const conflicts = await service.conflicts();
    expect(conflicts).toHaveLength(1);
    const [conflict] = conflicts;
    expect(conflict).toMatchObject({ sopInstanceUid: original.sopUid, originalPath: stored, source: MODALITY_AET });
    expect(conflict!.reason).toMatch(/differs from the stored one/);
    expect(pydicomValues(conflict!.conflictPath, ['PatientID', 'SOPInstanceUID'])).toEqual({ PatientID: 'TEST-CHANGED', SOPInstanceUID: original.sopUid });
    expect(conflict!.conflictPath.startsWith(path.join(dataDir, 'conflicts') + path.sep)).toBe(true);
    expect(events.filter((e) => e.event === 'listener.conflict').map((e) => e.payload)).toEqual([conflict]);
    expect(logs.some((line) => line.includes(`instance ${original.sopUid} from ${MODALITY_AET} differs from the stored one; kept at ${conflict!.conflictPath}`))).toBe(true);
    expect((await service.listenerStatus()).conflicts).toBe(1);
    // What the study browser's notice says on listener.conflict.
    expect(conflictNotice(conflict!)).toContain(`from ${MODALITY_AET} has the SOP Instance UID ${original.sopUid} of a stored instance but different content`);
    expect(conflictNotice(conflict!)).toContain(conflict!.conflictPath);

    // The changed copy again: recorded once.
    await storescu(MODALITY_AET, [changed.file]);
    expect(await service.conflicts()).toHaveLength(1);

    // The index (what the viewer shows) keeps the original: the conflict is outside the store it scans.
    const indexed = await importDicom({ paths: [path.join(dataDir, 'store')] });
    const entry = indexed.files.find((file) => file.path === stored);
    expect(entry).toMatchObject({ outcome: 'instance' });
    expect(indexed.files.filter((file) => file.outcome === 'problem' && /duplicate/.test(JSON.stringify(file)))).toEqual([]);

    // Through the contract: the renderer's listener.conflicts and listener.status.
    const handlers = createPacsHandlers({ dataDir, emit: () => {}, importFiles: () => Promise.reject(new Error('not in this test')) });
    try {
      const listed = pacsCalls['listener.conflicts'].result.parse(await handlers.handlers['listener.conflicts'](pacsCalls['listener.conflicts'].params.parse({})));
      expect(listed.conflicts).toEqual([conflict]);
      const status = pacsCalls['listener.status'].result.parse(await handlers.handlers['listener.status']({}));
      expect(status.conflicts).toBe(1);
    } finally {
      await handlers.dispose();
    }

    const out: string[] = [];
    const code = await runPacsCommand(['conflicts'], { out: (s) => out.push(s), err: () => {} }, { dataDir });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(original.sopUid);
    expect(text).toContain(`stored:   ${stored}`);
    expect(text).toContain(`received: ${conflict!.conflictPath}`);
  });
});
