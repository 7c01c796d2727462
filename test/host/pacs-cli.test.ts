// `medreasoner pacs …` and `medreasoner outbox …` against a real Orthanc, as a script
// would use them: exit codes, what they print, nodes by name, by dimse:// address and by
// URL, and sending while the PACS is down then flushing once it is back.
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOutboxCommand } from '../../electron/cli/commands/outbox-command.ts';
import { runPacsCommand } from '../../electron/cli/commands/pacs-command.ts';
import { withInflateBudget } from './deflate-bomb.ts';
import { listFilesRecursively, makeTempDir } from './fixtures-dicom.ts';
import { pydicomCompare } from './orthanc-dicom-compare.ts';
import { freePort, OrthancFixture } from './orthanc-fixture.ts';
import { LIVER_SEG, pydicomValues, requirePydicomFiles, storeStudyWithRefusedInstance, writeTestSeries, type TestSeries } from './orthanc-test-data.ts';

let orthanc: OrthancFixture;
let work: { path: string; remove: () => void };
let dataDir: string;
let series: TestSeries;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out: () => out.join('\n'), err: () => err.join('\n') };
}

async function pacs(...args: string[]) {
  const io = capture();
  const code = await runPacsCommand(args, io.io, { dataDir });
  return { code, out: io.out(), err: io.err() };
}

async function outbox(...args: string[]) {
  const io = capture();
  const code = await runOutboxCommand(args, io.io, { dataDir });
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  requirePydicomFiles();
  orthanc = await OrthancFixture.start();
  work = makeTempDir('pacs-cli');
  dataDir = path.join(work.path, 'home');
  series = writeTestSeries(path.join(work.path, 'sent'), 3, { patientId: 'PACS-CLI-1', patientName: 'Cli^Test', accessionNumber: 'ACC-CLI-1', studyDate: '20220202' });
  orthanc.storeWithDcmtk(series.files);
});

afterAll(async () => {
  await orthanc?.dispose();
  work?.remove();
});

describe('medreasoner pacs / outbox usage', () => {
  it('exits 2 with usage on missing or wrong arguments', async () => {
    expect((await pacs()).code).toBe(2);
    expect((await pacs('frobnicate')).code).toBe(2);
    expect((await pacs('find')).err).toContain('give a PACS node');
    expect((await pacs('echo', 'ftp://example.org')).code).toBe(2);
    expect((await pacs('find', 'dimse://ORTHANC@127.0.0.1:104', '--date', 'yesterday')).code).toBe(2);
    expect((await pacs('get', 'dimse://ORTHANC@127.0.0.1:104')).err).toContain('--study');
    expect((await pacs('send', 'dimse://ORTHANC@127.0.0.1:104')).code).toBe(2);
    expect((await pacs('echo', 'dimse://ORTHANC@127.0.0.1:104', '--bogus')).code).toBe(2);
    expect((await outbox()).code).toBe(2);
    expect((await outbox('frobnicate')).code).toBe(2);
    const help = await pacs('help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('dimse://CALLED_AET@host:port');
  });

  it('exits 1 for a node name that is not saved, naming the problem', async () => {
    const result = await pacs('echo', 'nowhere');
    expect(result.code).toBe(1);
    expect(result.err).toContain('No PACS node named "nowhere"');
  });
});

describe('medreasoner pacs against Orthanc', () => {
  it('saves nodes (secrets from the environment, never printed) and lists them', async () => {
    expect((await pacs('node', 'add', 'orthanc', `dimse://${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`)).code).toBe(0);
    process.env.MEDREASONER_TEST_TOKEN = 'token-that-must-not-print';
    try {
      const added = await pacs('node', 'add', 'web', orthanc.dicomwebUrl, '--token-env', 'MEDREASONER_TEST_TOKEN');
      expect(added.code, added.err).toBe(0);
    } finally {
      delete process.env.MEDREASONER_TEST_TOKEN;
    }
    const listed = await pacs('node', 'list', '--json');
    expect(listed.code).toBe(0);
    const parsed = JSON.parse(listed.out) as { nodes: { name: string; auth?: unknown }[] };
    expect(parsed.nodes.map((node) => node.name)).toEqual(['orthanc', 'web']);
    expect(parsed.nodes[1]!.auth).toEqual({ type: 'bearer', tokenSet: true });
    expect(listed.out).not.toContain('token-that-must-not-print');
    // Orthanc here has no authentication: a DICOMweb node without a token is what works.
    expect((await pacs('node', 'add', 'web-open', orthanc.dicomwebUrl)).code).toBe(0);
  });

  it('echoes by name and by address, and says precisely why a node does not answer', async () => {
    const byName = await pacs('echo', 'orthanc');
    expect(byName.code, byName.err).toBe(0);
    expect(byName.out).toContain('C-ECHO');
    expect((await pacs('echo', orthanc.dicomwebUrl)).code).toBe(0);
    const closed = await pacs('echo', `dimse://${orthanc.aet}@127.0.0.1:${await freePort()}`);
    expect(closed.code).toBe(1);
    expect(closed.err).toContain('[refused]');
    const stranger = await pacs('echo', `dimse://${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, '--aet', 'STRANGER');
    expect(stranger.code).toBe(1);
    expect(stranger.err).toContain('calling AE title not recognized');
  });

  it('finds with every key, as text and as JSON', async () => {
    const json = await pacs('find', 'web-open', '--patient', 'Cli^*', '--patient-id', 'PACS-CLI-1', '--modality', 'ct', '--date', '2022-02-01..2022-02-28', '--accession', 'ACC-CLI-1', '--json');
    expect(json.code, json.err).toBe(0);
    const found = JSON.parse(json.out) as { studies: { studyInstanceUid: string; patientName: string }[] };
    expect(found.studies.map((study) => study.studyInstanceUid)).toEqual([series.studyInstanceUid]);
    const text = await pacs('find', `dimse://${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, '--study', series.studyInstanceUid);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('Cli^Test');
    expect(text.out).toContain(series.seriesInstanceUid);
  });

  it('gets a series into a folder', async () => {
    const to = path.join(work.path, 'got');
    const result = await pacs('get', 'orthanc', '--study', series.studyInstanceUid, '--series', series.seriesInstanceUid, '--to', to);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain('Retrieved 3 instances by C-GET');
    const files = listFilesRecursively(to).filter((file) => !file.includes(`${path.sep}.incoming`));
    expect(files).toHaveLength(3);
    const report = pydicomCompare(series.files, files);
    expect(report.unmatched).toEqual([]);
    expect(report.differences).toEqual({});
    const none = await pacs('get', 'orthanc', '--study', '1.2.3.4.5.6.7.8.9.0.1', '--to', path.join(work.path, 'got-none'));
    expect(none.code).toBe(1);
  });

  it('gets a study by WADO-RS in which one instance is refused here: prints it with the reason, keeps the others, exits 1', async () => {
    const dir = path.join(work.path, 'partly-refused');
    const { good, refusedSop: bombSop } = await storeStudyWithRefusedInstance(orthanc, dir, 2, { patientId: 'PACS-CLI-3', patientName: 'Test^Patient', accessionNumber: 'ACC-CLI-3' });
    const to = path.join(work.path, 'got-partly');
    const result = await withInflateBudget(1, () => pacs('get', 'web-open', '--study', good.studyInstanceUid, '--to', to));
    expect(result.code, 'not everything arrived').toBe(1);
    expect(result.out).toMatch(/^Retrieved 2 instances by WADO-RS \(1 skipped\) in [\d.]+ s\./);
    expect(result.out).toContain('1 instance skipped (refused here):');
    expect(result.out).toMatch(new RegExp(`^  ${bombSop.replaceAll('.', '\\.')} \\(part [1-3]\\): the deflated data set inflates past 1 MB`, 'm'));
    expect(result.err).toBe('');
    const files = listFilesRecursively(to).filter((file) => !file.includes(`${path.sep}.incoming`));
    const report = pydicomCompare(good.files, files);
    expect(report.unmatched).toEqual([]);
    expect(report.differences).toEqual({});
    expect(files).toHaveLength(2);
  });

  it('sends a SEG and waits for its delivery', async () => {
    const result = await pacs('send', 'web-open', LIVER_SEG, '--wait', '20');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain('Queued 1 instance for web-open');
    expect(result.out).toContain('1 delivered');
    const seg = pydicomValues(LIVER_SEG, ['SOPInstanceUID']);
    expect(await orthanc.instanceId(seg.SOPInstanceUID!)).toBeDefined();
  });

  it('queues while the PACS is down (exit 0, saying what is pending and why), and outbox flush delivers once it is back', async () => {
    const pending = writeTestSeries(path.join(work.path, 'pending'), 2, { patientId: 'PACS-CLI-2', patientName: 'Cli^Pending', accessionNumber: 'ACC-CLI-2' });
    await orthanc.stop();
    try {
      const started = Date.now();
      const sent = await pacs('send', 'orthanc', path.dirname(pending.files[0]!), '--wait', '1');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(sent.code, sent.err).toBe(0);
      expect(sent.out).toContain('Queued 2 instances for orthanc');
      expect(sent.out).toContain('2 queued');
      expect(sent.out).toContain('[refused]');
      expect(sent.out).toContain('medreasoner outbox flush');
      const listed = await outbox('list', '--pending');
      expect(listed.code).toBe(0);
      expect(listed.out).toContain('queued');
      expect(listed.out).toContain('refused the connection');
      const json = JSON.parse((await outbox('list', '--json', '--pending')).out) as { items: { state: string; attempts: number; lastFailure: { code: string } }[] };
      expect(json.items.map((item) => [item.state, item.lastFailure.code])).toEqual([
        ['queued', 'refused'],
        ['queued', 'refused'],
      ]);
    } finally {
      await orthanc.restart();
    }
    const flushed = await outbox('flush');
    expect(flushed.code, flushed.err).toBe(0);
    expect(flushed.out).not.toContain('queued');
    const after = JSON.parse((await outbox('list', '--json')).out) as { items: { sopInstanceUid: string; state: string }[] };
    for (const uid of pending.sopInstanceUids) {
      expect(after.items.find((item) => item.sopInstanceUid === uid)?.state).toBe('delivered');
      expect(orthanc.storedLog().filter((stored) => stored === uid)).toHaveLength(1);
    }
    // The outbox folder holds records, and no copies of delivered files.
    const itemsDir = path.join(dataDir, 'outbox', 'items');
    for (const id of readdirSync(itemsDir)) expect(readdirSync(path.join(itemsDir, id))).toEqual(['state.json']);
  });
});
