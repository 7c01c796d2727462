// A saved DICOMweb node's password or token goes only to the origin (scheme, host, port)
// it was saved for: pacs.nodes.test with the saved name and another base URL must not
// carry the stored secret there. Two local HTTP servers stand for the PACS and "elsewhere".
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacsCalls, type PacsCallName, type PacsCallParams, type PacsCallResult } from '../../electron/common/contract-pacs.ts';
import { createPacsHandlers, type PacsHandlers } from '../../electron/host/pacs/pacs-handlers.ts';
import { completeNode, SettingsError } from '../../electron/host/pacs/pacs-settings.ts';
import { makeTempDir } from './fixtures-dicom.ts';

const TOKEN = 'stored-token-7f3a';
const PASSWORD = 'stored-password-91c2';

interface Recorder {
  server: Server;
  url: string;
  requests: IncomingHttpHeaders[];
}

async function qidoServer(): Promise<Recorder> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/dicom+json' });
    response.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

let pacs: PacsHandlers;
let home: Recorder;
let elsewhere: Recorder;
const work = makeTempDir('pacs-secret-origin');

async function call<M extends PacsCallName>(method: M, params: PacsCallParams<M>): Promise<PacsCallResult<M>> {
  const parsed = pacsCalls[method].params.parse(params);
  const handler = pacs.handlers[method] as (p: unknown) => Promise<unknown>;
  return pacsCalls[method].result.parse(await handler(parsed)) as PacsCallResult<M>;
}

beforeAll(async () => {
  home = await qidoServer();
  elsewhere = await qidoServer();
  pacs = createPacsHandlers({ dataDir: path.join(work.path, 'app'), emit: () => {}, importFiles: async (_paths, jobId) => ({ jobId, cancelled: false, filesSeen: 0, instancesAdded: 0, seriesKeys: [], problems: [], elapsedMs: 0 }) });
  await pacs.ready;
  await call('pacs.nodes.save', { node: { type: 'dicomweb', name: 'Web', baseUrl: `${home.url}/dicom-web`, auth: { type: 'bearer', token: TOKEN } } });
});

afterAll(async () => {
  await pacs?.dispose();
  home?.server.close();
  elsewhere?.server.close();
  work.remove();
});

const carriesSecret = (headers: IncomingHttpHeaders) => JSON.stringify(headers).includes(TOKEN);

describe('stored DICOMweb secrets stay with their origin', () => {
  it('pacs.nodes.test with the saved name and another base URL does not send the stored token', async () => {
    const attempt = call('pacs.nodes.test', { node: { node: { type: 'dicomweb', name: 'Web', baseUrl: `${elsewhere.url}/dicom-web`, auth: { type: 'bearer' } } } });
    await expect(attempt).rejects.toMatchObject({ code: 'invalid-params', message: expect.stringContaining('is not sent to') });
    expect(elsewhere.requests.filter(carriesSecret)).toEqual([]);
    // "Web " is the same node name to the settings (case and spaces aside).
    await expect(call('pacs.nodes.test', { node: { node: { type: 'dicomweb', name: 'web', baseUrl: `${elsewhere.url}/`, auth: { type: 'bearer' } } } })).rejects.toThrow();
    expect(elsewhere.requests.filter(carriesSecret)).toEqual([]);
  });

  it('the same origin with another path still uses the stored token', async () => {
    const result = await call('pacs.nodes.test', { node: { node: { type: 'dicomweb', name: 'Web', baseUrl: `${home.url}/other-root`, auth: { type: 'bearer' } } } });
    expect(result).toMatchObject({ ok: true });
    expect(home.requests.some(carriesSecret)).toBe(true);
  });

  it('saving the node under a new origin without a new secret is refused; with one it is kept', async () => {
    await expect(call('pacs.nodes.save', { node: { type: 'dicomweb', name: 'Web', baseUrl: `${elsewhere.url}/dicom-web`, auth: { type: 'bearer' } } })).rejects.toMatchObject({
      code: 'invalid-params',
    });
    const saved = await call('pacs.nodes.save', { node: { type: 'dicomweb', name: 'Web', baseUrl: `${elsewhere.url}/dicom-web`, auth: { type: 'bearer', token: 'new-token' } } });
    expect(saved.nodes[0]).toMatchObject({ baseUrl: `${elsewhere.url}/dicom-web`, auth: { type: 'bearer', tokenSet: true } });
  });

  it('completeNode compares scheme, host and port', () => {
    const previous = completeNode({ type: 'dicomweb', name: 'B', baseUrl: 'https://pacs.example:8443/dicom-web', auth: { type: 'basic', username: 'u', password: PASSWORD } });
    const keep = (baseUrl: string) => completeNode({ type: 'dicomweb', name: 'B', baseUrl, auth: { type: 'basic', username: 'u' } }, previous);
    expect(keep('https://pacs.example:8443/elsewhere/path')).toMatchObject({ auth: { password: PASSWORD } });
    expect(keep('https://PACS.example:8443/dicom-web')).toMatchObject({ auth: { password: PASSWORD } });
    for (const other of ['http://pacs.example:8443/dicom-web', 'https://pacs.example/dicom-web', 'https://evil.example:8443/dicom-web', 'https://pacs.example.evil.example:8443/dicom-web']) {
      expect(() => keep(other), other).toThrow(SettingsError);
    }
  });
});
