// The host: the services behind the contract, as one plain Node object.
// The Electron main process, the browser-mode server, the CLI and the tests all
// create it the same way; only the shell-specific parts (a native dialog) are injected.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { mkdirPrivateSync } from './atomic-file.ts';
import { createRequire } from 'node:module';
import type { AppInfo, EventName, EventPayload, HostEvent } from '../common/contract.ts';
import type { ImportResult } from '../common/dicom-model.ts';
import { dispatch, HostError, type CallHandlers, type DispatchResponse } from './dispatch.ts';
import { PathGrants } from './path-grants.ts';
import { existsSync } from 'node:fs';
import { DbIndex } from './db/db-index.ts';
import { DatabaseCorruptError, isCorruption, moveAside, openStudyDb, studyDbPath } from './db/study-db.ts';
import { dbHandlers, rescanPaths } from './db/db-handlers.ts';
import { importDicom } from './dicom/importer.ts';
import { ensureSample } from './sample/sample-store.ts';
import { createPacsHandlers } from './pacs/pacs-handlers.ts';
import { createInferenceHandlers, indexedSliceCount, loadIndexedSlice } from './inference/inference-handlers.ts';
import type { InferenceChildLauncher } from './inference/inference-child.ts';
import { resolveModelsDir } from './models/registry.ts';
import { SegService, segHandlers } from './seg/seg-service.ts';

export interface HostOptions {
  shell: AppInfo['shell'];
  dataDir: string;
  /** Native file dialog (Electron). Its answers become readable; without it, app.choosePaths is unsupported. */
  choosePaths?: (kind: 'folder' | 'files') => Promise<string[]>;
  /** Models folder; else MEDREASONER_MODELS, else <dataDir>/models. */
  modelsDir?: string;
  /** native-models/ with the known manifests; the checkout's by default (the Electron bundle passes its own). */
  knownManifestsDir?: string;
  /** Electron: import only what the user chose (or the sample). Browser mode and CLI take typed paths. */
  restrictToGrantedPaths?: boolean;
  /** How the inference process starts: fork by default; the Electron shell passes utilityProcess. */
  inferenceLauncher?: InferenceChildLauncher;
  log?: (message: string) => void;
}

export interface Host {
  dispatch(method: string, params: unknown): Promise<DispatchResponse>;
  subscribe(listener: (event: HostEvent) => void): () => void;
  /** The only way a file's bytes become reachable from a renderer: by a key the index handed out. */
  resolveFile(fileKey: string): string | undefined;
  /** Writes the sample if needed (first start) without importing it. */
  prepareSample(): Promise<string>;
  dispose(): Promise<void>;
}

const packageJson = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };

export function createHost(options: HostOptions): Host {
  const log = options.log ?? (() => {});
  // Start-up reads the database, not the files; a corrupt one is moved aside here and rebuilt below.
  mkdirPrivateSync(options.dataDir);
  const dbPath = studyDbPath(options.dataDir);
  const existed = existsSync(dbPath);
  // Only a cheap readability check here: the quick check runs in the start-up job's worker.
  const opened = openStudyDb(dbPath);
  const index = new DbIndex(opened.db);
  const noticeFor = (reason: string, movedTo: string) =>
    `The study database could not be read (${reason}). It was moved to ${movedTo} and is rebuilt from the files.`;
  let dbNotice: string | null = null;
  if (opened.recovery) {
    dbNotice = noticeFor(opened.recovery.reason, opened.recovery.movedTo);
    log(dbNotice);
  }
  let startupScan: Promise<unknown> | null = null;
  const grants = new PathGrants();
  const listeners = new Set<(event: HostEvent) => void>();
  const imports = new Map<string, AbortController>();
  const sampleDir = path.join(options.dataDir, 'sample');
  let samplePath: string | null = null;
  let samplePreparation: Promise<string> | null = null;

  function emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const message = { event, payload } as HostEvent;
    for (const listener of listeners) {
      try {
        listener(message);
      } catch (error) {
        log(`event listener failed on ${event}: ${String(error)}`);
      }
    }
  }

  function prepareSample(): Promise<string> {
    if (samplePreparation) return samplePreparation;
    const preparation = ensureSample(options.dataDir).then(
      (manifest) => {
        samplePath = manifest.seriesDir;
        grants.grant(sampleDir);
        return manifest.seriesDir;
      },
      (error: unknown) => {
        samplePreparation = null; // a failed write may succeed on the next try (disk full, then freed)
        throw error;
      },
    );
    samplePreparation = preparation;
    return preparation;
  }

  async function runImport(jobId: string, paths: string[], runOptions: { onlyChanged?: boolean; trusted?: boolean; check?: boolean } = {}): Promise<ImportResult> {
    if (imports.has(jobId)) throw new HostError('invalid-params', `An import with job id "${jobId}" is already running.`);
    const resolved = paths.map((p) => path.resolve(p));
    // Re-scans walk what was imported before (granted then): roots come from the database, not the renderer.
    if (!runOptions.trusted) assertGranted(resolved);
    const controller = new AbortController();
    imports.set(jobId, controller);
    try {
      let outcome: Awaited<ReturnType<typeof importDicom>>;
      try {
        outcome = await importDicom({
          paths: resolved,
          signal: controller.signal,
          onProgress: (progress) => emit('dicom.importProgress', { jobId, ...progress }),
          dbPath,
          ...(runOptions.onlyChanged ? { onlyChanged: true } : {}),
          ...(runOptions.check ? { check: true } : {}),
        });
      } catch (error) {
        if (!(error instanceof DatabaseCorruptError)) throw error;
        imports.delete(jobId);
        recoverDatabase(error.message);
        throw new HostError('internal', `${dbNotice} Import again once the rebuild has finished.`);
      }
      index.invalidate();
      const merged = {
        seriesKeys: outcome.stored?.seriesKeys ?? [],
        instancesAdded: outcome.stored?.instancesAdded ?? 0,
        problems: outcome.problems,
      };
      emit('dicom.importProgress', {
        jobId,
        phase: 'done',
        done: outcome.files.length,
        total: outcome.files.length,
        problems: merged.problems.length,
      });
      if (merged.seriesKeys.length > 0 || (outcome.stored?.markedMissing ?? 0) > 0) emit('dicom.studiesChanged', { seriesKeys: merged.seriesKeys });
      return {
        jobId,
        cancelled: outcome.cancelled,
        filesSeen: outcome.files.length,
        instancesAdded: merged.instancesAdded,
        seriesKeys: merged.seriesKeys,
        problems: merged.problems,
        elapsedMs: outcome.elapsedMs,
      };
    } finally {
      imports.delete(jobId);
    }
  }

  function assertGranted(paths: string[]): void {
    if (!options.restrictToGrantedPaths) return;
    const refused = paths.map((p) => path.resolve(p)).filter((p) => !grants.allows(p));
    if (refused.length > 0) {
      throw new HostError('forbidden-path', `Not chosen by the user, so not readable: ${refused.join(', ')}`);
    }
  }

  // Files retrieved from PACS or pushed to our listener land in the store: the app's own folder.
  grants.grant(path.join(options.dataDir, 'store'));
  const pacs = createPacsHandlers({
    dataDir: options.dataDir,
    emit,
    importFiles: (paths, jobId) => runImport(jobId, paths),
    seriesFiles: (seriesKey) => index.hostSeries(seriesKey)?.instances.map((instance) => instance.path),
    assertReadable: assertGranted,
    log,
  });

  // Starts the inference process now, so the execution provider is decided (and logged) at start-up.
  const inference = createInferenceHandlers({
    loadSlice: (seriesKey, sliceIndex) => loadIndexedSlice(index, seriesKey, sliceIndex),
    sliceCount: (seriesKey) => indexedSliceCount(index, seriesKey),
    emit,
    models: resolveModelsDir(options.modelsDir, process.env, options.dataDir),
    ...(options.knownManifestsDir ? { knownManifestsDir: options.knownManifestsDir } : {}),
    dataDir: options.dataDir,
    ...(options.inferenceLauncher ? { launcher: options.inferenceLauncher } : {}),
    log,
  });

  // Exported SEGs and SRs go to <dataDir>/segmentations (or a folder the user chose) and are
  // indexed at once, so they appear in their study.
  const segmentationsDir = path.join(options.dataDir, 'segmentations');
  grants.grant(segmentationsDir);
  const seg = new SegService({
    index,
    dataDir: options.dataDir,
    exportDir: segmentationsDir,
    checkPath: (absolutePath) =>
      !options.restrictToGrantedPaths || grants.allows(absolutePath) ? null : `Not chosen by the user: ${absolutePath}`,
    onWritten: async (paths) => {
      await runImport(`seg-written-${randomUUID()}`, paths);
    },
    emit: (event, payload) => emit(event, payload as EventPayload<typeof event>),
  });

  const ownFolders = [path.join(options.dataDir, 'store'), segmentationsDir, sampleDir];
  const dbOptions = {
    index,
    dbPath,
    dataDir: options.dataDir,
    ownFolders,
    deletableFolders: ownFolders.filter((f) => f !== sampleDir),
    notice: () => dbNotice,
    scanning: () => startupScan !== null,
    runImport: (jobId: string, paths: string[], o: { onlyChanged?: boolean } = {}) => runImport(jobId, paths, { ...o, trusted: true }),
  };
  // A damaged database (the start-up job's quick check, or SQLite mid-import): moved aside, a
  // new one opened, and rebuilt from the files in the background; the user is told.
  function recoverDatabase(reason: string): void {
    index.db.close();
    const movedTo = moveAside(dbPath);
    index.replace(openStudyDb(dbPath).db);
    dbNotice = noticeFor(reason, movedTo);
    log(dbNotice);
    emit('dicom.studiesChanged', { seriesKeys: [] });
    startScan(rescanPaths(dbOptions, true), { rebuild: true, check: false });
  }

  // In the background, after start-up has listed what the database holds: folders that changed
  // since the last run (all of them when rebuilding), so files added while the app was closed
  // appear, and the quick check, whose cost grows with the database.
  function startScan(paths: string[], how: { rebuild: boolean; check: boolean }): void {
    const scan: Promise<unknown> = runImport(`startup-scan-${randomUUID()}`, paths, { onlyChanged: !how.rebuild, trusted: true, check: how.check })
      .then(() => {
        if (how.rebuild && dbNotice) emit('dicom.databaseNotice', { message: dbNotice });
      })
      .catch((error: unknown) => {
        if (!(error instanceof HostError && error.code === 'internal' && /rebuilt/.test(error.message))) log(`the start-up re-scan failed: ${String(error)}`);
      })
      .finally(() => {
        if (startupScan === scan) startupScan = null;
      });
    startupScan = scan;
  }

  /** Main-thread reads that meet a damaged database start the recovery instead of failing forever. */
  function readingDb<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (!isCorruption(error)) throw error;
      recoverDatabase(error instanceof Error ? error.message : String(error));
      throw new HostError('internal', dbNotice ?? 'The study database is damaged; it is rebuilt from the files.');
    }
  }

  let startupPaths: string[] = [];
  let dirty = false;
  try {
    readingDb(() => {
      dirty = index.hasDirtyStudies();
      startupPaths = rescanPaths(dbOptions, opened.recovery !== null);
    });
  } catch {
    // recoverDatabase has started the rebuild.
  }
  // Crashed imports' ungrouped studies are finished by this job too, even with nothing to walk.
  if (startupScan === null && (startupPaths.length > 0 || dirty || existed)) {
    startScan(startupPaths, { rebuild: opened.recovery !== null, check: existed && opened.recovery === null });
  }

  const dbCallHandlers = dbHandlers(dbOptions);
  const handlers: CallHandlers = {
    ...dbCallHandlers,
    'dicom.database': async (params) => {
      try {
        return await dbCallHandlers['dicom.database'](params);
      } catch (error) {
        return readingDb(() => {
          throw error;
        });
      }
    },
    ...pacs.handlers,
    ...inference.handlers,
    ...segHandlers(seg),
    'app.info': async () => ({
      name: packageJson.name,
      version: packageJson.version,
      shell: options.shell,
      platform: process.platform,
      nodeVersion: process.version,
      samplePath,
      canChoosePaths: options.choosePaths !== undefined,
    }),
    'app.choosePaths': async ({ kind }) => {
      if (!options.choosePaths) {
        throw new HostError('unsupported', 'This shell has no native file dialog: type a path to import instead.');
      }
      const paths = await options.choosePaths(kind);
      for (const p of paths) grants.grant(p);
      return { paths };
    },
    'dicom.import': async ({ jobId, paths }) => runImport(jobId, paths),
    'dicom.cancelImport': async ({ jobId }) => {
      const controller = imports.get(jobId);
      if (!controller) return { cancelled: false };
      controller.abort();
      return { cancelled: true };
    },
    'dicom.studies': async () => ({ patients: readingDb(() => index.patients()) }),
    'dicom.series': async ({ seriesKey }) => {
      const detail = readingDb(() => index.seriesDetail(seriesKey));
      if (!detail) throw new HostError('not-found', `No series "${seriesKey}" in the index.`);
      return detail;
    },
    'sample.open': async ({ jobId }) => runImport(jobId, [await prepareSample()]),
  };

  return {
    dispatch: (method, params) => dispatch(handlers, method, params, log),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    resolveFile: (fileKey) => index.pathForFileKey(fileKey),
    prepareSample,
    async dispose() {
      for (const controller of imports.values()) controller.abort();
      await Promise.all([pacs.dispose(), inference.dispose(), startupScan]);
      listeners.clear();
      index.db.close();
    },
  };
}
