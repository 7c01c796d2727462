// Malformed input: every broken file gets a reason, and the import always completes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readHeader } from '../../electron/host/dicom/header-reader.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { ctSlice, EXPLICIT_LE, findTag, IMPLICIT_LE, makeTempDir, pseudoRandomBytes, writeDicom } from './fixtures-dicom.ts';

const tmp = makeTempDir('malformed');
afterAll(() => tmp.remove());

function problemOf(path: string) {
  const result = readHeader(path);
  if (result.ok) throw new Error(`${path} was read as a valid ${result.record.kind} instance`);
  return result.problem;
}

let valid: Buffer;
let validPath: string;
beforeAll(() => {
  validPath = join(tmp.path, 'valid.dcm');
  valid = writeDicom(validPath, ctSlice({ seriesUid: '1.2.3.1', sopUid: '1.2.3.1.1', rows: 16, columns: 16, position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }));
  const check = readHeader(validPath);
  if (!check.ok) throw new Error(`the fixture itself does not read: ${check.problem.detail}`);
});

describe('malformed files', () => {
  test('a zero-length file is empty-file', () => {
    const path = join(tmp.path, 'empty.dcm');
    writeFileSync(path, '');
    expect(problemOf(path).reason).toBe('empty-file');
  });

  test('random bytes are not-dicom', () => {
    for (const [size, seed] of [[4096, 1], [200, 2], [70_000, 3], [7, 4]] as const) {
      const path = join(tmp.path, `random-${seed}.bin`);
      writeFileSync(path, pseudoRandomBytes(size, seed));
      const problem = problemOf(path);
      expect(problem.reason, `seed ${seed}`).toBe('not-dicom');
      expect(problem.detail).toMatch(/DICM/);
    }
  });

  test('a valid file cut at any offset is never an instance, and cuts inside the pixels are truncated', () => {
    const pixelTag = findTag(valid, 0x7fe0, 0x0010);
    const pixelValueStart = pixelTag + 12; // explicit VR OW: tag, VR, reserved, 4-byte length
    const patientName = findTag(valid, 0x0010, 0x0010);
    const offsets = new Set<number>([1, 64, 127, 131, 132, 140, patientName + 3, patientName + 9, pixelTag + 2, pixelValueStart + 1, valid.length - 1]);
    for (let at = 1; at < valid.length; at += 23) offsets.add(at);
    for (const at of [...offsets].sort((a, b) => a - b)) {
      const path = join(tmp.path, `cut-${at}.dcm`);
      writeFileSync(path, valid.subarray(0, at));
      const problem = problemOf(path);
      if (at < 132) {
        expect(problem.reason, `cut at ${at}`).toBe('not-dicom');
      } else if (at > pixelTag) {
        expect(problem.reason, `cut at ${at}`).toBe('truncated');
      } else {
        // Cut between elements, the file is complete as far as it goes but lacks what follows.
        expect(['truncated', 'missing-attribute'], `cut at ${at}: ${problem.detail}`).toContain(problem.reason);
      }
    }
    // Cut inside the patient's name value: ends inside an element.
    expect(problemOf(join(tmp.path, `cut-${patientName + 9}.dcm`)).reason).toBe('truncated');
    // Cut just before the pixels: the header describes an image that is not there.
    const beforePixels = join(tmp.path, 'cut-before-pixels.dcm');
    writeFileSync(beforePixels, valid.subarray(0, pixelTag));
    expect(problemOf(beforePixels)).toMatchObject({ reason: 'truncated' });
    expect(problemOf(beforePixels).detail).toContain('no Pixel Data');
  });

  test('pixel data shorter than Rows × Columns × bits needs is truncated', () => {
    // Same header, pixel data length rewritten to half of what 16×16×16 bits need, file cut to match.
    const pixelTag = findTag(valid, 0x7fe0, 0x0010);
    const short = Buffer.from(valid.subarray(0, pixelTag + 12 + 256));
    short.writeUInt32LE(256, pixelTag + 8);
    const path = join(tmp.path, 'short-pixels.dcm');
    writeFileSync(path, short);
    const problem = problemOf(path);
    expect(problem.reason).toBe('truncated');
    expect(problem.detail).toContain('512');
  });

  test('an absurd element length is invalid-value', () => {
    // Implicit VR: every element has a 4-byte length; give Modality (0008,0060) 0xFFFFFFF0 bytes.
    const implicitPath = join(tmp.path, 'implicit.dcm');
    const implicit = writeDicom(implicitPath, ctSlice({ seriesUid: '1.2.3.2', sopUid: '1.2.3.2.1' }), IMPLICIT_LE);
    expect(readHeader(implicitPath).ok).toBe(true);
    const modality = findTag(implicit, 0x0008, 0x0060);
    const broken = Buffer.from(implicit);
    broken.writeUInt32LE(0xfffffff0, modality + 4);
    const path = join(tmp.path, 'absurd-length.dcm');
    writeFileSync(path, broken);
    const problem = problemOf(path);
    expect(problem.reason).toBe('invalid-value');
    expect(problem.detail).toMatch(/absurd length/);
    expect(problem.detail).toContain('(0008,0060)');

    // Explicit VR: the Pixel Data's 4-byte length.
    const pixelTag = findTag(valid, 0x7fe0, 0x0010);
    const brokenPixels = Buffer.from(valid);
    brokenPixels.writeUInt32LE(0xfffffff0, pixelTag + 8);
    const pixelPath = join(tmp.path, 'absurd-pixel-length.dcm');
    writeFileSync(pixelPath, brokenPixels);
    expect(problemOf(pixelPath).reason).toBe('invalid-value');
  });

  test('Rows = 0 is invalid-value; a missing Series Instance UID is missing-attribute naming it', () => {
    const zeroRows = join(tmp.path, 'zero-rows.dcm');
    writeDicom(zeroRows, { ...ctSlice({ seriesUid: '1.2.3.3', sopUid: '1.2.3.3.1' }), Rows: 0, PixelData: [new ArrayBuffer(0)] });
    expect(problemOf(zeroRows).reason).toBe('invalid-value');

    const noSeries = join(tmp.path, 'no-series.dcm');
    const dataset = ctSlice({ seriesUid: '1.2.3.4', sopUid: '1.2.3.4.1' });
    delete dataset.SeriesInstanceUID;
    writeDicom(noSeries, dataset);
    const problem = problemOf(noSeries);
    expect(problem.reason).toBe('missing-attribute');
    expect(problem.detail).toContain('Series Instance UID (0020,000E)');
    expect(problem.detail).not.toContain('SOP Instance UID');
  });

  test('a transfer syntax no decoder handles (MPEG2) is unsupported-transfer-syntax', () => {
    const path = join(tmp.path, 'mpeg2.dcm');
    writeDicom(path, { ...ctSlice({ seriesUid: '1.2.3.5', sopUid: '1.2.3.5.1' }), PixelData: [new Uint8Array(64).buffer] }, '1.2.840.10008.1.2.4.100');
    const problem = problemOf(path);
    expect(problem.reason).toBe('unsupported-transfer-syntax');
    expect(problem.detail).toContain('1.2.840.10008.1.2.4.100');
    expect(problem.detail).toContain('MPEG2');
  });

  test('encapsulated pixel data cut inside a fragment is truncated', () => {
    const path = join(tmp.path, 'rle.dcm');
    const rle = writeDicom(path, { ...ctSlice({ seriesUid: '1.2.3.6', sopUid: '1.2.3.6.1' }), PixelData: [new Uint8Array(200).buffer] }, '1.2.840.10008.1.2.5');
    expect(readHeader(path).ok).toBe(true);
    const cut = join(tmp.path, 'rle-cut.dcm');
    writeFileSync(cut, rle.subarray(0, rle.length - 50));
    expect(problemOf(cut).reason).toBe('truncated');
  });

  test('a missing file is unreadable, a FIFO is unreadable without blocking', () => {
    expect(problemOf(join(tmp.path, 'vanished.dcm'))).toMatchObject({ reason: 'unreadable' });
    expect(problemOf(join(tmp.path, 'vanished.dcm')).detail).toContain('does not exist');
    const fifo = join(tmp.path, 'pipe.dcm');
    execFileSync('mkfifo', [fifo]);
    const problem = problemOf(fifo);
    expect(problem.reason).toBe('unreadable');
    expect(problem.detail).toContain('FIFO');
  });
});

describe('the import completes on a folder of broken things', () => {
  test('symlink loops, a FIFO, a vanished input and broken files each get a reason; good files are indexed once', async () => {
    const root = join(tmp.path, 'tree');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeDicom(join(root, 'a', 'good-1.dcm'), ctSlice({ seriesUid: '1.2.9.1', sopUid: '1.2.9.1.1', position: [0, 0, 0], orientation: [1, 0, 0, 0, 1, 0] }));
    writeDicom(join(root, 'a', 'b', 'good-2.dcm'), ctSlice({ seriesUid: '1.2.9.1', sopUid: '1.2.9.1.2', position: [0, 0, 2.5], orientation: [1, 0, 0, 0, 1, 0] }));
    symlinkSync('..', join(root, 'a', 'b', 'loop-to-parent')); // directory loop
    symlinkSync('self-loop', join(root, 'self-loop')); // a link to itself
    symlinkSync('nowhere.dcm', join(root, 'dangling.dcm'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    writeFileSync(join(root, 'empty.dcm'), '');
    writeFileSync(join(root, 'noise.bin'), pseudoRandomBytes(1000, 9));
    writeFileSync(join(root, '.hidden-cut.dcm'), valid.subarray(0, valid.length - 100));
    const missingInput = join(tmp.path, 'not-there');

    const outcome = await importDicom({ paths: [root, missingInput] });
    const byPath = new Map(outcome.files.map((f) => [f.path, f]));
    expect(byPath.size).toBe(outcome.files.length);
    expect(byPath.get(join(root, 'a', 'good-1.dcm'))).toMatchObject({ outcome: 'instance', seriesKey: '1.2.9.1' });
    expect(byPath.get(join(root, 'a', 'b', 'good-2.dcm'))).toMatchObject({ outcome: 'instance', seriesKey: '1.2.9.1' });
    expect(outcome.files.filter((f) => f.outcome === 'instance')).toHaveLength(2); // the loop did not index anything twice
    expect(byPath.get(join(root, 'self-loop'))).toMatchObject({ outcome: 'problem', reason: 'unreadable' });
    expect(byPath.get(join(root, 'dangling.dcm'))).toMatchObject({ outcome: 'problem', reason: 'unreadable' });
    expect(byPath.get(join(root, 'fifo'))).toMatchObject({ outcome: 'problem', reason: 'unreadable' });
    expect(byPath.get(join(root, 'empty.dcm'))).toMatchObject({ outcome: 'problem', reason: 'empty-file' });
    expect(byPath.get(join(root, 'noise.bin'))).toMatchObject({ outcome: 'problem', reason: 'not-dicom' });
    expect(byPath.get(join(root, '.hidden-cut.dcm'))).toMatchObject({ outcome: 'problem', reason: 'truncated' });
    expect(byPath.get(missingInput)).toMatchObject({ outcome: 'problem', reason: 'unreadable' });
    expect(outcome.files).toHaveLength(9);
    expect(outcome.series.map((s) => s.summary.sliceCount)).toEqual([2]);
  });

  test('a DICOMDIR that references a missing file reports that file', async () => {
    const folder = join(tmp.path, 'media');
    mkdirSync(join(folder, 'IMAGES'), { recursive: true });
    writeDicom(join(folder, 'IMAGES', 'IM1'), ctSlice({ seriesUid: '1.2.8.1', sopUid: '1.2.8.1.1' }));
    const record = (id: string[]) => ({ DirectoryRecordType: 'IMAGE', ReferencedFileID: id });
    writeDicom(
      join(folder, 'DICOMDIR'),
      {
        FileSetID: 'TEST',
        DirectoryRecordSequence: [record(['IMAGES', 'IM1']), record(['IMAGES', 'IM2']), record(['..', 'escape'])],
        SOPClassUID: '1.2.840.10008.1.3.10',
        SOPInstanceUID: '1.2.8.99',
      },
      EXPLICIT_LE,
    );
    const outcome = await importDicom({ paths: [join(folder, 'DICOMDIR')] });
    const byPath = new Map(outcome.files.map((f) => [f.path, f]));
    expect(byPath.get(join(folder, 'DICOMDIR'))).toMatchObject({ outcome: 'non-image', kind: 'DICOMDIR' });
    expect(byPath.get(join(folder, 'IMAGES', 'IM1'))).toMatchObject({ outcome: 'instance' });
    expect(byPath.get(join(folder, 'IMAGES', 'IM2'))).toMatchObject({ outcome: 'problem', reason: 'unreadable' });
    const missing = byPath.get(join(folder, 'IMAGES', 'IM2'));
    expect(missing?.outcome === 'problem' && missing.detail).toContain('Listed in the DICOMDIR');
    expect(outcome.files).toHaveLength(3); // the unsafe ../escape reference is not followed
    expect(outcome.records.find((r) => r.kind === 'DICOMDIR')?.referenceNotes?.join(' ')).toContain('not a safe relative path');
  });
});
