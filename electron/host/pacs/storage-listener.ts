// The storage listener: a C-STORE SCP (plus C-ECHO) so that C-MOVE works and
// modalities can push to us. Off until started. Data sets are written to the store as
// they arrive, byte for byte in whatever transfer syntax the sender chose (we accept
// any: nothing is decoded here). What a caller can make us do is bounded before dcmjs-dimse
// is involved: every PDU header is checked on the socket (pdu-guard.ts), connections over
// the cap are answered with a transient rejection, a caller must match a configured node by
// AE title and address (caller-policy.ts), and instances and bytes have quotas
// (listener-quotas.ts), each refusal logged with its reason.
import dcmjsDimse from 'dcmjs-dimse';
import net from 'node:net';
import type { ListenerLimits } from '../../common/contract-pacs.ts';
import type { CallerVerdict } from './caller-policy.ts';
import { PresentationContextResult, Status, TransferSyntax, streamStoresToDisk, type Association, type ReceivedDataset } from './dimse-association.ts';
import type { InstanceStore, StoredInstance } from './instance-store.ts';
import { ListenerQuotas, type AssociationQuota } from './listener-quotas.ts';
import { GuardedSocket, REJECT_BUSY, type PduLimits } from './pdu-guard.ts';

const { Scp, constants, Implementation } = dcmjsDimse;
const { CEchoResponse, CStoreResponse } = dcmjsDimse.responses;
const { RejectResult, RejectSource, RejectReason, SopClass } = constants;

type CStoreRequest = InstanceType<typeof dcmjsDimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dcmjsDimse.requests.CEchoRequest>;
type ScpOptions = ConstructorParameters<typeof Scp>[1];

/** Refused: out of resources (PS3.4 C.4.2.1.4): what a C-STORE past a quota gets. */
const STATUS_OUT_OF_RESOURCES = 0xa700;

export interface ReceivedInstance extends StoredInstance {
  callingAet: string;
}

/** A C-STORE the listener refused (a quota, or the store refused the instance). */
export interface RefusedInstance {
  callingAet: string;
  sopInstanceUid: string;
  reason: string;
}

/**
 * Bounds on what a PDU header may announce. The A-ASSOCIATE-RQ bound is 128 KiB: the most
 * a request can propose, 128 presentation contexts, each with a 64-character abstract
 * syntax and a dozen transfer syntaxes, stays under 120 KiB. P-DATA-TF is bounded by the
 * maximum PDU length our A-ASSOCIATE-AC announces (dcmjs-dimse answers min(the caller's,
 * Implementation's 256 KiB)).
 */
export function listenerPduLimits(): PduLimits {
  return { maxAssociateRqBytes: 128 * 1024, maxPDataBytes: Implementation.getMaxPduLength() };
}

export interface StorageListenerOptions {
  aeTitle: string;
  port: number;
  bindAddress: string;
  store: InstanceStore;
  limits: ListenerLimits;
  /** Whether this caller may store to us: its calling AE title and the address it connects from. */
  acceptCaller: (callingAet: string, remoteAddress: string | undefined) => Promise<CallerVerdict>;
  onReceived?: (instance: ReceivedInstance) => void;
  onRefused?: (refusal: RefusedInstance) => void;
  /** Every instance of one association, when it ends (the importer takes them together). */
  onAssociationDone?: (instances: ReceivedInstance[]) => void;
  log?: (message: string) => void;
}

/**
 * When a sender offers several: uncompressed first (a sender never has to compress for us,
 * which could be lossy), else the one it offers (its own encoding, stored as received).
 */
const PREFERRED = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

export class StorageListener {
  private readonly options: StorageListenerOptions;
  private server: net.Server | undefined;
  /** Connections being served (not those over the cap, which only wait for their refusal). */
  private readonly sockets = new Set<net.Socket>();
  private readonly refusing = new Set<net.Socket>();
  private readonly quotas: ListenerQuotas;
  received = 0;
  refused = 0;
  lastReceivedAt: Date | null = null;

  constructor(options: StorageListenerOptions) {
    this.options = options;
    this.quotas = new ListenerQuotas(options.limits);
  }

  get running(): boolean {
    return this.server?.listening === true;
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  private refuse(who: string, why: string): void {
    this.refused++;
    this.options.log?.(`listener: refused ${who}: ${why}`);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const listener = this;
    const { aeTitle, store } = this.options;

    class StoreScp extends Scp {
      private callingAet = '';
      private instances: ReceivedInstance[] = [];
      private readonly peer: string;
      private readonly remoteAddress: string | undefined;
      private readonly quota: AssociationQuota;

      constructor(socket: GuardedSocket, opts?: ScpOptions) {
        super(socket as unknown as net.Socket, opts);
        this.remoteAddress = socket.remoteAddress;
        this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
        this.quota = listener.quotas.association();
        const quota = this.quota;
        streamStoresToDisk(this as unknown as Parameters<typeof streamStoresToDisk>[0], store, '', {
          admit: () => quota.admitInstance(),
          bytes: (count) => quota.addBytes(count),
        });
        this.on('close', () => {
          if (this.instances.length > 0) listener.options.onAssociationDone?.(this.instances);
          this.instances = [];
        });
      }

      override associationRequested(association: Association): void {
        this.callingAet = association.getCallingAeTitle().trim();
        const who = `${this.callingAet} from ${this.peer}`;
        if (association.getCalledAeTitle().trim() !== aeTitle) {
          listener.refuse(who, `called AE ${association.getCalledAeTitle().trim()} is not ours (${aeTitle})`);
          this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
          return;
        }
        listener.options.acceptCaller(this.callingAet, this.remoteAddress).then(
          (verdict) => {
            if (!verdict.accepted) {
              listener.refuse(who, `${verdict.message} (A-ASSOCIATE-RJ: permanent, calling AE title not recognized)`);
              this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
              return;
            }
            this.accept(association);
          },
          (error: unknown) => {
            listener.refuse(who, `the caller check failed: ${error instanceof Error ? error.message : String(error)}`);
            this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceUser, RejectReason.NoReasonGiven);
          },
        );
      }

      private accept(association: Association): void {
        for (const { id } of association.getPresentationContexts()) {
          const context = association.getPresentationContext(id);
          const abstract = context.getAbstractSyntaxUid();
          if (abstract !== SopClass.Verification && !abstract.startsWith('1.2.840.10008.5.1.4.1.1.')) {
            context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
            continue;
          }
          const offered = context.getTransferSyntaxUids();
          const chosen =
            PREFERRED.find((syntax) => offered.includes(syntax)) ?? (abstract === SopClass.Verification ? undefined : offered[0]);
          if (chosen) context.setResult(PresentationContextResult.Accept, chosen);
          else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
        }
        this.sendAssociationAccept();
      }

      override associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
      }

      override cEchoRequest(request: CEchoRequest, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
        const response = CEchoResponse.fromRequest(request);
        response.setStatus(Status.Success);
        callback(response);
      }

      override cStoreRequest(request: CStoreRequest, callback: (response: InstanceType<typeof CStoreResponse>) => void): void {
        const response = CStoreResponse.fromRequest(request);
        const dataset = request.getDataset() as ReceivedDataset | undefined;
        const sop = request.getAffectedSopInstanceUid();
        const refuseStore = (why: string, comment = why) => {
          listener.refuse(`instance ${sop} from ${this.callingAet} (${this.peer})`, why);
          response.setStatus(STATUS_OUT_OF_RESOURCES);
          // Error Comment is 64 characters at most (PS3.7 C.4.2.1.4): the log has the whole reason.
          response.setErrorComment(comment.slice(0, 64));
          callback(response);
          listener.options.onRefused?.({ callingAet: this.callingAet, sopInstanceUid: sop, reason: comment });
        };
        if (dataset?.refusal) return refuseStore(dataset.refusal);
        const received = dataset?.receivedFile;
        if (!received) return refuseStore('nowhere to store it');
        received.finish({ source: this.callingAet }).then(
          (stored) => {
            response.setStatus(Status.Success);
            callback(response);
            const instance = { ...stored, callingAet: this.callingAet };
            this.instances.push(instance);
            listener.received++;
            listener.lastReceivedAt = new Date();
            listener.options.onReceived?.(instance);
          },
          (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            refuseStore(`could not store it: ${message}`, message);
          },
        );
      }

      override abort(): void {
        // The peer aborted: the socket closes next, and 'close' reports what arrived.
      }

      override cCancelRequest(): void {}
    }

    const { maxConnections } = this.options.limits;
    const pduLimits = listenerPduLimits();
    const server = net.createServer((socket) => {
      const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      if (this.sockets.size >= maxConnections) {
        // Over the cap: the caller's request is read (bounded) and answered with a transient rejection, never parsed.
        this.refusing.add(socket);
        socket.on('close', () => this.refusing.delete(socket));
        socket.on('error', () => {});
        socket.setTimeout(10_000, () => socket.destroy());
        new GuardedSocket(socket, {
          limits: pduLimits,
          onRefused: (reason) => this.refuse(peer, reason),
          refuseAssociation: {
            rejection: REJECT_BUSY,
            reason: `${maxConnections} connections are open, the limit (A-ASSOCIATE-RJ: transient, local limit exceeded)`,
          },
        }).on('error', () => {});
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const guarded = new GuardedSocket(socket, { limits: pduLimits, onRefused: (reason) => this.refuse(peer, reason) });
      const scp = new StoreScp(guarded, { connectTimeout: 60_000, associationTimeout: 30_000, pduTimeout: 60_000 });
      scp.on('networkError', (error: Error) => {
        this.options.log?.(`listener: ${error.message}`);
        guarded.destroy();
      });
    });
    // Past twice the cap the kernel's backlog holds them: no socket, no memory, until one closes.
    server.maxConnections = maxConnections * 2;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === 'EADDRINUSE'
          ? `Port ${this.options.port} is in use on ${this.options.bindAddress}: choose another port for the listener.`
          : error.code === 'EACCES'
            ? `Port ${this.options.port} needs privileges on this system: choose a port above 1023.`
            : error.code === 'EADDRNOTAVAIL'
              ? `${this.options.bindAddress} is not an address of this machine: choose one of its addresses (or 127.0.0.1) for the listener.`
              : `The listener could not start on ${this.options.bindAddress}:${this.options.port}: ${error.message}`,
      );
    });
    server.on('error', (error) => this.options.log?.(`listener: ${error.message}`));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of [...this.sockets, ...this.refusing]) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
