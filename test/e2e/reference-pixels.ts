// What a slice should look like on screen, computed without Cornerstone: pydicom
// decodes the stored pixels (after DCMTK's dcmdjpeg/dcmdjpls for the JPEG family,
// which pydicom cannot decode here), and the DICOM linear VOI maps them to grey levels.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEBIAN_PYTHON, requireExecutable } from '../host/real-parts.ts';

export type ReferenceDecoder = 'pydicom' | 'dcmdjpeg' | 'dcmdjpls';

export interface ReferenceImage {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  windowCenter: number | null;
  windowWidth: number | null;
  rescaleSlope: number | null;
  rescaleIntercept: number | null;
  /** [frame][row][column] for greyscale, [frame][row][column][sample] for colour. */
  pixels: number[][][] | number[][][][];
}

const SCRIPT = path.join(import.meta.dirname, 'pydicom-pixels.py');

export function referenceImage(file: string, decoder: ReferenceDecoder): ReferenceImage {
  requireExecutable(DEBIAN_PYTHON, "Debian's python3 with python3-pydicom");
  if (decoder === 'pydicom') return readWithPydicom(file);
  const tool = `/usr/bin/${decoder}`;
  requireExecutable(tool, `DCMTK's ${decoder}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mr-ref-'));
  try {
    const decompressed = path.join(dir, 'decompressed.dcm');
    execFileSync(tool, [file, decompressed], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readWithPydicom(decompressed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readWithPydicom(file: string): ReferenceImage {
  const json = execFileSync(DEBIAN_PYTHON, [SCRIPT, file], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(json) as ReferenceImage;
}

/**
 * The grey level (0–255) or RGB triple a viewer shows for one pixel: modality LUT, then
 * the linear window of DICOM PS3.3 C.11.2.1.2 for greyscale, stored values for colour.
 */
export function expectedDisplay(reference: ReferenceImage, frame: number, row: number, column: number, windowCenter: number, windowWidth: number): [number, number, number] {
  const framePixels = reference.pixels[frame];
  const value = framePixels?.[row]?.[column];
  if (value === undefined) throw new Error(`reference has no pixel at frame ${frame}, row ${row}, column ${column}`);
  if (Array.isArray(value)) return [value[0] ?? 0, value[1] ?? 0, value[2] ?? 0];
  const modality = value * (reference.rescaleSlope ?? 1) + (reference.rescaleIntercept ?? 0);
  const c = windowCenter - 0.5;
  const w = windowWidth - 1;
  let grey = modality <= c - w / 2 ? 0 : modality > c + w / 2 ? 255 : ((modality - c) / w + 0.5) * 255;
  if (reference.photometric === 'MONOCHROME1') grey = 255 - grey;
  return [grey, grey, grey];
}
