// One DIMSE association with dcmjs-dimse, as a promise: connect, associate, run the
// requests, release, and say precisely how it ended (refused, timed out, rejected with
// the PACS's reason, aborted, lost). dcmjs-dimse reports these as events and wraps
// socket errors in plain messages, so we listen to its socket as well.
//
// Two hooks reach into the Client's network object (dcmjs-dimse 0.3.3 creates it
// synchronously in send()): one adds storage presentation contexts with the SCP role
// (C-GET needs them for SOP classes dcmjs-dimse does not list, such as Segmentation),
// one streams received C-STORE data sets straight to disk, byte for byte, instead of
// through a parse and re-encode.
import dcmjsDimse from 'dcmjs-dimse';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { DimseNode, PacsFailure } from '../../common/contract-pacs.ts';
import { pacsFailure, rejectionFailure, socketFailure } from './pacs-failure.ts';
import type { IncomingFile, InstanceStore, StoredInstance } from './instance-store.ts';
import { MEDREASONER_IMPLEMENTATION_CLASS_UID, MEDREASONER_IMPLEMENTATION_VERSION } from './part10.ts';

const { Client, Dataset, Implementation, constants, log } = dcmjsDimse;
const { CStoreResponse } = dcmjsDimse.responses;

export type Association = InstanceType<typeof dcmjsDimse.association.Association>;
type PresentationContext = InstanceType<typeof dcmjsDimse.association.PresentationContext>;
export type DimseRequest = InstanceType<typeof dcmjsDimse.requests.Request>;
type CStoreRequest = InstanceType<typeof dcmjsDimse.requests.CStoreRequest>;
type CStoreResponseType = InstanceType<typeof dcmjsDimse.responses.CStoreResponse>;
type DimseDataset = InstanceType<typeof dcmjsDimse.Dataset>;

// The library logs through loglevel to the console; the app reports outcomes itself.
log.setLevel(process.env.MEDREASONER_DIMSE_LOG === 'debug' ? 'debug' : 'silent');
Implementation.setImplementationClassUid(MEDREASONER_IMPLEMENTATION_CLASS_UID);
Implementation.setImplementationVersion(MEDREASONER_IMPLEMENTATION_VERSION);

export const { Status, TransferSyntax, PresentationContextResult } = constants;

/** Storage SOP classes dcmjs-dimse's StorageClass list lacks and a workstation must receive. */
export const EXTRA_STORAGE_SOP_CLASSES = [
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.3', // Deformable Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.66.5', // Surface Segmentation
  '1.2.840.10008.5.1.4.1.1.66.7', // Label Map Segmentation
  '1.2.840.10008.5.1.4.1.1.30', // Parametric Map
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.88.34', // Comprehensive 3D SR
  '1.2.840.10008.5.1.4.1.1.88.59', // Key Object Selection Document
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
];

export interface DimseTimeouts {
  /** Connect, and also the longest silence tolerated on an open connection. */
  connectMs: number;
  /** From connect to the PACS's answer to our association request. */
  associationMs: number;
  /** The longest wait for the next message once associated (a C-GET of a big study waits on the PACS). */
  responseMs: number;
}

export const DEFAULT_TIMEOUTS: DimseTimeouts = { connectMs: 10_000, associationMs: 15_000, responseMs: 60_000 };

export interface AssociationOptions {
  node: Pick<DimseNode, 'host' | 'port' | 'calledAet' | 'callingAet' | 'tls'>;
  timeouts?: Partial<DimseTimeouts>;
  /** Propose these storage SOP classes with the SCP role (C-GET sub-operations arrive on them). */
  receiveStorage?: boolean;
  /** Where C-STORE sub-operations (C-GET) are written. */
  incoming?: InstanceStore;
  onStored?: (instance: StoredInstance) => void;
  /** A C-STORE sub-operation we refused (0xA700): which one (from 1), and why. */
  onRefused?: (refusal: StoreRefusal) => void;
  /** The association is up; `cancel` sends C-CANCEL for a C-FIND, C-GET or C-MOVE in flight. */
  onAccepted?: (association: Association, cancel: (request: DimseRequest) => void) => void;
  /** Last changes to the proposed presentation contexts before the association request goes out. */
  adjustContexts?: (association: Association) => void;
  /** Aborts the association (after onCancel had its chance, e.g. to send C-CANCEL). */
  signal?: AbortSignal;
  onCancel?: (cancel: (request: DimseRequest) => void) => void;
  /** How long a cancelled exchange may take to wind down before we abort it. */
  cancelGraceMs?: number;
}

/** An instance a peer sent us that our store refused; the peer counts it as a failed sub-operation. */
export interface StoreRefusal {
  sopInstanceUid: string;
  position: number;
  reason: string;
}

export interface AssociationOutcome {
  /** The association was accepted (requests ran, maybe not all to the end). */
  accepted: boolean;
  /** Released cleanly after every request finished. */
  released: boolean;
  failure: PacsFailure | null;
  cancelled: boolean;
}

interface NetworkInternals {
  socket: Socket;
  sendAssociationRequest(association: Association): void;
  createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable;
  createDatasetFromStoreWritableStream(writable: Writable, context: PresentationContext, callback: (dataset: DimseDataset) => void): void;
  on(event: 'abort', listener: (abort: { source: number; reason: number }) => void): void;
}

/** A data set received to disk: the Dataset dcmjs-dimse hands on carries only its file, or why it was not kept. */
export interface ReceivedDataset extends DimseDataset {
  receivedFile?: IncomingFile;
  /** The instance was refused before its first byte (a quota): nothing was written. */
  refusal?: string;
}

/** The listener's limits, consulted as each C-STORE arrives. */
export interface StoreGate {
  /** Before an instance's bytes: a reason to refuse it, or null. */
  admit(): string | null;
  /** As its bytes arrive: a reason to stop storing it (its remaining bytes are dropped), or null. */
  bytes(count: number): string | null;
}

/** An instance refused by the StoreGate part-way: its partial file is gone. */
export class StoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreRefusedError';
  }
}

export function describeNode(node: Pick<DimseNode, 'host' | 'port' | 'calledAet'>): string {
  return `${node.calledAet}@${node.host}:${node.port}`;
}

export function runAssociation(requests: DimseRequest[], options: AssociationOptions): Promise<AssociationOutcome> {
  const { node } = options;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const target = describeNode(node);
  const client = new Client();
  for (const request of requests) client.addRequest(request);
  /** C-STOREs the PACS sent us on this association (C-GET sub-operations), for naming a refused one. */
  let storeRequests = 0;

  return new Promise<AssociationOutcome>((resolve) => {
    let accepted = false;
    let released = false;
    let cancelled = false;
    let failure: PacsFailure | null = null;
    let socketError: unknown;
    let settled = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const fail = (next: PacsFailure) => {
      failure ??= next;
    };

    const finish = () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (!failure && !released && !cancelled) {
        fail(
          accepted
            ? pacsFailure('connection-lost', `${target} closed the connection before the exchange finished.`)
            : pacsFailure('connection-lost', `${target} closed the connection without answering the association request.`),
        );
      }
      resolve({ accepted, released, failure: cancelled ? null : failure, cancelled });
    };

    const cancelRequest = (request: DimseRequest) => {
      try {
        client.cancel(request as Parameters<typeof client.cancel>[0]);
      } catch {
        // already closed
      }
    };
    client.on('associationAccepted', (association: Association) => {
      accepted = true;
      options.onAccepted?.(association, cancelRequest);
    });
    client.on('associationRejected', (rejection: { result: number; source: number; reason: number }) => {
      fail(rejectionFailure(rejection, target));
    });
    client.on('associationReleased', () => {
      released = true;
    });
    client.on('networkError', (error: Error) => {
      if (socketError !== undefined) fail(socketFailure(socketError, target));
      else if (/timeout/i.test(error.message)) fail(pacsFailure('timeout', `${target} did not answer in time (${error.message.replace(/^.*?->\s*/, '')}).`));
      else fail(pacsFailure('protocol', `${target}: ${error.message.replace(/^.*?->\s*/, '')}`));
      // dcmjs-dimse only ends the socket; a peer that never answers would keep it half open.
      destroySocketSoon(500);
    });
    client.on('closed', finish);
    if (options.receiveStorage || options.incoming) {
      client.on('cStoreRequest', (request: CStoreRequest, callback: (response: CStoreResponseType) => void) => {
        void answerStore(request, callback);
      });
    }

    const onAbort = () => {
      cancelled = true;
      // C-CANCEL needs an association; before there is one, just hang up.
      if (options.onCancel && accepted) {
        options.onCancel(cancelRequest);
        timers.push(setTimeout(abortNow, options.cancelGraceMs ?? 3000));
      } else if (!accepted) {
        // Nothing to abort politely yet: hang up before the association starts.
        network?.socket.destroy();
      } else abortNow();
    };
    const abortNow = () => {
      try {
        client.abort();
      } catch {
        // no network yet or already closed
      }
      destroySocketSoon(300);
    };

    let network: NetworkInternals | undefined;
    const destroySocketSoon = (delayMs: number) => {
      timers.push(setTimeout(() => network?.socket.destroy(), delayMs));
    };

    try {
      client.send(node.host, node.port, node.callingAet, node.calledAet, {
        connectTimeout: timeouts.connectMs,
        associationTimeout: timeouts.associationMs,
        pduTimeout: timeouts.responseMs,
        ...(node.tls ? { securityOptions: { rejectUnauthorized: true } } : {}),
      });
    } catch (error) {
      fail(pacsFailure('protocol', `Could not start the association with ${target}: ${error instanceof Error ? error.message : String(error)}`));
      settled = true;
      resolve({ accepted, released, failure, cancelled });
      return;
    }
    network = networkOf(client);
    // Ahead of dcmjs-dimse's own listeners, which report the error before we would see its code.
    network.socket.prependListener('error', (error) => {
      socketError = error;
    });
    network.socket.prependListener('timeout', () => {
      socketError ??= Object.assign(new Error('socket timeout'), { code: 'ETIMEDOUT' });
    });
    network.on('abort', ({ source, reason }) => {
      fail(pacsFailure('association-aborted', `${target} aborted the association (A-ABORT source ${source}, reason ${reason}).`));
    });
    if (options.receiveStorage || options.adjustContexts) {
      const adjust = options.adjustContexts;
      const receive = options.receiveStorage;
      const send = network.sendAssociationRequest.bind(network);
      network.sendAssociationRequest = (association: Association) => {
        if (receive) addStorageContexts(association);
        adjust?.(association);
        send(association);
      };
    }
    if (options.incoming) streamStoresToDisk(network, options.incoming, node.calledAet);

    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });

  async function answerStore(request: CStoreRequest, callback: (response: CStoreResponseType) => void): Promise<void> {
    const position = ++storeRequests;
    const response = CStoreResponse.fromRequest(request);
    const refuse = (reason: string) => {
      response.setStatus(0xa700); // Refused: out of resources
      // Error Comment is 64 characters at most (PS3.7 C.4.2.1.4); onRefused has the whole reason.
      response.setErrorComment(`could not store: ${reason}`.slice(0, 64));
      callback(response);
      options.onRefused?.({ sopInstanceUid: request.getAffectedSopInstanceUid(), position, reason });
    };
    const received = (request.getDataset() as ReceivedDataset | undefined)?.receivedFile;
    if (!received) return refuse('nowhere to store it');
    try {
      const stored = await received.finish({ source: node.calledAet });
      response.setStatus(Status.Success);
      callback(response);
      options.onStored?.(stored);
    } catch (error) {
      refuse(error instanceof Error ? error.message : String(error));
    }
  }
}

function networkOf(client: InstanceType<typeof Client>): NetworkInternals {
  const network = (client as unknown as { network?: NetworkInternals }).network;
  if (!network || typeof network.sendAssociationRequest !== 'function' || !network.socket) {
    throw new Error('dcmjs-dimse internals changed (Client.network): this code was written against dcmjs-dimse 0.3.3');
  }
  return network;
}

/** Every storage SOP class, SCP role, uncompressed syntaxes: what getscu proposes, plus the classes dcmjs-dimse lacks. */
function addStorageContexts(association: Association): void {
  const known = new Set<string>(Object.values(constants.StorageClass));
  for (const sopClass of [...known, ...EXTRA_STORAGE_SOP_CLASSES]) {
    const id = association.addOrGetPresentationContext(sopClass);
    const context = association.getPresentationContext(id);
    context.setProviderRole(true);
    for (const syntax of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]) {
      if (!context.hasTransferSyntaxUid(syntax)) context.addTransferSyntaxUid(syntax);
    }
  }
}

/** Received data sets go to disk as they arrive, in the accepted transfer syntax, untouched. */
export function streamStoresToDisk(
  network: Pick<NetworkInternals, 'createStoreWritableStream' | 'createDatasetFromStoreWritableStream'>,
  store: InstanceStore,
  sourceAet: string,
  gate?: StoreGate,
): void {
  const files = new WeakMap<Writable, IncomingFile>();
  const refusals = new WeakMap<Writable, string>();
  network.createStoreWritableStream = (context, request) => {
    const refusal = gate?.admit() ?? null;
    if (refusal) {
      // dcmjs-dimse writes the data set somewhere regardless: into nothing.
      const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      refusals.set(sink, refusal);
      return sink;
    }
    const incoming = store.beginDataset({
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian,
      sourceAet,
    });
    if (!gate) {
      files.set(incoming.stream, incoming);
      return incoming.stream;
    }
    let stopped: string | null = null;
    let discarded: Promise<void> = Promise.resolve();
    const counted = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (stopped) return callback();
        stopped = gate.bytes(chunk.length);
        if (stopped) {
          discarded = incoming.discard();
          return callback();
        }
        if (incoming.stream.write(chunk)) callback();
        else incoming.stream.once('drain', () => callback());
      },
      final: (callback) => {
        if (!stopped) incoming.stream.end();
        callback();
      },
    });
    files.set(counted, {
      stream: incoming.stream,
      finish: async (options) => {
        await finished(counted);
        if (stopped) {
          // Answered only once the partial file is gone.
          await discarded;
          throw new StoreRefusedError(stopped);
        }
        return incoming.finish(options);
      },
      discard: () => incoming.discard(),
    });
    return counted;
  };
  network.createDatasetFromStoreWritableStream = (writable, context, callback) => {
    const dataset = new Dataset({}, context.getAcceptedTransferSyntaxUid()) as ReceivedDataset;
    dataset.receivedFile = files.get(writable);
    const refusal = refusals.get(writable);
    if (refusal) dataset.refusal = refusal;
    callback(dataset);
  };
}
