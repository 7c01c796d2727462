// pydicom's corpus as the host tests read it: which files it has in which transfer syntax,
// and pydicom's own decoding of them (pydicom-frames.py, run by Debian's python3).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { DEBIAN_PYTHON, PYDICOM_TEST_FILES } from './real-parts.ts';

const JUDGE = path.join(import.meta.dirname, 'pydicom-frames.py');

export interface CorpusFile {
  path: string;
  syntax: string;
  frames: number;
  sopInstanceUid: string;
  lossy: boolean;
  photometric: string;
  samplesPerPixel: number;
  rescaleSlope: number;
}

export interface Reference {
  rows: number;
  columns: number;
  frames: Float64Array[];
}

/** Every file of pydicom's corpus that has pixel data, with its transfer syntax. */
export function corpus(): CorpusFile[] {
  const out = execFileSync(DEBIAN_PYTHON, [JUDGE, '--list', PYDICOM_TEST_FILES], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return out.trim().split('\n').map((line) => JSON.parse(line) as CorpusFile);
}

/** pydicom's decoding of each file (modality values or luminance per frame), or its error. */
export function pydicomFrames(files: readonly string[]): Map<string, Reference | { error: string }> {
  const out = execFileSync(DEBIAN_PYTHON, [JUDGE, ...files], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const result = new Map<string, Reference | { error: string }>();
  for (const line of out.trim().split('\n')) {
    const parsed = JSON.parse(line) as { path: string; rows: number; columns: number; frames: string[] } | { path: string; error: string };
    if ('error' in parsed) result.set(parsed.path, { error: parsed.error });
    else {
      result.set(parsed.path, {
        rows: parsed.rows,
        columns: parsed.columns,
        frames: parsed.frames.map((b64) => {
          const bytes = Buffer.from(b64, 'base64');
          return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        }),
      });
    }
  }
  return result;
}

/** Syntaxes whose decoding is defined exactly: any conforming decoder returns the encoder's input. */
export const LOSSLESS = new Set([
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.110',
]);

