// Finds the files to index under the given paths, yielding them as they are found so
// parsing (and progress) can start before the walk ends. Follows symbolic links but
// walks each directory once (by device and inode), so link loops end. Hidden files
// are included: a radiologist's export folder is indexed as it is.
import { lstatSync, readdirSync, readlinkSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FileProblem } from '../../common/dicom-model.ts';
import { describeNonFile, ioProblem } from './file-source.ts';

export type ScanItem = { kind: 'file'; path: string } | { kind: 'problem'; problem: FileProblem };

export interface ScanOptions {
  /** Checked between entries: a true answer ends the walk. */
  shouldStop?: () => boolean;
  /** Each folder walked, with its modification time: a later start re-scans only folders that changed. */
  onDirectory?: (path: string, mtimeMs: number) => void;
}

export function* scanPaths(inputs: readonly string[], options: ScanOptions = {}): Generator<ScanItem> {
  const visitedDirectories = new Set<string>();
  const stop = options.shouldStop ?? (() => false);
  for (const input of inputs) {
    if (stop()) return;
    const path = resolve(input);
    const stat = statOrProblem(path);
    if ('problem' in stat) {
      yield { kind: 'problem', problem: stat.problem };
    } else if (stat.stats.isDirectory()) {
      yield* walkDirectory(path, stat.stats, visitedDirectories, stop, options.onDirectory);
    } else if (stat.stats.isFile()) {
      yield { kind: 'file', path };
    } else {
      yield notAFile(path, stat.stats);
    }
  }
}

function* walkDirectory(
  root: string,
  rootStats: Stats,
  visited: Set<string>,
  stop: () => boolean,
  onDirectory?: (path: string, mtimeMs: number) => void,
): Generator<ScanItem> {
  if (!markVisited(rootStats, visited)) return;
  const mtimes = new Map<string, number>([[root, rootStats.mtimeMs]]);
  const pending: string[] = [root];
  while (pending.length > 0) {
    if (stop()) return;
    const directory = pending.pop()!;
    onDirectory?.(directory, mtimes.get(directory) ?? 0);
    mtimes.delete(directory);
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch (error) {
      yield { kind: 'problem', problem: { path: directory, ...problemParts(ioProblem(directory, error)) } };
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirectories: string[] = [];
    for (const entry of entries) {
      if (stop()) return;
      const path = join(directory, entry.name);
      if (entry.isFile()) {
        yield { kind: 'file', path };
        continue;
      }
      // Directories need their inode (loop check); links and unknown types need the target's type.
      const stat = statOrProblem(path);
      if ('problem' in stat) {
        yield { kind: 'problem', problem: stat.problem };
      } else if (stat.stats.isDirectory()) {
        if (markVisited(stat.stats, visited)) {
          subdirectories.push(path);
          mtimes.set(path, stat.stats.mtimeMs);
        }
      } else if (stat.stats.isFile()) {
        yield { kind: 'file', path };
      } else {
        yield notAFile(path, stat.stats);
      }
    }
    // Depth first, in name order: push in reverse so the first name is walked first.
    for (let i = subdirectories.length - 1; i >= 0; i--) pending.push(subdirectories[i]!);
  }
}

function markVisited(stats: Stats, visited: Set<string>): boolean {
  const key = `${stats.dev}:${stats.ino}`;
  if (visited.has(key)) return false;
  visited.add(key);
  return true;
}

function statOrProblem(path: string): { stats: Stats } | { problem: FileProblem } {
  try {
    return { stats: statSync(path) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const target = danglingLinkTarget(path);
      if (target !== null) return { problem: { path, reason: 'unreadable', detail: `${path} is a symbolic link to ${target}, which does not exist.` } };
    }
    return { problem: { path, ...problemParts(ioProblem(path, error)) } };
  }
}

function danglingLinkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

function notAFile(path: string, stats: Stats): ScanItem {
  return {
    kind: 'problem',
    problem: { path, reason: 'unreadable', detail: `${path} is ${describeNonFile(stats)}, not a regular file; it was not read.` },
  };
}

function problemParts(problem: { reason: FileProblem['reason']; message: string }): Pick<FileProblem, 'reason' | 'detail'> {
  return { reason: problem.reason, detail: problem.message };
}
