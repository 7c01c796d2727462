// WADO-RS answers with parts our store refuses, from a local HTTP server that writes
// the multipart answer itself: each refused part is skipped with its reason (its SOP
// Instance UID when it has one, else its part number) while the others are stored; a
// body cut short still ends the retrieve; the list of reasons is bounded. The same
// behaviour against a real Orthanc is in pacs-dicomweb.test.ts.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SKIPPED_LISTED, SkippedInstances } from '../../electron/common/contract-pacs.ts';
import { dicomwebRetrieve } from '../../electron/host/pacs/dicomweb.ts';
import { InstanceStore } from '../../electron/host/pacs/instance-store.ts';
import { ctSlice, listFilesRecursively, makeTempDir, writeDicom } from './fixtures-dicom.ts';
import { pydicomValues } from './orthanc-test-data.ts';

const STUDY = '1.2.826.0.1.3680043.8.498.91';
const SERIES = '1.2.826.0.1.3680043.8.498.91.1';
const BOUNDARY = 'skip-boundary';

const work = makeTempDir('wado-skipped');
/** What the server answers next: the raw multipart body. */
let nextBody: Buffer = Buffer.alloc(0);
let server: http.Server;
let target: { baseUrl: string; auth: { type: 'none' } };

function slice(sopUid: string): Buffer {
  const dir = path.join(work.path, 'slices');
  mkdirSync(dir, { recursive: true });
  return writeDicom(path.join(dir, `${sopUid}.dcm`), ctSlice({ studyUid: STUDY, seriesUid: SERIES, sopUid, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }));
}

function multipart(parts: Buffer[], options: { closed?: boolean } = {}): Buffer {
  const pieces = parts.flatMap((body) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), body, Buffer.from('\r\n')]);
  if (options.closed ?? true) pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

function storeAt(name: string): InstanceStore {
  return new InstanceStore(path.join(work.path, name));
}

function keptFiles(store: InstanceStore): string[] {
  return listFilesRecursively(store.root).filter((file) => !file.includes(`${path.sep}.incoming${path.sep}`));
}

beforeAll(async () => {
  server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
    response.end(nextBody);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = { baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/dicom-web`, auth: { type: 'none' } };
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  work.remove();
});

describe('WADO-RS parts our store refuses', () => {
  it('skips a part that is not DICOM (named by its part number) and stores the parts around it', async () => {
    const first = '1.2.826.0.1.3680043.8.498.91.1.1';
    const third = '1.2.826.0.1.3680043.8.498.91.1.3';
    nextBody = multipart([slice(first), Buffer.from('<html>this is not an instance</html>'), slice(third)]);
    const store = storeAt('not-dicom');
    const skippedSeen: unknown[] = [];
    const result = await dicomwebRetrieve(target, store, { studyInstanceUid: STUDY, onSkipped: (entry) => skippedSeen.push(entry) });
    expect(result).toMatchObject({ received: 2, cancelled: false, failure: null });
    expect(result.skipped).toEqual({ count: 1, instances: [{ sopInstanceUid: null, position: 2, reason: expect.stringContaining('not a DICOM Part 10 file') }] });
    expect(skippedSeen).toEqual(result.skipped.instances);
    const kept = keptFiles(store);
    expect(kept.map((file) => pydicomValues(file, ['SOPInstanceUID']).SOPInstanceUID).sort()).toEqual([first, third]);
    expect(readdirSync(path.join(store.root, '.incoming'))).toEqual([]);
  });

  it('skips an instance whose UID is that of a stored file it cannot be compared with, leaving that file untouched', async () => {
    const sop = '1.2.826.0.1.3680043.8.498.91.1.10';
    const store = storeAt('unreadable-stored');
    const storedPath = store.pathFor({ studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: sop });
    mkdirSync(path.dirname(storedPath), { recursive: true });
    writeFileSync(storedPath, 'damaged on disk');
    const other = '1.2.826.0.1.3680043.8.498.91.1.11';
    nextBody = multipart([slice(sop), slice(other)]);
    const result = await dicomwebRetrieve(target, store, { studyInstanceUid: STUDY });
    expect(result).toMatchObject({ received: 1, failure: null });
    expect(result.skipped.instances).toEqual([{ sopInstanceUid: sop, position: 1, reason: expect.stringContaining('cannot be read to compare with') }]);
    expect(readFileSync(storedPath, 'utf8')).toBe('damaged on disk');
    expect(keptFiles(store)).toHaveLength(2);
  });

  it('still ends with a failure when the body is cut before its closing boundary, reporting what it skipped before', async () => {
    const good = '1.2.826.0.1.3680043.8.498.91.1.20';
    nextBody = multipart([Buffer.from('not dicom'), slice(good)], { closed: false });
    const store = storeAt('cut-short');
    const result = await dicomwebRetrieve(target, store, { studyInstanceUid: STUDY });
    expect(result.failure).toMatchObject({ code: 'protocol', message: expect.stringContaining('ended before its closing boundary') });
    expect(result.skipped).toEqual({ count: 1, instances: [{ sopInstanceUid: null, position: 1, reason: expect.stringContaining('not a DICOM Part 10 file') }] });
  });

  it(`lists the first ${MAX_SKIPPED_LISTED} refusals with their reasons and counts the rest`, async () => {
    const parts = Array.from({ length: MAX_SKIPPED_LISTED + 5 }, (_, index) => Buffer.from(`junk part ${index + 1}`));
    const good = '1.2.826.0.1.3680043.8.498.91.1.30';
    nextBody = multipart([...parts, slice(good)]);
    const store = storeAt('many');
    const result = await dicomwebRetrieve(target, store, { studyInstanceUid: STUDY });
    expect(result).toMatchObject({ received: 1, failure: null });
    expect(result.skipped.count).toBe(MAX_SKIPPED_LISTED + 5);
    expect(result.skipped.instances.map((entry) => entry.position)).toEqual(Array.from({ length: MAX_SKIPPED_LISTED }, (_, index) => index + 1));
    // The bounded report is what the contract accepts.
    expect(SkippedInstances.parse(result.skipped)).toEqual(result.skipped);
  });
});
