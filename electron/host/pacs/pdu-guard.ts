// PDU lengths are checked on the socket before dcmjs-dimse sees a byte. dcmjs-dimse
// buffers a whole PDU of whatever length the peer's 6-byte header declares (and
// concatenates on every chunk), so a caller announcing a 1 GiB A-ASSOCIATE-RQ would be
// held in memory before any AE title is looked at. The guard sits between the socket and
// the SCP: it reads each PDU header itself, counts the body through without keeping it,
// and closes the connection with an A-ASSOCIATE-RJ or A-ABORT when a length exceeds its
// bound or a PDU comes out of order. What it forwards is byte for byte what arrived.
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

const HEADER_BYTES = 6;

export interface PduLimits {
  /** Largest A-ASSOCIATE-RQ (its length field): 128 presentation contexts with many transfer syntaxes fit in far less. */
  maxAssociateRqBytes: number;
  /** Largest P-DATA-TF: the maximum PDU length we announce in our A-ASSOCIATE-AC. */
  maxPDataBytes: number;
}

/** A-ASSOCIATE-RJ fields (PS3.8 9.3.4): result 1 permanent, 2 transient; source 1 user, 2 ACSE, 3 presentation. */
export interface Rejection {
  result: 1 | 2;
  source: 1 | 2 | 3;
  reason: number;
}

/** A-ABORT (PS3.8 9.3.8) from the service provider (source 2): 1 unrecognized PDU, 2 unexpected PDU, 6 invalid PDU parameter value. */
export const AbortReason = { UnrecognizedPdu: 1, UnexpectedPdu: 2, InvalidPduParameter: 6 } as const;

/** Rejected, transient, presentation-related, local limit exceeded: "too many associations now, try later". */
export const REJECT_BUSY: Rejection = { result: 2, source: 3, reason: 2 };
/** Rejected, permanent, presentation-related, local limit exceeded: this request is larger than we accept. */
export const REJECT_TOO_LARGE: Rejection = { result: 1, source: 3, reason: 2 };

export function associateRjPdu({ result, source, reason }: Rejection): Buffer {
  return Buffer.from([PduType.AssociateRj, 0, 0, 0, 0, 4, 0, result, source, reason]);
}

export function abortPdu(reason: number): Buffer {
  return Buffer.from([PduType.Abort, 0, 0, 0, 0, 4, 0, 0, 2, reason]);
}

export interface GuardOptions {
  limits: PduLimits;
  /** The connection was closed by the guard; `reason` says why, for the log. */
  onRefused: (reason: string) => void;
  /**
   * Refuse this connection once its A-ASSOCIATE-RQ has arrived (read and dropped, never
   * parsed): what a caller over the connection cap gets, so it reads a proper answer.
   */
  refuseAssociation?: { rejection: Rejection; reason: string };
}

/**
 * What the SCP gets instead of the socket: a Duplex that forwards writes to the socket and
 * pushes only bytes that belong to PDUs whose header passed the checks. dcmjs-dimse's
 * Network uses on(), write(), setTimeout() and the 'timeout' event; all are here.
 */
export class GuardedSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  private readonly socket: Socket;
  private readonly options: GuardOptions;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFilled = 0;
  /** Body bytes of the current PDU still to come. */
  private bodyLeft = 0;
  /** The current PDU's bytes are counted but not forwarded (a refused connection's request). */
  private dropping = false;
  private associationRequested = false;
  private refused = false;

  constructor(socket: Socket, options: GuardOptions) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.options = options;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    socket.on('data', (chunk: Buffer) => this.inspect(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
    socket.on('timeout', () => this.emit('timeout'));
  }

  setTimeout(ms: number): this {
    this.socket.setTimeout(ms);
    return this;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.refused) {
      callback();
      return;
    }
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  private inspect(chunk: Buffer): void {
    if (this.refused) return;
    let at = 0;
    let forwardFrom = 0;
    const forward = (end: number) => {
      if (end > forwardFrom && !this.dropping && !this.push(chunk.subarray(forwardFrom, end))) this.socket.pause();
      forwardFrom = end;
    };
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= take;
        at += take;
        if (this.bodyLeft === 0 && this.dropping) {
          this.refuse(associateRjPdu(this.options.refuseAssociation!.rejection), this.options.refuseAssociation!.reason);
          return;
        }
        continue;
      }
      // A header, possibly split across chunks: hold its bytes until all six are here.
      forward(at);
      const take = Math.min(HEADER_BYTES - this.headerFilled, chunk.length - at);
      chunk.copy(this.header, this.headerFilled, at, at + take);
      this.headerFilled += take;
      at += take;
      forwardFrom = at;
      if (this.headerFilled < HEADER_BYTES) return;
      this.headerFilled = 0;
      const type = this.header.readUInt8(0);
      const length = this.header.readUInt32BE(2);
      const problem = this.check(type, length);
      if (problem) {
        this.refuse(problem.reply, problem.reason);
        return;
      }
      if (type === PduType.AssociateRq && this.options.refuseAssociation) {
        this.dropping = true;
        if (length === 0) {
          this.refuse(associateRjPdu(this.options.refuseAssociation.rejection), this.options.refuseAssociation.reason);
          return;
        }
      } else if (!this.dropping && !this.push(Buffer.from(this.header))) this.socket.pause();
      this.bodyLeft = length;
    }
    forward(at);
  }

  private check(type: number, length: number): { reply: Buffer; reason: string } | null {
    const { maxAssociateRqBytes, maxPDataBytes } = this.options.limits;
    if (!this.associationRequested) {
      if (type !== PduType.AssociateRq) {
        return { reply: abortPdu(AbortReason.UnexpectedPdu), reason: `the first PDU is of type 0x${hex(type)}, not an A-ASSOCIATE-RQ` };
      }
      this.associationRequested = true;
      if (length > maxAssociateRqBytes) {
        return {
          reply: associateRjPdu(REJECT_TOO_LARGE),
          reason: `its A-ASSOCIATE-RQ announces ${length} bytes, more than the ${maxAssociateRqBytes} we accept (A-ASSOCIATE-RJ: permanent, local limit exceeded)`,
        };
      }
      return null;
    }
    switch (type) {
      case PduType.PDataTf:
        return length > maxPDataBytes
          ? { reply: abortPdu(AbortReason.InvalidPduParameter), reason: `a P-DATA-TF announces ${length} bytes, more than the maximum PDU length of ${maxPDataBytes} we negotiated (A-ABORT)` }
          : null;
      case PduType.ReleaseRq:
      case PduType.ReleaseRp:
      case PduType.Abort:
        // Fixed size: 4 bytes of reserved fields and reasons.
        return length === 4 ? null : { reply: abortPdu(AbortReason.InvalidPduParameter), reason: `a PDU of type 0x${hex(type)} announces ${length} bytes instead of 4 (A-ABORT)` };
      case PduType.AssociateRq:
      case PduType.AssociateAc:
      case PduType.AssociateRj:
        return { reply: abortPdu(AbortReason.UnexpectedPdu), reason: `a PDU of type 0x${hex(type)} arrived inside an association (A-ABORT)` };
      default:
        return { reply: abortPdu(AbortReason.UnrecognizedPdu), reason: `a PDU of unknown type 0x${hex(type)} (A-ABORT)` };
    }
  }

  private refuse(reply: Buffer, reason: string): void {
    this.refused = true;
    this.options.onRefused(reason);
    this.socket.pause();
    this.socket.end(reply);
    // A peer that keeps the connection open after our answer is cut off.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(2, '0');
}
