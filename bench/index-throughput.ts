// Header indexing throughput: our import (end to end, and the header reader alone)
// against dcmjs and against plainly reading the same files, in one run on one machine.
//   npx node bench/index-throughput.ts [--files N] [--size 512]
// Generates a CT-like series once into the temp folder (512×512 16-bit: ~0.5 MB a file)
// and reuses it. Every measurement reads from a warm page cache (the files were just
// written or read): this measures CPU cost per file, not the disk.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INITIAL_READ_BYTES, readHeader } from '../electron/host/dicom/header-reader.ts';
import { importDicom } from '../electron/host/dicom/importer.ts';

interface Dcmjs {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): unknown };
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { dict: Record<string, unknown> } };
  };
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as Dcmjs;

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const FILES = option('files', 1000);
const SIZE = option('size', 512);
const ROUNDS = option('rounds', 5);
const folder = join(tmpdir(), `medreasoner-bench-ct-${FILES}x${SIZE}`);

function generate(): void {
  if (existsSync(join(folder, '.complete'))) return;
  mkdirSync(folder, { recursive: true });
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const pixels = new Uint16Array(SIZE * SIZE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) & 0x0fff;
  const study = '1.2.826.0.1.3680043.8.498.5000';
  const series = `${study}.1`;
  for (let k = 0; k < FILES; k++) {
    const sop = `${series}.${k + 1}`;
    const meta = DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      MediaStorageSOPInstanceUID: sop,
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      ImplementationClassUID: '1.2.826.0.1.3680043.8.498.1',
    });
    const dict = new DicomDict(meta);
    // A typical CT header: identification, patient, study, series, acquisition, geometry, display.
    dict.dict = DicomMetaDictionary.denaturalizeDataset({
      SpecificCharacterSet: 'ISO_IR 100',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      SOPInstanceUID: sop,
      StudyDate: '20240301',
      SeriesDate: '20240301',
      StudyTime: '093000',
      AccessionNumber: 'ACC12345',
      Modality: 'CT',
      Manufacturer: 'Bench Medical',
      InstitutionName: 'Benchmark Hospital',
      ReferringPhysicianName: 'Doe^Jane',
      StudyDescription: 'CT CHEST WITH CONTRAST',
      SeriesDescription: 'Axial 0.625mm',
      ManufacturerModelName: 'Synthetic 1000',
      PatientName: 'Bench^Patient',
      PatientID: 'BENCH-001',
      PatientBirthDate: '19600101',
      PatientSex: 'F',
      SliceThickness: '0.625',
      KVP: '120',
      DataCollectionDiameter: '500',
      ReconstructionDiameter: '350',
      GantryDetectorTilt: '0',
      TableHeight: '150',
      ExposureTime: '500',
      XRayTubeCurrent: '300',
      ConvolutionKernel: 'STANDARD',
      PatientPosition: 'HFS',
      StudyInstanceUID: study,
      SeriesInstanceUID: series,
      StudyID: '1',
      SeriesNumber: '2',
      InstanceNumber: String(k + 1),
      ImagePositionPatient: [-175, -175, -k * 0.625],
      ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
      FrameOfReferenceUID: `${study}.9`,
      PositionReferenceIndicator: 'SN',
      SliceLocation: String(-k * 0.625),
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: SIZE,
      Columns: SIZE,
      PixelSpacing: [0.683594, 0.683594],
      BitsAllocated: 16,
      BitsStored: 12,
      HighBit: 11,
      PixelRepresentation: 0,
      WindowCenter: '40',
      WindowWidth: '400',
      RescaleIntercept: '-1024',
      RescaleSlope: '1',
      PixelData: [pixels.buffer],
      _vrMap: { PixelData: 'OW' },
    });
    writeFileSync(join(folder, `IM${String(k).padStart(5, '0')}.dcm`), Buffer.from(dict.write()));
  }
  writeFileSync(join(folder, '.complete'), '');
}

interface Row {
  name: string;
  seconds: number;
  /** A fixed cost, not a per-file rate: printed without files/s and MB/s. */
  fixedCost?: boolean;
}

function best(name: string, run: () => void): Row {
  let seconds = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    run();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return { name, seconds };
}

async function bestAsync(name: string, run: () => Promise<void>): Promise<Row> {
  let seconds = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    await run();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return { name, seconds };
}

function readPrefix(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    const got = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const generateStart = performance.now();
  generate();
  const paths = readdirSync(folder)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => join(folder, n));
  const totalBytes = paths.reduce((sum, p) => sum + statSync(p).size, 0);
  if (paths.length !== FILES) throw new Error(`expected ${FILES} files in ${folder}, found ${paths.length}`);
  for (const p of paths) readFileSync(p); // warm the page cache
  const setupSeconds = (performance.now() - generateStart) / 1000;

  // Check every contender reads the header, so nobody is fast by failing.
  const sample = readHeader(paths[0]!);
  if (!sample.ok || sample.record.rows !== SIZE) throw new Error('our reader failed on the benchmark files');
  const dcmjsSample = dcmjs.data.DicomMessage.readFile(new Uint8Array(readFileSync(paths[0]!)).buffer, { untilTag: '7FE00010', includeUntilTagValue: false });
  if (!dcmjsSample.dict['00280010']) throw new Error('dcmjs failed on the benchmark files');

  const sweep: Row[] = [];
  for (const kib of [4, 16, 32, 64, 256]) {
    sweep.push(
      best(`header reader, first read ${kib} KiB`, () => {
        for (const p of paths) if (!readHeader(p, { initialReadBytes: kib * 1024 }).ok) throw new Error(`failed on ${p}`);
      }),
    );
  }

  const ourReader = best('ours: header reader alone (default first read)', () => {
    for (const p of paths) if (!readHeader(p).ok) throw new Error(`failed on ${p}`);
  });
  const dcmjsWhole = best('dcmjs: readFileSync + DicomMessage.readFile(untilTag 7FE00010)', () => {
    for (const p of paths) {
      const bytes = readFileSync(p);
      dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { untilTag: '7FE00010', includeUntilTagValue: false });
    }
  });
  const dcmjsPrefix = best(`dcmjs: our first ${DEFAULT_INITIAL_READ_BYTES / 1024} KiB + DicomMessage.readFile(untilTag)`, () => {
    for (const p of paths) {
      const bytes = readPrefix(p, DEFAULT_INITIAL_READ_BYTES);
      dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { untilTag: '7FE00010', includeUntilTagValue: false });
    }
  });
  const plainRead = best('fs.readFileSync of each whole file (no parsing)', () => {
    for (const p of paths) readFileSync(p);
  });
  // Last: a finished worker may still be tearing down on another core.
  const emptyFolder = join(folder, 'empty');
  mkdirSync(emptyFolder, { recursive: true });
  const workerStart: Row = {
    ...(await bestAsync('ours: importDicom of an empty folder (worker start-up, included above)', async () => {
      await importDicom({ paths: [emptyFolder] });
    })),
    fixedCost: true,
  };
  const ourImport = await bestAsync('ours: importDicom (worker: scan + headers + grouping)', async () => {
    const outcome = await importDicom({ paths: [folder] });
    if (outcome.files.filter((f) => f.outcome === 'instance').length !== FILES) throw new Error('import missed files');
  });

  const rate = (row: Row) => ({ filesPerSecond: FILES / row.seconds, mbPerSecond: totalBytes / 1e6 / row.seconds });
  const table = (rows: Row[], reference: Row | null) => {
    const lines = [
      `| measurement | seconds | files/s | MB/s${reference ? ' | ours (header reader) ÷ this' : ''} |`,
      `|---|---:|---:|---:|${reference ? '---:|' : ''}`,
    ];
    for (const row of rows) {
      const { filesPerSecond, mbPerSecond } = rate(row);
      if (row.fixedCost) {
        lines.push(`| ${row.name} | ${row.seconds.toFixed(3)} | — | —${reference ? ' | —' : ''} |`);
        continue;
      }
      const ratio = reference ? ` | ${(row.seconds / reference.seconds).toFixed(2)}×` : '';
      lines.push(`| ${row.name} | ${row.seconds.toFixed(3)} | ${filesPerSecond.toFixed(0)} | ${mbPerSecond.toFixed(0)}${ratio} |`);
    }
    return lines.join('\n');
  };

  console.log(`# Header indexing throughput\n`);
  console.log(
    `${FILES} CT-like files, ${SIZE}×${SIZE} 16-bit explicit VR little endian, ${(totalBytes / 1e6).toFixed(1)} MB in all (${(totalBytes / FILES / 1024).toFixed(0)} KiB a file), in ${folder}.`,
  );
  console.log(`Node ${process.version}, best of ${ROUNDS} rounds, warm page cache; MB/s counts whole file sizes indexed per second. Setup ${setupSeconds.toFixed(1)} s.\n`);
  console.log(table([ourImport, workerStart, ourReader, dcmjsWhole, dcmjsPrefix, plainRead], ourReader));
  console.log(`\nA ratio above 1× means the header reader is that many times faster than the row.`);
  const ratioTo = (row: Row) => (row.seconds / ourImport.seconds).toFixed(2);
  console.log(`End to end (importDicom) vs dcmjs whole-file: ${ratioTo(dcmjsWhole)}×; vs plain readFileSync: ${ratioTo(plainRead)}×.\n`);
  console.log(`## First read size (header reader alone)\n`);
  console.log(table(sweep, null));
}

await main();
