// The PACS calls as the renderer will make them: params and results through the
// contract's schemas (contract-pacs.ts), events checked against theirs, against a real
// Orthanc. This is what the UI (configure a node, query, retrieve, view, send) stands on.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsCalls, pacsEvents, type PacsCallName, type PacsCallParams, type PacsCallResult, type PacsEventName } from '../../electron/common/contract-pacs.ts';
import { HostError } from '../../electron/host/dispatch.ts';
import { createPacsHandlers, type PacsHandlers } from '../../electron/host/pacs/pacs-handlers.ts';
import { makeTempDir } from './fixtures-dicom.ts';
import { freePort, OrthancFixture } from './orthanc-fixture.ts';
import { LIVER_SEG, recordingImporter, requirePydicomFiles, writeTestSeries, type TestSeries } from './orthanc-test-data.ts';

let orthanc: OrthancFixture;
let work: { path: string; remove: () => void };
let pacs: PacsHandlers;
let series: TestSeries;
let listenerPort: number;
const events: { event: PacsEventName; payload: unknown }[] = [];
const importer = recordingImporter();

/** What dispatch will do once the lead merges pacsCalls: validate params, run, and (here) validate the result too. */
async function call<M extends PacsCallName>(method: M, params: PacsCallParams<M>): Promise<PacsCallResult<M>> {
  const parsed = pacsCalls[method].params.parse(params);
  const handler = pacs.handlers[method] as (p: unknown) => Promise<unknown>;
  return pacsCalls[method].result.parse(await handler(parsed)) as PacsCallResult<M>;
}

beforeAll(async () => {
  requirePydicomFiles();
  listenerPort = await freePort();
  orthanc = await OrthancFixture.start({ modalities: { app: { aet: 'MEDREASONER', port: listenerPort }, storescu: { aet: 'STORESCU', port: 104 } } });
  work = makeTempDir('pacs-handlers');
  series = writeTestSeries(path.join(work.path, 'sent'), 3, { patientId: 'PACS-UI-1', patientName: 'Ui^Test', accessionNumber: 'ACC-UI-1' });
  orthanc.storeWithDcmtk(series.files);
  pacs = createPacsHandlers({
    dataDir: path.join(work.path, 'app'),
    emit: (event, payload) => {
      pacsEvents[event].parse(payload);
      events.push({ event, payload });
    },
    importFiles: importer.importFiles,
    seriesFiles: (key) => (key === 'seg-series' ? [LIVER_SEG] : undefined),
    outbox: { backoff: { initialMs: 300, maxMs: 1000 } },
  });
  await pacs.ready;
});

afterAll(async () => {
  await pacs?.dispose();
  await orthanc?.dispose();
  work?.remove();
});

describe('PACS calls through the contract', () => {
  it('configures nodes: save, list (no secrets), test, rename, remove', async () => {
    const saved = await call('pacs.nodes.save', { node: { type: 'dimse', name: 'Orthanc', calledAet: orthanc.aet, host: '127.0.0.1', port: orthanc.dicomPort } });
    expect(saved.nodes.map((node) => node.name)).toEqual(['Orthanc']);
    const web = await call('pacs.nodes.save', { node: { type: 'dicomweb', name: 'Web', baseUrl: orthanc.dicomwebUrl, auth: { type: 'bearer', token: 'tok-123-secret' } } });
    expect(JSON.stringify(web)).not.toContain('tok-123-secret');
    expect(web.nodes[1]).toMatchObject({ auth: { type: 'bearer', tokenSet: true } });
    // Not readable back through the contract, but in the settings file (owner-only) for delivery.
    expect(readFileSync(path.join(work.path, 'app', 'pacs-nodes.json'), 'utf8')).toContain('tok-123-secret');
    await call('pacs.nodes.save', { node: { type: 'dicomweb', name: 'Web', baseUrl: orthanc.dicomwebUrl, auth: { type: 'none' } } });

    expect(await call('pacs.nodes.test', { node: { name: 'orthanc' } })).toMatchObject({ ok: true });
    const unsaved = await call('pacs.nodes.test', { node: { node: { type: 'dimse', name: 'Draft', calledAet: 'WRONG', host: '127.0.0.1', port: orthanc.dicomPort } } });
    expect(unsaved.ok === false && unsaved.failure.code).toBe('association-rejected');

    await call('pacs.nodes.save', { node: { type: 'dimse', name: 'Temp', calledAet: 'X', host: 'example.org', port: 104 } });
    const renamed = await call('pacs.nodes.save', { node: { type: 'dimse', name: 'Temp2', calledAet: 'X', host: 'example.org', port: 104 }, originalName: 'Temp' });
    expect(renamed.nodes.map((node) => node.name)).toEqual(['Orthanc', 'Web', 'Temp2']);
    const removed = await call('pacs.nodes.remove', { name: 'temp2' });
    expect(removed.nodes.map((node) => node.name)).toEqual(['Orthanc', 'Web']);
    await expect(call('pacs.nodes.remove', { name: 'nope' })).rejects.toBeInstanceOf(HostError);
    await expect(call('pacs.nodes.test', { node: { name: 'nope' } })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('queries, then retrieves a series with progress events and imports it; cancelling an unknown job says so', async () => {
    const found = await call('pacs.find', { node: { name: 'Orthanc' }, query: { patientId: 'PACS-UI-1', studyInstanceUid: series.studyInstanceUid } });
    expect(found.ok && found.studies.map((study) => study.patientName)).toEqual(['Ui^Test']);
    expect(found.ok && found.series.map((entry) => entry.seriesInstanceUid)).toEqual([series.seriesInstanceUid]);
    const before = events.length;
    const result = await call('pacs.retrieve', { jobId: 'ui-get', node: { name: 'Web' }, studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid });
    expect(result).toMatchObject({ method: 'wado-rs', received: 3, cancelled: false, failure: null, import: { instancesAdded: 3 } });
    const progress = events.slice(before).filter((entry) => entry.event === 'pacs.retrieveProgress').map((entry) => entry.payload as { phase: string; total: number | null });
    expect(progress[0]).toMatchObject({ phase: 'connecting' });
    expect(progress.some((update) => update.total === 3), 'the expected count, from QIDO-RS').toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'done' });
    expect(await call('pacs.cancelRetrieve', { jobId: 'no-such-job' })).toEqual({ cancelled: false });
    const failing = await call('pacs.find', { node: { node: { type: 'dimse', name: 'Down', calledAet: 'X', host: '127.0.0.1', port: await freePort() } }, query: {} });
    expect(failing.ok === false && failing.failure.code).toBe('refused');
  });

  it('sends an indexed series through the outbox, with outbox.changed events, and lists its state', async () => {
    const before = events.length;
    const sent = await call('pacs.send', { node: { name: 'Orthanc' }, seriesKeys: ['seg-series'] });
    expect(sent.queued).toHaveLength(1);
    const item = sent.queued[0]!;
    // Delivered in the background (the handlers run the outbox as the app does).
    let listing = await call('outbox.list', {});
    for (let waited = 0; listing.items.find((entry) => entry.id === item.id)?.state !== 'delivered' && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      listing = await call('outbox.list', {});
    }
    expect(listing.delivering).toBe(true);
    expect(listing.items.find((entry) => entry.id === item.id)).toMatchObject({ state: 'delivered', node: 'Orthanc', modality: 'SEG' });
    const states = events
      .slice(before)
      .filter((entry) => entry.event === 'outbox.changed')
      .flatMap((entry) => (entry.payload as { items: { id: string; state: string }[] }).items)
      .filter((entry) => entry.id === item.id)
      .map((entry) => entry.state);
    expect(states).toEqual(['queued', 'sending', 'delivered']);
    await expect(call('pacs.send', { node: { name: 'Orthanc' }, seriesKeys: ['unknown'] })).rejects.toMatchObject({ code: 'not-found' });
    const flushed = await call('outbox.flush', {});
    expect(flushed.items.every((entry) => entry.state === 'delivered')).toBe(true);
    const removed = await call('outbox.remove', { ids: [item.id] });
    expect(removed.items.find((entry) => entry.id === item.id)).toBeUndefined();
  });

  it('starts and stops the listener, and reports a port in use in the status', async () => {
    expect(await call('listener.status', {})).toMatchObject({ running: false, settings: { enabled: false } });
    const started = await call('listener.start', { port: listenerPort, bindAddress: '127.0.0.1' });
    expect(started).toMatchObject({ running: true, settings: { port: listenerPort, enabled: true }, error: null });
    const stopped = await call('listener.stop', {});
    expect(stopped).toMatchObject({ running: false, settings: { enabled: false } });
    const net = await import('node:net');
    const blocker = net.createServer();
    const busy = await freePort();
    await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', resolve));
    try {
      const refused = await call('listener.start', { port: busy, bindAddress: '127.0.0.1' });
      expect(refused.running).toBe(false);
      expect(refused.error).toMatch(/in use/);
    } finally {
      blocker.close();
      await call('listener.stop', {});
    }
  });
});
