// DICOMweb against a real Orthanc (with its DICOMweb plugin, behind HTTP basic auth):
// the QIDO-RS "test connection" and its precise failures, QIDO-RS queries, WADO-RS
// retrieval of a series (files identical to Orthanc's), cancel, a study with an instance
// our store refuses (skipped with its reason, the others kept), and a SEG sent by STOW-RS
// through the outbox and read back.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsCalls, type DicomwebNode, type RetrieveProgress } from '../../electron/common/contract-pacs.ts';
import { readPart10Header } from '../../electron/host/pacs/part10.ts';
import { PacsService } from '../../electron/host/pacs/pacs-service.ts';
import { DEFLATED, withInflateBudget } from './deflate-bomb.ts';
import { listFilesRecursively, makeTempDir } from './fixtures-dicom.ts';
import { pydicomCompare, pydicomDifferences } from './orthanc-dicom-compare.ts';
import { freePort, OrthancFixture } from './orthanc-fixture.ts';
import { LIVER_SEG, MR_SMALL, pydicomValues, recordingImporter, requirePydicomFiles, storeStudyWithRefusedInstance, writeTestSeries, type TestSeries } from './orthanc-test-data.ts';

const USER = 'alice';

function readPart10TransferSyntax(file: Buffer): string {
  return readPart10Header(file).transferSyntaxUid;
}
const PASSWORD = 'wonderland-7f3a';

let orthanc: OrthancFixture;
let service: PacsService;
let work: { path: string; remove: () => void };
let series: TestSeries;
let node: DicomwebNode;
const importer = recordingImporter();

beforeAll(async () => {
  requirePydicomFiles();
  orthanc = await OrthancFixture.start({ users: { [USER]: PASSWORD } });
  work = makeTempDir('pacs-dicomweb');
  series = writeTestSeries(path.join(work.path, 'sent'), 4, { patientId: 'PACS-WEB-1', patientName: 'Web^Test', accessionNumber: 'ACC-WEB-1', studyDate: '20230704' });
  orthanc.storeWithDcmtk([...series.files, MR_SMALL]);
  service = await PacsService.open({ dataDir: path.join(work.path, 'app'), importFiles: importer.importFiles });
  await service.saveNode({ type: 'dicomweb', name: 'Orthanc web', baseUrl: orthanc.dicomwebUrl, auth: { type: 'basic', username: USER, password: PASSWORD } });
  node = (await service.settings.node('Orthanc web')) as DicomwebNode;
});

afterAll(async () => {
  await service?.close();
  await orthanc?.dispose();
  work?.remove();
});

describe('DICOMweb test connection (QIDO-RS)', () => {
  it('succeeds with the right credentials', async () => {
    const result = await service.test(node);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('reports HTTP 401 with a wrong password, and never repeats the password', async () => {
    const result = await service.test({ ...node, auth: { type: 'basic', username: USER, password: 'not-the-password' } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.failure).toMatchObject({ code: 'http-status', httpStatus: 401 });
      expect(JSON.stringify(result)).not.toContain('not-the-password');
    }
  });

  it('reports HTTP 404 for a wrong base URL and a refused connection for a closed port', async () => {
    const wrongPath = await service.test({ ...node, baseUrl: `${orthanc.baseUrl}/no-such-root` });
    expect(!wrongPath.ok && wrongPath.failure.httpStatus).toBe(404);
    const closed = await service.test({ ...node, baseUrl: `http://127.0.0.1:${await freePort()}/dicom-web` });
    expect(!closed.ok && closed.failure.code).toBe('refused');
  });

  it('keeps the saved password out of what the renderer sees', async () => {
    const { viewOfNode } = await import('../../electron/host/pacs/pacs-settings.ts');
    const view = viewOfNode(node);
    expect(view.type === 'dicomweb' && view.auth).toEqual({ type: 'basic', username: USER, passwordSet: true });
    expect(JSON.stringify(view)).not.toContain(PASSWORD);
  });
});

describe('DICOMweb query (QIDO-RS)', () => {
  it('finds the seeded study by each key, with its series when the study is named', async () => {
    for (const query of [{ patientName: 'Web^*' }, { patientId: 'PACS-WEB-1' }, { modality: 'CT', studyDate: '20230701-20230731' }, { accessionNumber: 'ACC-WEB-1' }]) {
      const result = await service.find(node, query, 50);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect(result.ok && result.studies.map((study) => study.studyInstanceUid), JSON.stringify(query)).toEqual([series.studyInstanceUid]);
      expect(result.ok && result.studies[0]).toMatchObject({ patientName: 'Web^Test', studyDate: '20230704', modalities: ['CT'], instanceCount: 4 });
    }
    const withSeries = await service.find(node, { studyInstanceUid: series.studyInstanceUid }, 50);
    expect(withSeries.ok && withSeries.series).toEqual([
      { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid, modality: 'CT', seriesNumber: 3, seriesDescription: 'synthetic', instanceCount: 4 },
    ]);
    const all = await service.find(node, {}, 50);
    const mr = pydicomValues(MR_SMALL, ['StudyInstanceUID']);
    expect(all.ok && all.studies.map((study) => study.studyInstanceUid).sort()).toEqual([series.studyInstanceUid, mr.StudyInstanceUID].sort());
  });
});

describe('DICOMweb retrieve (WADO-RS)', () => {
  it('retrieves a series file by file, identical to what Orthanc holds, and imports it', async () => {
    const result = await service.retrieve({ jobId: 'wado-1', node, studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid });
    expect(result).toMatchObject({ method: 'wado-rs', cancelled: false, received: 4, failure: null });
    const files = listFilesRecursively(result.folders[0]!);
    expect(files).toHaveLength(4);
    const report = pydicomCompare(series.files, files);
    expect(report.unmatched).toEqual([]);
    expect(report.differences).toEqual({});
    for (const file of files) {
      // WADO-RS with transfer-syntax=* hands over the stored file itself.
      expect(readFileSync(file).equals(await orthanc.instanceFile(report.sopOf[file]!)), file).toBe(true);
    }
    const imported = importer.outcomes.at(-1)!.outcome;
    expect(imported.series[0]!.summary).toMatchObject({ seriesInstanceUid: series.seriesInstanceUid, sliceCount: 4 });
    expect(imported.series[0]!.slices.map((slice) => slice.sopInstanceUid)).toEqual(series.sopInstanceUids);
  });

  it('cancels promptly and imports nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = importer.outcomes.length;
    const result = await service.retrieve({ jobId: 'wado-cancel', node, studyInstanceUid: series.studyInstanceUid, signal: controller.signal });
    expect(result).toMatchObject({ cancelled: true, failure: null, import: null });
    expect(importer.outcomes.length).toBe(before);
  });

  it('reports the HTTP status when the credentials are wrong', async () => {
    const result = await service.retrieve({
      jobId: 'wado-401',
      node: { ...node, auth: { type: 'bearer', token: 'nonsense' } },
      studyInstanceUid: series.studyInstanceUid,
    });
    expect(result.failure).toMatchObject({ code: 'http-status', httpStatus: 401 });
    expect(result.received).toBe(0);
  });
});

describe('WADO-RS of a study with an instance our store refuses', () => {
  it('receives the good instances, skips the refused one with the reason naming the limit, and the retrieve is not a failure', async () => {
    const dir = path.join(work.path, 'partly-refused');
    // The kind of bomb the hardening tests use, small enough for Orthanc to take, against a budget of 1 MB here.
    const { good, refusedSop: bombSop } = await storeStudyWithRefusedInstance(orthanc, dir, 3, { patientId: 'PACS-WEB-2', patientName: 'Test^Patient', accessionNumber: 'ACC-WEB-2' });
    expect(readPart10TransferSyntax(await orthanc.instanceFile(bombSop)), 'Orthanc holds the deflated instance as sent').toBe(DEFLATED);

    const progress: RetrieveProgress[] = [];
    const result = await withInflateBudget(1, () =>
      service.retrieve({ jobId: 'wado-skip', node, studyInstanceUid: good.studyInstanceUid, onProgress: (update) => progress.push(update) }),
    );

    // What the renderer would receive: valid against the contract.
    pacsCalls['pacs.retrieve'].result.parse(result);
    expect(result).toMatchObject({ method: 'wado-rs', cancelled: false, received: 3, failed: 0, failure: null });
    expect(result.skipped.count).toBe(1);
    const [skipped] = result.skipped.instances;
    expect(skipped).toMatchObject({ sopInstanceUid: bombSop, reason: expect.stringContaining('inflates past 1 MB') });
    expect(skipped!.position, 'its part in the 4-part answer').toBeGreaterThanOrEqual(1);
    expect(skipped!.position).toBeLessThanOrEqual(4);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', received: 3, skipped: 1, failed: 0 });

    // The three good files, as pydicom reads them, and nothing of the refused one.
    const folder = path.join(work.path, 'app', 'store', good.studyInstanceUid, good.seriesInstanceUid);
    expect(result.folders).toEqual([folder]);
    const files = listFilesRecursively(folder);
    expect(files).toHaveLength(3);
    const report = pydicomCompare(good.files, files);
    expect(report.unmatched).toEqual([]);
    expect(report.differences).toEqual({});
    expect(listFilesRecursively(path.join(work.path, 'app', 'store')).filter((file) => file.includes(bombSop))).toEqual([]);
    expect(readdirSync(path.join(work.path, 'app', 'store', '.incoming'))).toEqual([]);
    // In the index: one series of the three good slices.
    const imported = importer.outcomes.at(-1)!.outcome;
    expect(imported.series).toHaveLength(1);
    expect(imported.series[0]!.summary).toMatchObject({ seriesInstanceUid: good.seriesInstanceUid, sliceCount: 3 });
    expect(imported.series[0]!.slices.map((slice) => slice.sopInstanceUid)).toEqual(good.sopInstanceUids);
    expect(result.import).toMatchObject({ jobId: 'wado-skip', instancesAdded: 3 });
  });
});

describe('DICOMweb send (STOW-RS) through the outbox', () => {
  it('delivers a real SEG, and WADO-RS brings back the same content', async () => {
    const sent = await service.send({ name: 'orthanc web' }, [LIVER_SEG]);
    expect(sent.queued).toHaveLength(1);
    const listing = await service.outbox.flush();
    expect(listing.items.find((item) => item.id === sent.queued[0]!.id)).toMatchObject({ state: 'delivered', attempts: 1, confirmedBy: 'store-response' });
    const seg = pydicomValues(LIVER_SEG, ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID']);
    const back = await service.retrieve({ jobId: 'wado-seg', node, studyInstanceUid: seg.StudyInstanceUID!, seriesInstanceUid: seg.SeriesInstanceUID! });
    expect(back).toMatchObject({ received: 1, failure: null });
    const [file] = listFilesRecursively(back.folders[0]!);
    expect(pydicomDifferences(LIVER_SEG, file!)).toEqual([]);
    expect(orthanc.storedLog().filter((uid) => uid === seg.SOPInstanceUID)).toHaveLength(1);
  });
});
