// Checks a model folder's files against its manifest: present, the right size, the right
// sha256, and (for ONNX files) every external data file they refer to present and long
// enough. Each problem names the file and what was expected, in words a user can act on.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile } from './manifest.ts';
import { checkExternalData } from './onnx-external-data.ts';

export type ModelFileProblemKind = 'missing' | 'not-a-file' | 'truncated' | 'size-mismatch' | 'sha256-mismatch' | 'unreadable' | 'external-data';

export interface ModelFileProblem {
  path: string;
  kind: ModelFileProblemKind;
  message: string;
}

export async function sha256File(file: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file, { highWaterMark: 4 * 1024 * 1024 });
    stream.on('data', (chunk) => {
      hash.update(chunk);
      onBytes?.(chunk.length);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve());
  });
  return hash.digest('hex');
}

export interface CheckOptions {
  /** Compute sha256 (slow for large files: install and `models verify` do, loading does not). */
  hash: boolean;
  onHashProgress?: (file: string, bytes: number) => void;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]} (${bytes} bytes)`;
}

export async function checkFile(dir: string, entry: ManifestFile, options: CheckOptions): Promise<ModelFileProblem[]> {
  const file = path.join(dir, ...entry.path.split('/'));
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return [{ path: entry.path, kind: 'not-a-file', message: `${entry.path} is not a regular file` }];
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return [
      code === 'ENOENT'
        ? { path: entry.path, kind: 'missing', message: `${entry.path} is missing${entry.size !== null ? ` (expected ${formatBytes(entry.size)})` : ''}` }
        : { path: entry.path, kind: 'unreadable', message: `${entry.path} cannot be read (${code ?? String(error)})` },
    ];
  }
  if (entry.size !== null && size !== entry.size) {
    return [
      size < entry.size
        ? { path: entry.path, kind: 'truncated', message: `${entry.path} is ${formatBytes(size)}, expected ${formatBytes(entry.size)}: truncated (an interrupted copy or download?)` }
        : { path: entry.path, kind: 'size-mismatch', message: `${entry.path} is ${formatBytes(size)}, expected ${formatBytes(entry.size)}: a different file or version` },
    ];
  }
  if (options.hash && entry.sha256 !== null) {
    let digest: string;
    try {
      digest = await sha256File(file, (bytes) => options.onHashProgress?.(entry.path, bytes));
    } catch (error) {
      return [{ path: entry.path, kind: 'unreadable', message: `${entry.path} cannot be read (${String(error)})` }];
    }
    if (digest !== entry.sha256) {
      return [{ path: entry.path, kind: 'sha256-mismatch', message: `${entry.path} has sha256 ${digest}, expected ${entry.sha256}: the file is corrupt or a different version` }];
    }
  }
  if (entry.path.endsWith('.onnx')) {
    const problems = await checkExternalData(file);
    return problems.map((p) => ({ path: entry.path, kind: 'external-data' as const, message: p.message }));
  }
  return [];
}

/** Checks every file; problems in manifest order. */
export async function checkFiles(dir: string, files: readonly ManifestFile[], options: CheckOptions): Promise<ModelFileProblem[]> {
  const problems: ModelFileProblem[] = [];
  for (const entry of files) problems.push(...(await checkFile(dir, entry, options)));
  return problems;
}
