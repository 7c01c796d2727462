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

type Rgb = [number, number, number];

/** A pixel's modality values (HU for CT) or its RGB, before any window. */
function valueAt(reference: ReferenceImage, frame: number, row: number, column: number): Rgb | number | undefined {
  const value = reference.pixels[frame]?.[row]?.[column];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return [value[0] ?? 0, value[1] ?? 0, value[2] ?? 0];
  return value * (reference.rescaleSlope ?? 1) + (reference.rescaleIntercept ?? 0);
}

/** The linear window of DICOM PS3.3 C.11.2.1.2, to 0–255. */
function windowed(reference: ReferenceImage, modality: number, windowCenter: number, windowWidth: number): number {
  const c = windowCenter - 0.5;
  const w = windowWidth - 1;
  const grey = modality <= c - w / 2 ? 0 : modality > c + w / 2 ? 255 : ((modality - c) / w + 0.5) * 255;
  return reference.photometric === 'MONOCHROME1' ? 255 - grey : grey;
}

/** The grey level (0–255, as RGB) or RGB triple a viewer shows at the centre of one pixel. */
export function expectedDisplay(reference: ReferenceImage, frame: number, row: number, column: number, windowCenter: number, windowWidth: number): Rgb {
  const value = valueAt(reference, frame, row, column);
  if (value === undefined) throw new Error(`reference has no pixel at frame ${frame}, row ${row}, column ${column}`);
  if (Array.isArray(value)) return value;
  const grey = windowed(reference, value, windowCenter, windowWidth);
  return [grey, grey, grey];
}

/**
 * The span of what a screen pixel may show when its centre falls up to `reach` image
 * pixels away from the image pixel's centre: the viewer interpolates linearly between
 * neighbours before the window (so a fat pixel next to air may legitimately turn black
 * at a soft-tissue window). Screen pixel centres are at most half a screen pixel off,
 * so reach = 0.5 / magnification.
 */
export function expectedDisplayRange(
  reference: ReferenceImage,
  frame: number,
  row: number,
  column: number,
  windowCenter: number,
  windowWidth: number,
  reach: number,
): { low: Rgb; high: Rgb } {
  const centre = valueAt(reference, frame, row, column);
  if (centre === undefined) throw new Error(`reference has no pixel at frame ${frame}, row ${row}, column ${column}`);
  const centreRgb: Rgb = Array.isArray(centre) ? centre : [centre, centre, centre];
  const low: Rgb = [...centreRgb];
  const high: Rgb = [...centreRgb];
  for (let dr = -1; dr <= 1; dr++) {
    for (let dc = -1; dc <= 1; dc++) {
      const neighbour = valueAt(reference, frame, row + dr, column + dc);
      if (neighbour === undefined) continue;
      const neighbourRgb: Rgb = Array.isArray(neighbour) ? neighbour : [neighbour, neighbour, neighbour];
      for (let channel = 0; channel < 3; channel++) {
        const mixed = centreRgb[channel]! + reach * (neighbourRgb[channel]! - centreRgb[channel]!);
        low[channel] = Math.min(low[channel]!, mixed);
        high[channel] = Math.max(high[channel]!, mixed);
      }
    }
  }
  if (Array.isArray(centre)) return { low, high };
  // The window is monotonic: the span of values maps to a span of greys.
  const a = windowed(reference, low[0], windowCenter, windowWidth);
  const b = windowed(reference, high[0], windowCenter, windowWidth);
  const [greyLow, greyHigh] = a <= b ? [a, b] : [b, a];
  return { low: [greyLow, greyLow, greyLow], high: [greyHigh, greyHigh, greyHigh] };
}

/** How far a screen colour lies outside an expected span (0 inside), largest over the channels. */
export function distanceOutside(rgb: readonly number[], range: { low: Rgb; high: Rgb }): number {
  let worst = 0;
  for (let channel = 0; channel < 3; channel++) {
    const value = rgb[channel] ?? 0;
    worst = Math.max(worst, range.low[channel]! - value, value - range.high[channel]!);
  }
  return worst;
}
