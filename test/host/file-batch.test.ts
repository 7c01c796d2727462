// The file-batch endpoint of the browser server: many indexed files in one authenticated
// GET, framed as common/file-batch-format.ts documents. The framing is read here byte by
// byte (not with the renderer's decoder) and compared with the files on disk.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../electron/host/host.ts';
import { startBrowserServer, type BrowserServer } from '../../electron/server/browser-server.ts';
import { planFileBatch } from '../../electron/server/file-batch.ts';
import { FILE_BATCH_CONTENT_TYPE, MAX_BATCH_FILES, readFileBatch, type FileBatchRecord } from '../../electron/common/file-batch-format.ts';
import { PYDICOM_TEST_FILES, requireDir } from './real-parts.ts';

const SOURCES = ['CT_small.dcm', 'MR_small.dcm', 'JPEG2000.dcm'].map((name) => path.join(PYDICOM_TEST_FILES, name));

let tempDir: string;
let host: Host;
let server: BrowserServer;
/** File key → the file it names, from the index. */
const filesByKey = new Map<string, string>();

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, 'python3-pydicom (its test_files corpus)');
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'mr-file-batch-'));
  const rendererDir = path.join(tempDir, 'renderer');
  await mkdir(rendererDir);
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>MedReasoner</title>');
  host = createHost({ shell: 'test', dataDir: path.join(tempDir, 'data') });
  server = await startBrowserServer({ host, rendererDir });
  const imported = await host.dispatch('dicom.import', { jobId: 'batch', paths: SOURCES });
  if (!imported.ok) throw new Error(`import failed: ${JSON.stringify(imported)}`);
  for (const seriesKey of (imported.result as { seriesKeys: string[] }).seriesKeys) {
    const detail = await host.dispatch('dicom.series', { seriesKey });
    if (!detail.ok) throw new Error(`series failed: ${JSON.stringify(detail)}`);
    for (const slice of (detail.result as { slices: Array<{ fileKey: string }> }).slices) {
      filesByKey.set(slice.fileKey, host.resolveFile(slice.fileKey) as string);
    }
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  await host?.dispose();
  await rm(tempDir, { recursive: true, force: true });
});

function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(pathname, server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = () => ({ Authorization: `Bearer ${server.secret}` });

/** The documented framing, read independently: status u8, key length u16 LE, key, length u32 LE, bytes. */
function readRecords(body: Buffer): Array<{ status: number; key: string; payload: Buffer }> {
  const records = [];
  let at = 0;
  while (at < body.length) {
    const status = body.readUInt8(at);
    const keyLength = body.readUInt16LE(at + 1);
    const key = body.subarray(at + 3, at + 3 + keyLength).toString('utf8');
    const length = body.readUInt32LE(at + 3 + keyLength);
    const start = at + 7 + keyLength;
    records.push({ status, key, payload: body.subarray(start, start + length) });
    at = start + length;
  }
  expect(at).toBe(body.length);
  return records;
}

/** The body through the renderer's reader, delivered in chunks of `chunkSize` bytes. */
async function readAll(body: Buffer, chunkSize: number): Promise<FileBatchRecord[]> {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < body.length; at += chunkSize) controller.enqueue(new Uint8Array(body.subarray(at, at + chunkSize)));
      controller.close();
    },
  });
  const records: FileBatchRecord[] = [];
  for await (const record of readFileBatch(stream)) records.push(record);
  return records;
}

describe('file batch endpoint', () => {
  it('returns the requested indexed files in request order, each byte for byte as on disk', async () => {
    const keys = [...filesByKey.keys()].reverse();
    expect(keys.length).toBe(SOURCES.length);
    const response = await get(`/file-batch?keys=${keys.join(',')}`, bearer());
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(FILE_BATCH_CONTENT_TYPE);
    const records = readRecords(response.body);
    expect(records.map((record) => record.key)).toEqual(keys);
    for (const record of records) {
      expect(record.status).toBe(0);
      expect(record.payload.equals(await readFile(filesByKey.get(record.key) as string))).toBe(true);
    }
    // The renderer's streaming reader reads the same records, however the body is cut into chunks.
    const decoded = await readAll(response.body, 7);
    expect(await readAll(response.body, response.body.length)).toEqual(decoded);
    expect(decoded.map((record) => record.key)).toEqual(keys);
    for (const record of decoded) {
      if (!record.ok) throw new Error(`${record.key} not ok: ${record.reason}`);
      expect(Buffer.from(record.bytes).equals(await readFile(filesByKey.get(record.key) as string))).toBe(true);
    }
  });

  it('requires the session like /files/<key> does', async () => {
    const [key] = [...filesByKey.keys()];
    const refused = await get(`/file-batch?keys=${key}`);
    expect(refused.status).toBe(401);
    expect(refused.body.toString('utf8')).not.toContain('DICM');
    expect((await get(`/file-batch?keys=${key}`, { Authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('reports an unknown or malformed key in its own record and still serves the rest', async () => {
    const [first, second] = [...filesByKey.keys()] as [string, string];
    const unknown = '0123456789abcdef01234567';
    const malformed = encodeURIComponent('../../etc/passwd');
    const response = await get(`/file-batch?keys=${first},${unknown},${malformed},${second}`, bearer());
    expect(response.status).toBe(200);
    const records = readRecords(response.body);
    expect(records.map((record) => [record.key, record.status])).toEqual([
      [first, 0],
      [unknown, 1],
      ['../../etc/passwd', 1],
      [second, 0],
    ]);
    expect(records[1]?.payload.toString('utf8')).toBe(`No such file in the index: ${unknown}`);
    expect(records[0]?.payload.equals(await readFile(filesByKey.get(first) as string))).toBe(true);
    expect(records[3]?.payload.equals(await readFile(filesByKey.get(second) as string))).toBe(true);
    const decoded = await readAll(response.body, 1000);
    expect(decoded.map((record) => record.ok)).toEqual([true, false, false, true]);
    expect(decoded[1]).toEqual({ key: unknown, ok: false, status: 1, reason: `No such file in the index: ${unknown}` });
    await expect(readAll(response.body.subarray(0, response.body.length - 1), 1000)).rejects.toThrow(`file batch truncated in the bytes of ${second}`);
  });

  it('refuses a batch past its limits with the reason, and an empty one', async () => {
    const [key] = [...filesByKey.keys()] as [string];
    const tooMany = await get(`/file-batch?keys=${Array.from({ length: MAX_BATCH_FILES + 1 }, () => key).join(',')}`, bearer());
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.toString('utf8')).toBe(`A file batch holds at most ${MAX_BATCH_FILES} files (${MAX_BATCH_FILES + 1} asked for).`);
    const atLimit = await get(`/file-batch?keys=${Array.from({ length: MAX_BATCH_FILES }, () => key).join(',')}`, bearer());
    expect(atLimit.status).toBe(200);
    expect(readRecords(atLimit.body)).toHaveLength(MAX_BATCH_FILES);
    const empty = await get('/file-batch?keys=', bearer());
    expect(empty.status).toBe(400);
    expect(empty.body.toString('utf8')).toContain('needs ?keys=');
    // The byte limit counts the files' sizes on disk before anything is sent.
    const keys = [...filesByKey.keys()];
    let total = 0;
    for (const k of keys) total += (await readFile(filesByKey.get(k) as string)).length;
    const over = await planFileBatch(keys.join(','), (k) => host.resolveFile(k), total - 1);
    expect(over).toMatchObject({ status: 413 });
    expect('refused' in over && over.refused).toContain(`these ${keys.length} files are`);
    const exact = await planFileBatch(keys.join(','), (k) => host.resolveFile(k), total);
    expect('items' in exact && exact.items.map((item) => item.key)).toEqual(keys);
  });
});
