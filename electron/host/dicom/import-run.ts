// The import itself, synchronous: walk, read headers, follow DICOMDIRs, group. It runs
// inside the import worker (import-worker.ts); kept apart from the worker plumbing so
// the logic reads (and debugs) as a plain function.
import { lstatSync } from 'node:fs';
import type { FileProblem } from '../../common/dicom-model.ts';
import { readHeader, type HeaderResult } from './header-reader.ts';
import type { FileOutcome, ImportOutcome, ImportPhase, ImportProgressUpdate } from './import-types.ts';
import type { InstanceRecord } from './instance-record.ts';
import { scanPaths } from './scan.ts';
import { buildIndex } from './series-builder.ts';

export interface RunImportOptions {
  shouldStop?: () => boolean;
  onProgress?: (update: ImportProgressUpdate) => void;
  /** Minimum milliseconds between progress updates of the same phase (~10 a second by default). */
  progressIntervalMs?: number;
  initialReadBytes?: number;
  /** A persistent index: unchanged files come from it unread, every result is written to it. */
  store?: ImportStore;
}

/** What the import needs from a persistent index (db/db-writer.ts implements it). */
export interface ImportStore {
  known(path: string): HeaderResult | null;
  /** Stores the result; may turn it into a problem (a SOP Instance UID the index holds under another path). */
  put(path: string, result: HeaderResult): HeaderResult;
  directory(path: string, mtimeMs: number): void;
}

/** Paths the walk may run ahead of the reader before reading starts, and how long it may take. */
const SCAN_AHEAD_PATHS = 5000;
const SCAN_AHEAD_MS = 100;

export function runImport(paths: readonly string[], options: RunImportOptions = {}): Omit<ImportOutcome, 'elapsedMs'> {
  const shouldStop = options.shouldStop ?? (() => false);
  const interval = options.progressIntervalMs ?? 100;
  const order: string[] = [];
  const seen = new Set<string>();
  const readProblems = new Map<string, FileProblem>();
  const records: InstanceRecord[] = [];
  let done = 0;
  let phase: ImportPhase = 'scan';
  let lastReport = -Infinity;
  let lastPhase: ImportPhase | null = null;

  const report = (force = false) => {
    const now = performance.now();
    if (!force && phase === lastPhase && now - lastReport < interval) return;
    lastReport = now;
    lastPhase = phase;
    options.onProgress?.({ phase, done, total: seen.size, problems: readProblems.size });
  };
  const addProblem = (problem: FileProblem) => {
    if (seen.has(problem.path)) return;
    seen.add(problem.path);
    order.push(problem.path);
    readProblems.set(problem.path, problem);
    options.store?.put(problem.path, { ok: false, problem });
    done++;
  };
  let queue: string[] = [];
  let head = 0;
  const enqueue = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    order.push(path);
    queue.push(path);
  };
  const readQueued = () => {
    while (head < queue.length && !shouldStop()) {
      const path = queue[head++]!;
      const store = options.store;
      const known = store?.known(path) ?? null;
      const read = known ?? readHeader(path, { initialReadBytes: options.initialReadBytes });
      const result = store && !known ? store.put(path, read) : read;
      done++;
      if (!result.ok) {
        readProblems.set(path, result.problem);
      } else {
        records.push(result.record);
        if (result.record.kind === 'DICOMDIR') followDicomdir(result.record, enqueue, addProblem, seen);
      }
      report();
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
  };

  report(true);
  const store = options.store;
  const walk = scanPaths(paths, { shouldStop, ...(store ? { onDirectory: (path: string, mtimeMs: number) => store.directory(path, mtimeMs) } : {}) });
  let walking = true;
  while (walking && !shouldStop()) {
    const burstStart = performance.now();
    while (queue.length - head < SCAN_AHEAD_PATHS && performance.now() - burstStart < SCAN_AHEAD_MS) {
      const next = walk.next();
      if (next.done) {
        walking = false;
        phase = 'parse';
        break;
      }
      if (next.value.kind === 'problem') addProblem(next.value.problem);
      else enqueue(next.value.path);
    }
    report(!walking);
    readQueued();
  }
  const cancelled = shouldStop();

  phase = 'group';
  report(true);
  const built = buildIndex(records);
  const builtByPath = new Map<string, FileOutcome>(built.outcomes.map((o) => [o.path, o]));
  const files: FileOutcome[] = [];
  for (const path of order) {
    const problem = readProblems.get(path);
    if (problem) files.push({ path, outcome: 'problem', reason: problem.reason, detail: problem.detail });
    else {
      const outcome = builtByPath.get(path);
      if (outcome) files.push(outcome);
      // No outcome: found but not read before a cancel; a cancelled outcome lists only what was read.
    }
  }
  const duplicatePaths = new Set(built.duplicates.map((d) => d.path));
  const problems = files.flatMap((f): FileProblem[] => (f.outcome === 'problem' ? [{ path: f.path, reason: f.reason, detail: f.detail }] : []));
  return {
    files,
    records: records.filter((r) => !duplicatePaths.has(r.path)),
    patients: built.patients,
    series: built.series,
    problems,
    cancelled,
  };
}

function followDicomdir(
  dicomdir: InstanceRecord,
  enqueue: (path: string) => void,
  addProblem: (problem: FileProblem) => void,
  seen: Set<string>,
): void {
  for (const path of dicomdir.referencedFiles ?? []) {
    if (seen.has(path)) continue;
    try {
      lstatSync(path);
    } catch {
      addProblem({
        path,
        reason: 'unreadable',
        detail: `Listed in the DICOMDIR ${dicomdir.path}, but ${path} does not exist.`,
      });
      continue;
    }
    enqueue(path);
  }
}
