// The written sample, checked by tools that share no code with the writer:
// pydicom (Debian's python3-pydicom) reads the files back, dciodvfy (Debian's
// dicom3tools) validates every file against the CT Image IOD, and the NRRD
// header is parsed here by hand.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGroundTruth } from '../../electron/host/sample/ground-truth.ts';
import { LABEL_TABLE } from '../../electron/host/sample/label-table.ts';
import { DEFAULT_SAMPLE_SPEC, generatePhantom, type Phantom, type PhantomSpec } from '../../electron/host/sample/phantom.ts';
import { writeSample, type SampleManifest } from '../../electron/host/sample/sample-store.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const DCIODVFY = 'dciodvfy';

/** What pydicom says about each file, sorted by position along the slice normal. */
interface PydicomSlice {
  file: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntax: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  modality: string;
  patientName: string;
  patientId: string;
  instanceNumber: number;
  position: number[];
  orientation: number[];
  pixelSpacing: number[];
  sliceThickness: number;
  sliceLocation: number;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  photometric: string;
  slope: number;
  intercept: number;
  windowCenter: number[];
  /** Base64 of int16 little-endian HU (stored × slope + intercept), for the slices asked for. */
  hu?: string;
}

const READ_SERIES = String.raw`
import sys, json, base64
import numpy as np
import pydicom
want = set(json.loads(sys.argv[1]))
out = []
for f in sys.argv[2:]:
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    iop = [float(v) for v in ds.ImageOrientationPatient]
    normal = np.cross(iop[:3], iop[3:])
    ipp = [float(v) for v in ds.ImagePositionPatient]
    out.append({
        'file': f, 'key': float(np.dot(ipp, normal)),
        'sopClassUid': str(ds.SOPClassUID), 'sopInstanceUid': str(ds.SOPInstanceUID),
        'transferSyntax': str(ds.file_meta.TransferSyntaxUID),
        'studyInstanceUid': str(ds.StudyInstanceUID), 'seriesInstanceUid': str(ds.SeriesInstanceUID),
        'frameOfReferenceUid': str(ds.FrameOfReferenceUID), 'modality': str(ds.Modality),
        'patientName': str(ds.PatientName), 'patientId': str(ds.PatientID),
        'instanceNumber': int(ds.InstanceNumber), 'position': ipp, 'orientation': iop,
        'pixelSpacing': [float(v) for v in ds.PixelSpacing], 'sliceThickness': float(ds.SliceThickness),
        'sliceLocation': float(ds.SliceLocation), 'rows': int(ds.Rows), 'columns': int(ds.Columns),
        'bitsAllocated': int(ds.BitsAllocated), 'bitsStored': int(ds.BitsStored),
        'photometric': str(ds.PhotometricInterpretation),
        'slope': float(ds.RescaleSlope), 'intercept': float(ds.RescaleIntercept),
        'windowCenter': [float(v) for v in ds.WindowCenter],
    })
out.sort(key=lambda s: s['key'])
for i, s in enumerate(out):
    if i in want:
        ds = pydicom.dcmread(s['file'])
        hu = ds.pixel_array.astype(np.int32) * s['slope'] + s['intercept']
        s['hu'] = base64.b64encode(np.asarray(hu, dtype='<i2').tobytes()).decode('ascii')
print(json.dumps(out))
`;

async function requireTool(command: string, args: string[], install: string): Promise<void> {
  try {
    await run(command, args);
  } catch (error) {
    throw new Error(`${command} is required by this test and did not run (${String(error)}). Install it: ${install}`);
  }
}

async function pydicomRead(files: string[], pixelsAt: number[]): Promise<PydicomSlice[]> {
  const { stdout } = await run(PYTHON, ['-c', READ_SERIES, JSON.stringify(pixelsAt), ...files], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as PydicomSlice[];
}

async function dciodvfy(file: string): Promise<string[]> {
  // dciodvfy reports on stderr and exits 0 whatever it finds; the lines are what count.
  const result = await run(DCIODVFY, [file]).catch((error: { code?: unknown; stdout?: string; stderr?: string }) => {
    if (error.code === 'ENOENT') throw new Error(`${DCIODVFY} is not installed (apt-get install dicom3tools)`);
    return { stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  });
  return `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

function sliceOf(phantom: Phantom, k: number): Int16Array {
  const n = phantom.geometry.columns * phantom.geometry.rows;
  return phantom.hu.subarray(k * n, (k + 1) * n);
}

describe('the written sample', () => {
  let root: string;
  let manifest: SampleManifest;
  let phantom: Phantom;
  let files: string[];

  beforeAll(async () => {
    await requireTool(PYTHON, ['-c', 'import pydicom, numpy'], 'apt-get install python3-pydicom python3-numpy');
    await requireTool('sh', ['-c', `command -v ${DCIODVFY}`], 'apt-get install dicom3tools (it provides dciodvfy)');
    root = await mkdtemp(path.join(os.tmpdir(), 'mr-sample-dicom-'));
    manifest = await writeSample(path.join(root, 'sample'), DEFAULT_SAMPLE_SPEC);
    phantom = generatePhantom(DEFAULT_SAMPLE_SPEC);
    files = (await readdir(manifest.seriesDir)).filter((f) => f.endsWith('.dcm')).map((f) => path.join(manifest.seriesDir, f));
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('holds one file per slice, named by InstanceNumber', () => {
    expect(files).toHaveLength(DEFAULT_SAMPLE_SPEC.slices);
    const names = files.map((f) => path.basename(f)).sort();
    expect(names[0]).toBe('CT000001.dcm');
    expect(names[names.length - 1]).toBe(`CT${String(DEFAULT_SAMPLE_SPEC.slices).padStart(6, '0')}.dcm`);
  });

  it('reads back in pydicom with the phantom\'s exact HU and geometry', async () => {
    const last = DEFAULT_SAMPLE_SPEC.slices - 1;
    const checked = [0, 37, Math.floor(last / 2), last];
    const slices = await pydicomRead(files, checked);
    expect(slices).toHaveLength(DEFAULT_SAMPLE_SPEC.slices);
    const { columns, rows, pixelSpacing, sliceThickness, origin } = phantom.geometry;
    for (let k = 0; k < slices.length; k++) {
      const s = slices[k]!;
      expect(s.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(s.transferSyntax).toBe('1.2.840.10008.1.2.1');
      expect(s.modality).toBe('CT');
      expect(s.orientation).toEqual([1, 0, 0, 0, 1, 0]);
      expect(s.pixelSpacing).toEqual([pixelSpacing, pixelSpacing]);
      expect(s.sliceThickness).toBe(sliceThickness);
      expect([s.rows, s.columns]).toEqual([rows, columns]);
      expect(s.bitsAllocated).toBe(16);
      expect(s.photometric).toBe('MONOCHROME2');
      expect(s.windowCenter[0]).toBe(40);
      // Sorted by position, the k-th file is slice index k: x and y of the grid's first voxel, z rising.
      expect(s.position[0]).toBeCloseTo(origin[0], 6);
      expect(s.position[1]).toBeCloseTo(origin[1], 6);
      expect(s.position[2]).toBeCloseTo(origin[2] + k * sliceThickness, 6);
      expect(s.sliceLocation).toBeCloseTo(s.position[2]!, 6);
      // Numbered like a head-to-feet scan: 1 is the most superior slice.
      expect(s.instanceNumber).toBe(slices.length - k);
      if (k > 0) expect(s.position[2]! - slices[k - 1]!.position[2]!).toBeCloseTo(sliceThickness, 6);
    }
    for (const k of checked) {
      const hu = slices[k]!.hu;
      expect(hu, `pixels of sorted slice ${k}`).toBeDefined();
      const fromFile = new Int16Array(new Uint8Array(Buffer.from(hu!, 'base64')).buffer);
      const expected = sliceOf(phantom, k);
      expect(fromFile.length).toBe(expected.length);
      expect(Buffer.from(fromFile.buffer).equals(Buffer.from(expected.buffer.slice(expected.byteOffset, expected.byteOffset + expected.byteLength))), `HU of slice ${k}`).toBe(true);
    }
  });

  it('carries one study, one series, one frame of reference, unique instances and valid UIDs', async () => {
    const slices = await pydicomRead(files, []);
    const uidPattern = /^2\.25\.(0|[1-9]\d*)$/;
    expect(new Set(slices.map((s) => s.studyInstanceUid)).size).toBe(1);
    expect(new Set(slices.map((s) => s.seriesInstanceUid)).size).toBe(1);
    expect(new Set(slices.map((s) => s.frameOfReferenceUid)).size).toBe(1);
    expect(new Set(slices.map((s) => s.sopInstanceUid)).size).toBe(slices.length);
    for (const s of slices) {
      for (const uid of [s.studyInstanceUid, s.seriesInstanceUid, s.frameOfReferenceUid, s.sopInstanceUid]) {
        expect(uid).toMatch(uidPattern);
        expect(uid.length).toBeLessThanOrEqual(64);
      }
      expect(s.patientName).toBe('SAMPLE^TORSO');
      expect(s.patientId).toBe('MR-SAMPLE-0001');
    }
    expect(slices[0]!.studyInstanceUid).toBe(manifest.uids.studyInstanceUid);
    expect(slices[0]!.seriesInstanceUid).toBe(manifest.uids.seriesInstanceUid);
  });

  it('passes dciodvfy with no errors and no warnings, in every file', async () => {
    const problems: string[] = [];
    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const lines = await dciodvfy(file);
        // Its first line names the IOD it validated against: proof it read the file as a CT image.
        if (!lines.includes('CTImage')) problems.push(`${path.basename(file)}: not validated as CTImage: ${lines.join(' | ')}`);
        for (const line of lines) {
          if (/error|warning/i.test(line)) problems.push(`${path.basename(file)}: ${line}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    expect(problems).toEqual([]);
  });

  it('would see a broken file: dciodvfy reports an error when Modality is removed (the check is not vacuous)', async () => {
    const broken = path.join(root, 'broken.dcm');
    await copyFile(files[0]!, broken);
    await requireTool('dcmodify', ['-nb', '-ea', '(0008,0060)', broken], 'apt-get install dcmtk');
    const lines = await dciodvfy(broken);
    expect(lines.some((line) => /error/i.test(line) && /modality/i.test(line)), lines.join('\n')).toBe(true);
  });

  it('writes ground truth that matches the phantom voxel for voxel', async () => {
    const truth = await readGroundTruth(manifest.dir);
    expect(truth.sizes).toEqual([phantom.geometry.columns, phantom.geometry.rows, phantom.geometry.slices]);
    expect(Buffer.from(truth.labels).equals(Buffer.from(phantom.labels))).toBe(true);
    expect(truth.table.map((e) => e.name)).toEqual(LABEL_TABLE.map((e) => e.name));
    const { pixelSpacing, sliceThickness } = phantom.geometry;
    for (const entry of truth.table) {
      let count = 0;
      for (const v of phantom.labels) if (v === entry.value) count++;
      expect(entry.voxelCount, entry.name).toBe(count);
      expect(entry.volumeMl).toBeCloseTo((count * pixelSpacing * pixelSpacing * sliceThickness) / 1000, 2);
      expect(entry.boundingBox, entry.name).not.toBeNull();
    }
    expect(truth.info.uids.seriesInstanceUid).toBe(manifest.uids.seriesInstanceUid);
  });

  it('writes an NRRD whose header puts the labels in the CT\'s patient space', async () => {
    const bytes = await readFile(path.join(manifest.dir, 'ground-truth.nrrd'));
    const headerEnd = bytes.indexOf('\n\n');
    expect(headerEnd).toBeGreaterThan(0);
    const lines = bytes.subarray(0, headerEnd).toString('latin1').split('\n');
    expect(lines[0]).toMatch(/^NRRD000[1-5]$/);
    const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    const numbers = (text: string | undefined) => (text ?? '').match(/-?\d+(\.\d+)?(e-?\d+)?/gi)!.map(Number);
    expect(field('type')).toBe('uint8');
    expect(field('dimension')).toBe('3');
    expect(field('space')).toBe('left-posterior-superior');
    expect(field('encoding')).toBe('gzip');
    const [pydicomFirst] = await pydicomRead(files, []);
    const { columns, rows, slices, pixelSpacing, sliceThickness } = phantom.geometry;
    expect(numbers(field('sizes'))).toEqual([columns, rows, slices]);
    expect(numbers(field('space directions'))).toEqual([pixelSpacing, 0, 0, 0, pixelSpacing, 0, 0, 0, sliceThickness]);
    // The origin is the first voxel of the most inferior slice, as pydicom reads it from the CT.
    expect(numbers(field('space origin'))).toEqual(pydicomFirst!.position);
  });
});

describe('written files are deterministic', () => {
  const spec: PhantomSpec = { columns: 48, rows: 40, slices: 6, pixelSpacing: 7.5, sliceThickness: 12.5, seed: 99 };
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mr-sample-determinism-'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes byte-identical files for the same spec', async () => {
    const a = await writeSample(path.join(root, 'a'), spec);
    const b = await writeSample(path.join(root, 'b'), spec);
    const list = async (dir: string) => {
      const out: string[] = [];
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) out.push(path.relative(dir, path.join(entry.parentPath, entry.name)));
      }
      return out.sort();
    };
    const namesA = await list(a.dir);
    expect(namesA).toEqual(await list(b.dir));
    expect(namesA.length).toBe(spec.slices + 3);
    for (const name of namesA) {
      const same = (await readFile(path.join(a.dir, name))).equals(await readFile(path.join(b.dir, name)));
      expect(same, name).toBe(true);
    }
  });
});
