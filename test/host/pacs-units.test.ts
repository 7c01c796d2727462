// The PACS code's parts that need no PACS: multipart parsing across every chunk split,
// node references, settings (atomic, secrets kept and never shown), date ranges, the
// Part 10 envelope, failure classification, and the contract's schemas.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pacsCalls, PacsNodeInput } from '../../electron/common/contract-pacs.ts';
import { dimseEcho } from '../../electron/host/pacs/dimse-scu.ts';
import { dicomwebEcho } from '../../electron/host/pacs/dicomweb.ts';
import { encodeMultipart, parseContentType, readMultipart } from '../../electron/host/pacs/multipart.ts';
import { NodeReferenceError, parseNodeReference } from '../../electron/host/pacs/node-ref.ts';
import { isTransient, pacsFailure, rejectionFailure, socketFailure } from '../../electron/host/pacs/pacs-failure.ts';
import { PacsSettingsStore, SettingsError, viewOfNode } from '../../electron/host/pacs/pacs-settings.ts';
import { encodeFileMeta, readPart10Header } from '../../electron/host/pacs/part10.ts';
import { normalizeDateRange, recordFromDicomJson, recordFromNaturalized, toStudyResult } from '../../electron/host/pacs/query.ts';
import { makeTempDir } from './fixtures-dicom.ts';
import { LIVER_SEG, pydicomValues, requirePydicomFiles } from './orthanc-test-data.ts';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function decode(body: Buffer, boundary: string, chunkSize: number) {
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  await readMultipart(chunked(body, chunkSize), boundary, (headers) => {
    const chunks: Uint8Array[] = [];
    return {
      write: (chunk) => {
        chunks.push(Buffer.from(chunk));
      },
      end: () => {
        parts.push({ headers, body: Buffer.concat(chunks) });
      },
    };
  });
  return parts;
}

describe('multipart/related', () => {
  it('reads back what it writes, at every chunk size, even when a part contains boundary-like bytes', async () => {
    const boundary = 'b0undary';
    const tricky = Buffer.from(`\r\n--b0undar\r\n--b0undaryX-not-quite\r\n-`, 'latin1');
    const bodies = [Buffer.from([0, 1, 2, 255, 13, 10]), tricky, Buffer.alloc(0), readFileSync(LIVER_SEG)];
    const encoded = encodeMultipart(bodies.map((body) => ({ contentType: 'application/dicom', body })), boundary);
    for (const size of [1, 2, 3, 7, 13, 64, 1000, encoded.length]) {
      const parts = await decode(encoded, boundary, size);
      expect(parts.map((part) => part.body.toString('hex')), `chunk size ${size}`).toEqual(bodies.map((body) => body.toString('hex')));
      expect(parts.every((part) => part.headers['content-type'] === 'application/dicom')).toBe(true);
    }
  });

  it('accepts a preamble and an epilogue, and rejects a body cut before its closing boundary', async () => {
    const body = Buffer.from('preamble text\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\nabc\r\n--XyZ--\r\nepilogue', 'latin1');
    expect((await decode(body, 'XyZ', 5)).map((part) => part.body.toString())).toEqual(['abc']);
    const cut = Buffer.from('--XyZ\r\nContent-Type: application/dicom\r\n\r\nabc', 'latin1');
    await expect(decode(cut, 'XyZ', 4)).rejects.toThrow(/ended before its closing boundary/);
  });

  it('parses content types with quoted parameters', () => {
    expect(parseContentType('multipart/related; type="application/dicom"; boundary="a;b=c"')).toEqual({
      mediaType: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'a;b=c' },
    });
  });
});

describe('node references (CLI)', () => {
  it('reads saved names, dimse:// addresses with our AE from --aet, and DICOMweb URLs', () => {
    expect(parseNodeReference('Main PACS')).toEqual({ kind: 'saved', name: 'Main PACS' });
    const dimse = parseNodeReference('dimse://ORTHANC@pacs.example.org:4242', { callingAet: 'WS01' });
    expect(dimse.kind === 'inline' && dimse.node).toMatchObject({ type: 'dimse', calledAet: 'ORTHANC', host: 'pacs.example.org', port: 4242, callingAet: 'WS01', tls: false });
    const tls = parseNodeReference('dimse+tls://PACS@[::1]:2762');
    expect(tls.kind === 'inline' && tls.node).toMatchObject({ host: '[::1]', port: 2762, tls: true, callingAet: 'MEDREASONER' });
    const web = parseNodeReference('https://pacs.example.org/dicom-web');
    expect(web.kind === 'inline' && web.node).toMatchObject({ type: 'dicomweb', baseUrl: 'https://pacs.example.org/dicom-web', auth: { type: 'none' } });
  });

  it('refuses malformed addresses with a reason', () => {
    for (const text of ['dimse://127.0.0.1:104', 'dimse://AE@host', 'ftp://host/x', 'dimse://THIS-AE-TITLE-IS-TOO-LONG@h:1', 'https://user:pw@host/dicom-web']) {
      expect(() => parseNodeReference(text), text).toThrow(NodeReferenceError);
    }
  });
});

describe('PACS settings', () => {
  it('saves atomically (owner-only), keeps a stored secret when the renderer omits it, and never shows it', async () => {
    const dir = makeTempDir('pacs-settings');
    try {
      const store = new PacsSettingsStore(dir.path);
      await store.saveNode({ type: 'dicomweb', name: 'Cloud', baseUrl: 'https://pacs.example.org/dicomweb', auth: { type: 'basic', username: 'u', password: 's3cret' } });
      if (process.platform !== 'win32') expect(statSync(store.file).mode & 0o777).toBe(0o600);
      // Edit without resending the password: it stays.
      await store.saveNode({ type: 'dicomweb', name: 'Cloud', baseUrl: 'https://pacs.example.org/dicomweb2', auth: { type: 'basic', username: 'u' } });
      const saved = await store.node('cloud');
      expect(saved).toMatchObject({ baseUrl: 'https://pacs.example.org/dicomweb2', auth: { type: 'basic', username: 'u', password: 's3cret' } });
      expect(JSON.stringify(viewOfNode(saved!))).not.toContain('s3cret');
      // A new node needs its secret.
      await expect(store.saveNode({ type: 'dicomweb', name: 'Other', baseUrl: 'https://x.example/dw', auth: { type: 'bearer' } })).rejects.toThrow(SettingsError);
      // Renaming onto another node's name is refused.
      await store.saveNode({ type: 'dimse', name: 'Archive', calledAet: 'ARCH', host: '10.0.0.5', port: 104 });
      await expect(store.saveNode({ type: 'dimse', name: 'cloud', calledAet: 'ARCH', host: '10.0.0.5', port: 104 }, 'Archive')).rejects.toThrow(/exists already/);
      await store.removeNode('ARCHIVE');
      expect((await store.load()).nodes.map((node) => node.name)).toEqual(['Cloud']);
      // A hand-broken file is reported, not silently replaced.
      writeFileSync(store.file, '{"version": 1, "nodes": [{"type": "dimse"}]}');
      await expect(store.load()).rejects.toThrow(/does not hold valid PACS settings/);
      expect(path.basename(store.file)).toBe('pacs-nodes.json');
    } finally {
      dir.remove();
    }
  });

  it('validates nodes at the contract boundary', () => {
    expect(PacsNodeInput.safeParse({ type: 'dimse', name: 'A', calledAet: 'A'.repeat(17), host: 'h', port: 104 }).success).toBe(false);
    expect(PacsNodeInput.safeParse({ type: 'dimse', name: 'A', calledAet: 'BAD\\AE', host: 'h', port: 104 }).success).toBe(false);
    expect(PacsNodeInput.safeParse({ type: 'dimse', name: 'dimse://x', calledAet: 'A', host: 'h', port: 104 }).success).toBe(false);
    expect(PacsNodeInput.safeParse({ type: 'dicomweb', name: 'W', baseUrl: 'https://u:p@h/dw' }).success).toBe(false);
    expect(PacsNodeInput.parse({ type: 'dimse', name: 'A', calledAet: 'PACS', host: 'h', port: 104 })).toMatchObject({ callingAet: 'MEDREASONER', tls: false, retrieveMethod: 'c-get' });
    expect(pacsCalls['pacs.send'].params.safeParse({ node: { name: 'A' } }).success).toBe(false);
    expect(pacsCalls['pacs.retrieve'].params.safeParse({ jobId: 'j', node: { name: 'A' }, studyInstanceUid: '1.2.x' }).success).toBe(false);
  });
});

describe('queries', () => {
  it('normalizes date ranges from DICOM and ISO forms', () => {
    expect(normalizeDateRange('20240131')).toBe('20240131');
    expect(normalizeDateRange('2024-01-31')).toBe('20240131');
    expect(normalizeDateRange('2024-01-01..2024-01-31')).toBe('20240101-20240131');
    expect(normalizeDateRange('20240101-20240131')).toBe('20240101-20240131');
    expect(normalizeDateRange('-20240131')).toBe('-20240131');
    expect(normalizeDateRange('20240101-')).toBe('20240101-');
    expect(normalizeDateRange('yesterday')).toBeNull();
    expect(normalizeDateRange('-')).toBeNull();
  });

  it('reads the same study from a C-FIND data set and from DICOM JSON', () => {
    const fromDimse = toStudyResult(
      recordFromNaturalized({ StudyInstanceUID: '1.2.3', PatientName: [{ Alphabetic: 'Doe^Jane' }], ModalitiesInStudy: ['CT', 'SEG'], NumberOfStudyRelatedInstances: 12, StudyDate: '20240101' }),
    );
    const fromJson = toStudyResult(
      recordFromDicomJson({
        '0020000D': { vr: 'UI', Value: ['1.2.3'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
        '00080061': { vr: 'CS', Value: ['CT', 'SEG'] },
        '00201208': { vr: 'IS', Value: [12] },
        '00080020': { vr: 'DA', Value: ['20240101'] },
      }),
    );
    expect(fromDimse).toEqual(fromJson);
    expect(fromDimse).toMatchObject({ patientName: 'Doe^Jane', modalities: ['CT', 'SEG'], instanceCount: 12, seriesCount: null });
  });
});

describe('Part 10 envelope', () => {
  it('writes a meta header that pydicom reads, and finds where a real file’s data set starts', () => {
    requirePydicomFiles();
    const dir = makeTempDir('part10');
    try {
      const original = readFileSync(LIVER_SEG);
      const header = readPart10Header(original);
      const seg = pydicomValues(LIVER_SEG, ['SOPInstanceUID', 'SOPClassUID']);
      expect(header.mediaStorageSopInstanceUid).toBe(seg.SOPInstanceUID);
      const rewrapped = Buffer.concat([
        encodeFileMeta({ sopClassUid: seg.SOPClassUID!, sopInstanceUid: seg.SOPInstanceUID!, transferSyntaxUid: header.transferSyntaxUid, sourceAet: 'ORTHANC' }),
        original.subarray(header.datasetOffset),
      ]);
      const file = path.join(dir.path, 'rewrapped.dcm');
      writeFileSync(file, rewrapped);
      expect(pydicomValues(file, ['SOPInstanceUID', 'SegmentationType'])).toEqual({ SOPInstanceUID: seg.SOPInstanceUID, SegmentationType: 'BINARY' });
      expect(readPart10Header(rewrapped)).toMatchObject({ sourceAet: 'ORTHANC', transferSyntaxUid: header.transferSyntaxUid });
      expect(() => readPart10Header(Buffer.from('not dicom'))).toThrow(/not a DICOM Part 10 file/);
    } finally {
      dir.remove();
    }
  });
});

describe('timeouts', () => {
  it('reports a PACS that accepts the connection but never answers as a timeout, over DIMSE and DICOMweb', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)); // accepts, reads nothing, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      let started = Date.now();
      const dimse = await dimseEcho({ host: '127.0.0.1', port, calledAet: 'SILENT', callingAet: 'MEDREASONER', tls: false }, { connectMs: 800, associationMs: 800 });
      expect(dimse.failure?.code, JSON.stringify(dimse.failure)).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(4000);
      started = Date.now();
      const web = await dicomwebEcho({ baseUrl: `http://127.0.0.1:${port}/dicom-web`, auth: { type: 'none' } }, { requestMs: 800 });
      expect(web.failure?.code, JSON.stringify(web.failure)).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('failure classification', () => {
  it('tells waiting-can-help from needs-a-person', () => {
    const refused = socketFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'X');
    expect(refused.code).toBe('refused');
    expect(isTransient(refused)).toBe(true);
    const viaFetch = socketFailure(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }), 'X');
    expect(viaFetch.code).toBe('unreachable');
    expect(isTransient(rejectionFailure({ result: 2, source: 3, reason: 1 }, 'X'))).toBe(true);
    const permanent = rejectionFailure({ result: 1, source: 1, reason: 7 }, 'X');
    expect(permanent.rejection?.reason).toBe('called AE title not recognized');
    expect(isTransient(permanent)).toBe(false);
    expect(isTransient(pacsFailure('http-status', 'x', { httpStatus: 503 }))).toBe(true);
    expect(isTransient(pacsFailure('http-status', 'x', { httpStatus: 401 }))).toBe(false);
    expect(isTransient(pacsFailure('dimse-status', 'x', { dimseStatus: 0xa700 }))).toBe(true);
    expect(isTransient(pacsFailure('dimse-status', 'x', { dimseStatus: 0xa900 }))).toBe(false);
  });
});
