// DIMSE against a real Orthanc: C-ECHO (and its precise failures), C-FIND, C-GET and
// C-MOVE of a series (the files compared with what Orthanc holds and with the originals),
// cancel, a SEG sent through the outbox and read back, and the storage listener.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsCalls, type DimseNode, type RetrieveProgress } from '../../electron/common/contract-pacs.ts';
import { readPart10Header } from '../../electron/host/pacs/part10.ts';
import { PacsService } from '../../electron/host/pacs/pacs-service.ts';
import { listFilesRecursively, makeTempDir } from './fixtures-dicom.ts';
import { pydicomCompare, pydicomDifferences } from './orthanc-dicom-compare.ts';
import { freePort, OrthancFixture } from './orthanc-fixture.ts';
import { LIVER_SEG, MR_SMALL, pydicomValues, recordingImporter, requirePydicomFiles, writeTestSeries, type TestSeries } from './orthanc-test-data.ts';

let orthanc: OrthancFixture;
let service: PacsService;
let work: { path: string; remove: () => void };
let series: TestSeries;
let node: DimseNode;
let listenerPort: number;
const importer = recordingImporter();

function datasetBytes(file: Buffer): Buffer {
  return file.subarray(readPart10Header(file).datasetOffset);
}

/** Each retrieved file: the same attributes as what was sent (pydicom), the same data set bytes as Orthanc's copy. */
async function expectSameAsSent(retrievedFiles: string[], originals: string[]): Promise<void> {
  const report = pydicomCompare(originals, retrievedFiles);
  expect(report.unmatched, 'retrieved instances we did not send').toEqual([]);
  expect(report.differences).toEqual({});
  expect(new Set(Object.values(report.sopOf)).size).toBe(originals.length);
  for (const file of retrievedFiles) {
    const orthancCopy = await orthanc.instanceFile(report.sopOf[file]!);
    expect(datasetBytes(readFileSync(file)).equals(datasetBytes(orthancCopy)), `${file}: data set differs from Orthanc's copy`).toBe(true);
  }
}

beforeAll(async () => {
  requirePydicomFiles();
  listenerPort = await freePort();
  orthanc = await OrthancFixture.start({
    modalities: { app: { aet: 'MEDREASONER', port: listenerPort }, storescu: { aet: 'STORESCU', port: 104 } },
  });
  work = makeTempDir('pacs-dimse');
  series = writeTestSeries(path.join(work.path, 'sent'), 5, { patientId: 'PACS-DIMSE-1', patientName: 'Dimse^Test', accessionNumber: 'ACC-DIMSE-1', studyDate: '20240315' });
  orthanc.storeWithDcmtk([...series.files, MR_SMALL]);
  service = await PacsService.open({ dataDir: path.join(work.path, 'app'), importFiles: importer.importFiles });
  await service.settings.saveListener({ port: listenerPort, bindAddress: '127.0.0.1' });
  await service.saveNode({ type: 'dimse', name: 'Orthanc', calledAet: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort });
  node = (await service.settings.node('orthanc')) as DimseNode;
});

afterAll(async () => {
  await service?.close();
  await orthanc?.dispose();
  work?.remove();
});

describe('DIMSE C-ECHO', () => {
  it('succeeds against Orthanc with our registered AE title', async () => {
    const result = await service.test(node);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('reports a refused connection when nothing listens on the port', async () => {
    const result = await service.test({ ...node, port: await freePort() });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.code).toBe('refused');
  });

  it('reports the association rejection with the reason Orthanc gave', async () => {
    const stranger = await service.test({ ...node, callingAet: 'STRANGER' });
    expect(stranger.ok).toBe(false);
    if (!stranger.ok) {
      expect(stranger.failure.code).toBe('association-rejected');
      expect(stranger.failure.rejection).toEqual({ result: 'permanent', source: 'service user', reason: 'calling AE title not recognized' });
    }
    const wrongCalled = await service.test({ ...node, calledAet: 'NOT-ORTHANC' });
    expect(wrongCalled.ok).toBe(false);
    if (!wrongCalled.ok) expect(wrongCalled.failure.rejection?.reason).toBe('called AE title not recognized');
  });
});

describe('DIMSE C-FIND', () => {
  it('finds the seeded study by patient name (wildcard), patient ID, modality, date range and accession', async () => {
    const queries = [
      { patientName: 'Dimse^*' },
      { patientId: 'PACS-DIMSE-1' },
      { modality: 'CT', studyDate: '20240301-20240331' },
      { accessionNumber: 'ACC-DIMSE-1' },
    ];
    for (const query of queries) {
      const result = await service.find(node, query, 100);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) continue;
      expect(result.studies.map((study) => study.studyInstanceUid), JSON.stringify(query)).toEqual([series.studyInstanceUid]);
      const [study] = result.studies;
      expect(study).toMatchObject({ patientName: 'Dimse^Test', patientId: 'PACS-DIMSE-1', studyDate: '20240315', accessionNumber: 'ACC-DIMSE-1', modalities: ['CT'], instanceCount: 5 });
    }
  });

  it('matches nothing outside the date range, and lists every study without keys', async () => {
    const none = await service.find(node, { studyDate: '20990101-' }, 100);
    expect(none.ok && none.studies).toEqual([]);
    const all = await service.find(node, {}, 100);
    const mr = pydicomValues(MR_SMALL, ['StudyInstanceUID', 'PatientID']);
    expect(all.ok && all.studies.map((study) => study.studyInstanceUid).sort()).toEqual([series.studyInstanceUid, mr.StudyInstanceUID].sort());
  });

  it('lists the series of a study named by UID', async () => {
    const result = await service.find(node, { studyInstanceUid: series.studyInstanceUid }, 100);
    expect(result.ok && result.series).toEqual([
      { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid, modality: 'CT', seriesNumber: 3, seriesDescription: 'synthetic', instanceCount: 5 },
    ]);
  });

  it('stops at the limit and says so', async () => {
    const result = await service.find(node, {}, 1);
    expect(result.ok && result.studies.length).toBe(1);
    expect(result.ok && result.truncated).toBe(true);
  });
});

describe('DIMSE retrieve', () => {
  const originals = () => series.files;

  it('C-GETs a series into the store with progress, and hands it to the importer as one viewable series', async () => {
    const progress: RetrieveProgress[] = [];
    const result = await service.retrieve({
      jobId: 'get-1',
      node,
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      onProgress: (update) => progress.push(update),
    });
    expect(result).toMatchObject({ method: 'c-get', cancelled: false, received: 5, failed: 0, failure: null });
    expect(result.folders).toEqual([path.join(work.path, 'app', 'store', series.studyInstanceUid, series.seriesInstanceUid)]);
    const files = listFilesRecursively(result.folders[0]!);
    expect(files).toHaveLength(5);
    await expectSameAsSent(files, originals());
    expect(progress.at(-1)).toMatchObject({ phase: 'done', received: 5 });
    expect(progress.some((update) => update.phase === 'importing')).toBe(true);
    // "View it": the importer got the folder and made one 5-slice CT series of it, in slice order.
    const imported = importer.outcomes.at(-1)!;
    expect(imported.paths).toEqual(result.folders);
    expect(imported.outcome.series).toHaveLength(1);
    expect(imported.outcome.series[0]!.summary).toMatchObject({ seriesInstanceUid: series.seriesInstanceUid, sliceCount: 5, kind: 'image' });
    expect(imported.outcome.series[0]!.slices.map((slice) => slice.sopInstanceUid)).toEqual(series.sopInstanceUids);
    expect(result.import).toMatchObject({ jobId: 'get-1', instancesAdded: 5 });
  });

  it('C-MOVEs a series to our storage listener (started for the move, stopped after)', async () => {
    const result = await service.retrieve({
      jobId: 'move-1',
      node: { ...node, retrieveMethod: 'c-move' },
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
    });
    expect(result).toMatchObject({ method: 'c-move', cancelled: false, received: 5, failed: 0, failure: null });
    await expectSameAsSent(listFilesRecursively(result.folders[0]!), originals());
    expect((await service.listenerStatus()).running).toBe(false);
  });

  it('a series retrieved again (C-MOVE into another folder) is the same instances: no conflict, and the store keeps its copies', async () => {
    const inStore = listFilesRecursively(path.join(work.path, 'app', 'store')).filter((file) => file.includes(series.seriesInstanceUid));
    expect(inStore).toHaveLength(5);
    const before = inStore.map((file) => readFileSync(file));
    const to = path.join(work.path, 'moved-again');
    const result = await service.retrieve({
      jobId: 'move-2',
      node: { ...node, retrieveMethod: 'c-move' },
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      storeRoot: to,
    });
    expect(result).toMatchObject({ received: 5, failure: null });
    await expectSameAsSent(listFilesRecursively(to), originals());
    expect(inStore.map((file) => readFileSync(file)), 'the app store is untouched').toEqual(before);
    expect(await service.conflicts()).toEqual([]);
  });

  it('cancels a retrieve promptly, before or during the transfer, and imports nothing', async () => {
    const importsBefore = importer.outcomes.length;
    for (const cancelAt of ['connecting', 'receiving'] as const) {
      const controller = new AbortController();
      const started = Date.now();
      const result = await service.retrieve({
        jobId: `get-cancel-${cancelAt}`,
        node,
        studyInstanceUid: series.studyInstanceUid,
        signal: controller.signal,
        onProgress: (update) => {
          if (update.phase === cancelAt) controller.abort();
        },
      });
      expect(result, cancelAt).toMatchObject({ cancelled: true, failure: null, import: null });
      if (cancelAt === 'connecting') expect(result.received).toBe(0);
      expect(Date.now() - started, cancelAt).toBeLessThan(5000);
    }
    expect(importer.outcomes.length).toBe(importsBefore);
  });

  it('brings nothing and imports nothing for a study the PACS does not have', async () => {
    const result = await service.retrieve({ jobId: 'get-none', node, studyInstanceUid: '1.2.3.4.5.6.7.8.9' });
    expect(result.received).toBe(0);
    expect(result.import).toBeNull();
  });
});

describe('DIMSE retrieve of an instance our store refuses', () => {
  it('C-GET skips it with the reason and keeps the others (the PACS counts it failed, the result once, as skipped); C-MOVE names it too', async () => {
    const partly = writeTestSeries(path.join(work.path, 'partly-refused'), 3, { patientId: 'PACS-DIMSE-2', patientName: 'Dimse^Refused', accessionNumber: 'ACC-DIMSE-2' });
    orthanc.storeWithDcmtk(partly.files);
    // A file already at the victim's place that no parser reads: the store may neither replace it nor compare with it.
    const victim = partly.sopInstanceUids[1]!;
    const damaged = service.store.pathFor({ studyInstanceUid: partly.studyInstanceUid, seriesInstanceUid: partly.seriesInstanceUid, sopInstanceUid: victim });
    mkdirSync(path.dirname(damaged), { recursive: true });
    writeFileSync(damaged, 'damaged on disk');
    const request = { studyInstanceUid: partly.studyInstanceUid, seriesInstanceUid: partly.seriesInstanceUid };
    const skippedVictim = { sopInstanceUid: victim, position: expect.any(Number), reason: expect.stringContaining('cannot be read to compare with') };

    const progress: RetrieveProgress[] = [];
    const got = await service.retrieve({ jobId: 'get-refused', node, ...request, onProgress: (update) => progress.push(update) });
    pacsCalls['pacs.retrieve'].result.parse(got);
    expect(got).toMatchObject({ method: 'c-get', cancelled: false, received: 2, failed: 0, failure: null, skipped: { count: 1, instances: [skippedVictim] } });
    expect(got.skipped.instances[0]!.position).toBeLessThanOrEqual(3);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', received: 2, failed: 0, skipped: 1 });

    // Orthanc (1.10) ends a C-MOVE at its first failed sub-operation, with 0xC000: what came before the victim arrived,
    // and the victim is named with our reason rather than counted as a failure at the PACS.
    const moved = await service.retrieve({ jobId: 'move-refused', node: { ...node, retrieveMethod: 'c-move' }, ...request });
    pacsCalls['pacs.retrieve'].result.parse(moved);
    expect(moved).toMatchObject({ method: 'c-move', cancelled: false, failed: 0, skipped: { count: 1, instances: [skippedVictim] } });
    expect(moved.received).toBe(moved.skipped.instances[0]!.position - 1);
    expect(moved.failure === null || moved.failure.dimseStatus === 0xc000, JSON.stringify(moved.failure)).toBe(true);

    expect(readFileSync(damaged, 'utf8')).toBe('damaged on disk');
    const others = listFilesRecursively(got.folders[0]!).filter((file) => file !== damaged);
    await expectSameAsSent(others, partly.files.filter((_, index) => index !== 1));
  });
});

describe('DIMSE send through the outbox', () => {
  it('delivers a real SEG by C-STORE, and Orthanc holds the same content', async () => {
    const sent = await service.send({ name: 'Orthanc' }, [LIVER_SEG]);
    expect(sent.skipped).toEqual([]);
    expect(sent.queued).toHaveLength(1);
    const listing = await service.outbox.flush();
    const item = listing.items.find((entry) => entry.id === sent.queued[0]!.id)!;
    expect(item).toMatchObject({ state: 'delivered', attempts: 1, confirmedBy: 'store-response', lastFailure: null });
    const seg = pydicomValues(LIVER_SEG, ['SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID']);
    expect(item.sopInstanceUid).toBe(seg.SOPInstanceUID);
    const held = path.join(work.path, 'orthanc-seg.dcm');
    writeFileSync(held, await orthanc.instanceFile(seg.SOPInstanceUID!));

    // And back again over C-GET: the same SEG (compared together with Orthanc's copy, in one pydicom run).
    const back = await service.retrieve({ jobId: 'get-seg', node, studyInstanceUid: seg.StudyInstanceUID!, seriesInstanceUid: seg.SeriesInstanceUID! });
    expect(back).toMatchObject({ received: 1, failure: null });
    const [file] = listFilesRecursively(back.folders[0]!);
    const report = pydicomCompare([LIVER_SEG], [held, file!]);
    expect(report.unmatched).toEqual([]);
    expect(report.differences).toEqual({});
    expect(importer.outcomes.at(-1)!.outcome.series[0]!.summary.kind).toBe('SEG');
  });
});

describe('storage listener', () => {
  it('stores what a modality pushes (dcmtk storescu) and refuses callers it does not know', async () => {
    const status = await service.startListener({ port: listenerPort, bindAddress: '127.0.0.1' });
    try {
      expect(status).toMatchObject({ running: true, error: null });
      // Asynchronously: the listener runs in this process and must keep answering meanwhile.
      const push = (callingAet: string) =>
        new Promise<{ status: number | null; stderr: string }>((resolve) => {
          execFile('/usr/bin/storescu', ['-aet', callingAet, '-aec', 'MEDREASONER', '--required', '127.0.0.1', String(listenerPort), MR_SMALL], (error, _stdout, stderr) =>
            resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
          );
        });
      const refused = await push('UNKNOWN-AE');
      expect(refused.status, refused.stderr).not.toBe(0);
      expect(refused.stderr).toMatch(/Calling AE Title Not Recognized/i);
      const accepted = await push(orthanc.aet);
      expect(accepted.status, accepted.stderr).toBe(0);
      const mr = pydicomValues(MR_SMALL, ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID']);
      const stored = path.join(work.path, 'app', 'store', mr.StudyInstanceUID!, mr.SeriesInstanceUID!, `${mr.SOPInstanceUID}.dcm`);
      expect(pydicomDifferences(MR_SMALL, stored)).toEqual([]);
      expect((await service.listenerStatus()).received).toBe(1);
    } finally {
      await service.stopListener();
    }
    expect((await service.settings.load()).listener.enabled).toBe(false);
  });

  it('says why it cannot start when the port is taken', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(service.startListener({ port, bindAddress: '127.0.0.1' })).rejects.toThrow(/in use/);
      expect((await service.listenerStatus()).error).toMatch(/in use/);
    } finally {
      blocker.close();
      await service.stopListener();
    }
  });
});
