// The PACS calls of the contract (contract-pacs.ts), as handlers the host's dispatch
// can merge with its own. Synchronous to create: the service (outbox recovery, the
// listener if enabled) opens in the background and every call waits for it.
import type { z } from 'zod';
import type { ImportResult } from '../../common/dicom-model.ts';
import { pacsCalls, type PacsCallName, type PacsCallResult } from '../../common/contract-pacs.ts';
import { HostError } from '../dispatch.ts';
import { OutboxBusyError, type OutboxOptions } from './outbox.ts';
import { PacsError, UnknownNodeError } from './pacs-failure.ts';
import { PacsService, type PacsEmit } from './pacs-service.ts';
import { SettingsError, viewOfNode, type PacsSettings } from './pacs-settings.ts';

export type PacsCallHandlers = {
  [M in PacsCallName]: (params: z.output<(typeof pacsCalls)[M]['params']>) => Promise<PacsCallResult<M>>;
};

export interface PacsHandlerDeps {
  /** <dataDir>/pacs-nodes.json, <dataDir>/outbox/, <dataDir>/store/. */
  dataDir: string;
  emit: PacsEmit;
  /** The host's import (index merge and dicom.studiesChanged): retrieved and received files go through it. */
  importFiles: (paths: string[], jobId: string) => Promise<ImportResult>;
  /** An indexed series' files, for pacs.send by seriesKey. */
  seriesFiles?: (seriesKey: string) => string[] | undefined;
  /** Electron: only what the user chose may be read (throws HostError 'forbidden-path'). */
  assertReadable?: (paths: string[]) => void;
  log?: (message: string) => void;
  /** Tests: shorter backoff and polling. */
  outbox?: Partial<Pick<OutboxOptions, 'backoff' | 'pollMs' | 'batchSize' | 'transport'>>;
}

export interface PacsHandlers {
  handlers: PacsCallHandlers;
  /** Resolves once the outbox is recovered and the listener (if enabled) runs. */
  ready: Promise<PacsService>;
  dispose(): Promise<void>;
}

export function createPacsHandlers(deps: PacsHandlerDeps): PacsHandlers {
  const ready = PacsService.open({
    dataDir: deps.dataDir,
    emit: deps.emit,
    importFiles: deps.importFiles,
    deliverInBackground: true,
    startListenerIfEnabled: true,
    ...(deps.log ? { log: deps.log } : {}),
    ...(deps.outbox ? { outbox: deps.outbox } : {}),
  });
  ready.catch((error: unknown) => deps.log?.(`PACS services failed to start: ${error instanceof Error ? error.message : String(error)}`));

  // Every handler: wait for the service, and turn expected failures into host errors people can read.
  const withService =
    <P, R>(work: (service: PacsService, params: P) => Promise<R>) =>
    async (params: P): Promise<R> => {
      try {
        return await work(await ready, params);
      } catch (error) {
        throw asHostError(error);
      }
    };

  const listing = (settings: PacsSettings) => ({ nodes: settings.nodes.map(viewOfNode), listener: settings.listener });

  const handlers: PacsCallHandlers = {
    'pacs.nodes.list': withService(async (service) => listing(await service.settings.load())),
    'pacs.nodes.save': withService(async (service, { node, originalName }) => listing(await service.saveNode(node, originalName))),
    'pacs.nodes.remove': withService(async (service, { name }) => listing(await service.removeNode(name))),
    'pacs.nodes.test': withService(async (service, { node }) => service.test(await service.resolve(node))),
    'pacs.find': withService(async (service, { node, query, limit }) => service.find(await service.resolve(node), query, limit)),
    'pacs.retrieve': withService(async (service, { jobId, node, studyInstanceUid, seriesInstanceUid }) =>
      service.retrieve({ jobId, node: await service.resolve(node), studyInstanceUid, ...(seriesInstanceUid ? { seriesInstanceUid } : {}) }),
    ),
    'pacs.cancelRetrieve': withService(async (service, { jobId }) => ({ cancelled: service.cancelRetrieve(jobId) })),
    'pacs.send': withService(async (service, { node, paths = [], seriesKeys = [] }) => {
      const files = [...paths];
      for (const key of seriesKeys) {
        const seriesFiles = deps.seriesFiles?.(key);
        if (!seriesFiles) throw new HostError('not-found', `No series "${key}" in the index.`);
        files.push(...seriesFiles);
      }
      if (paths.length > 0) deps.assertReadable?.(paths);
      const result = await service.send(node, files);
      return { batchId: result.batchId, queued: result.queued, skipped: result.skipped };
    }),
    'outbox.list': withService(async (service) => service.outbox.list()),
    'outbox.flush': withService(async (service) => service.outbox.flush()),
    'outbox.retry': withService(async (service, { ids }) => service.outbox.retry(ids)),
    'outbox.remove': withService(async (service, { ids }) => service.outbox.remove(ids)),
    'listener.status': withService(async (service) => service.listenerStatus()),
    // A port in use is an answer, not an exception: the status carries the reason.
    'listener.start': withService(async (service, change) => service.startListener(change).catch(() => service.listenerStatus())),
    'listener.stop': withService(async (service) => service.stopListener()),
    'listener.conflicts': withService(async (service) => ({ conflicts: await service.conflicts() })),
  };

  return {
    handlers,
    ready,
    async dispose() {
      const service = await ready.catch(() => undefined);
      await service?.close();
    },
  };
}

function asHostError(error: unknown): unknown {
  if (error instanceof HostError) return error;
  if (error instanceof UnknownNodeError) return new HostError('not-found', error.message);
  if (error instanceof SettingsError) return new HostError('invalid-params', error.message);
  if (error instanceof OutboxBusyError) return new HostError('unsupported', error.message);
  if (error instanceof PacsError) return new HostError(error.failure.code === 'config' ? 'invalid-params' : 'internal', error.message);
  return error;
}
