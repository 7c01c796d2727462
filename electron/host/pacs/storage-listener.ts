// The storage listener: a C-STORE SCP (plus C-ECHO) so that C-MOVE works and
// modalities can push to us. Off until started. Data sets are written to the store as
// they arrive, byte for byte in whatever transfer syntax the sender chose (we accept
// any: nothing is decoded here).
import dcmjsDimse from 'dcmjs-dimse';
import net from 'node:net';
import { PresentationContextResult, Status, TransferSyntax, streamStoresToDisk, type Association } from './dimse-association.ts';
import type { InstanceStore, StoredInstance } from './instance-store.ts';

const { Scp, constants } = dcmjsDimse;
const { CEchoResponse, CStoreResponse } = dcmjsDimse.responses;
const { RejectResult, RejectSource, RejectReason, SopClass } = constants;

type CStoreRequest = InstanceType<typeof dcmjsDimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dcmjsDimse.requests.CEchoRequest>;
type ScpOptions = ConstructorParameters<typeof Scp>[1];

export interface ReceivedInstance extends StoredInstance {
  callingAet: string;
}

export interface StorageListenerOptions {
  aeTitle: string;
  port: number;
  bindAddress: string;
  store: InstanceStore;
  /** Whether a calling AE title may store to us (configured nodes only, unless the user allows anyone). */
  acceptCaller: (callingAet: string) => boolean;
  onReceived?: (instance: ReceivedInstance) => void;
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
  private readonly sockets = new Set<net.Socket>();
  received = 0;
  lastReceivedAt: Date | null = null;

  constructor(options: StorageListenerOptions) {
    this.options = options;
  }

  get running(): boolean {
    return this.server?.listening === true;
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const listener = this;
    const { aeTitle, store } = this.options;

    class StoreScp extends Scp {
      private callingAet = '';
      private instances: ReceivedInstance[] = [];

      constructor(socket: net.Socket, opts?: ScpOptions) {
        super(socket, opts);
        streamStoresToDisk(this as unknown as Parameters<typeof streamStoresToDisk>[0], store, '');
        this.on('close', () => {
          if (this.instances.length > 0) listener.options.onAssociationDone?.(this.instances);
          this.instances = [];
        });
      }

      override associationRequested(association: Association): void {
        this.callingAet = association.getCallingAeTitle().trim();
        if (association.getCalledAeTitle().trim() !== aeTitle) {
          listener.options.log?.(`listener: rejected ${this.callingAet}: called AE ${association.getCalledAeTitle()} is not ours (${aeTitle})`);
          this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
          return;
        }
        if (!listener.options.acceptCaller(this.callingAet)) {
          listener.options.log?.(`listener: rejected unknown calling AE ${this.callingAet}`);
          this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
          return;
        }
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
        const received = (request.getDataset() as { receivedFile?: { finish(): Promise<StoredInstance> } } | undefined)?.receivedFile;
        if (!received) {
          response.setStatus(0xa700);
          callback(response);
          return;
        }
        received.finish().then(
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
            listener.options.log?.(`listener: could not store ${request.getAffectedSopInstanceUid()}: ${error instanceof Error ? error.message : String(error)}`);
            response.setStatus(0xa700);
            callback(response);
          },
        );
      }

      override abort(): void {
        // The peer aborted: the socket closes next, and 'close' reports what arrived.
      }

      override cCancelRequest(): void {}
    }

    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const scp = new StoreScp(socket, { connectTimeout: 60_000, associationTimeout: 30_000, pduTimeout: 60_000 });
      scp.on('networkError', (error: Error) => {
        this.options.log?.(`listener: ${error.message}`);
        socket.destroy();
      });
    });
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
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
