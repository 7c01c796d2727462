// A DICOM Upper Layer peer written from PS3.8 for the listener's tests: it builds its
// own A-ASSOCIATE-RQ (so it can lie about lengths, or call from another address) and
// reads back the first PDU the listener answers with, byte by byte.
import net from 'node:net';

const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

function aeField(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'ascii');
}

function item(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function uidItem(type: number, uid: string): Buffer {
  return item(type, Buffer.from(uid, 'ascii'));
}

export function pduHeader(type: number, length: number): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 2);
  return header;
}

/** A well-formed A-ASSOCIATE-RQ proposing Verification (C-ECHO). */
export function associateRq(callingAet: string, calledAet: string): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version
  aeField(calledAet).copy(fixed, 4);
  aeField(callingAet).copy(fixed, 20);
  const context = item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), uidItem(0x30, VERIFICATION), uidItem(0x40, IMPLICIT_LE)]));
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(16384, 0);
  const userInfo = item(0x50, Buffer.concat([item(0x51, maxLength), uidItem(0x52, '1.2.826.0.1.3680043.10.1.1')]));
  const body = Buffer.concat([fixed, uidItem(0x10, APPLICATION_CONTEXT), context, userInfo]);
  return Buffer.concat([pduHeader(0x01, body.length), body]);
}

export const A_RELEASE_RQ = Buffer.concat([pduHeader(0x05, 4), Buffer.alloc(4)]);

export interface Pdu {
  type: number;
  body: Buffer;
}

/** The three A-ASSOCIATE-RJ fields (result, source, reason) or A-ABORT's (source, reason). */
export function rejectFields(pdu: Pdu): { result: number; source: number; reason: number } {
  return { result: pdu.body[1]!, source: pdu.body[2]!, reason: pdu.body[3]! };
}

export class RawPeer {
  readonly socket: net.Socket;
  private buffered = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, options: { host?: string; localAddress?: string } = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: options.host ?? '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      socket.once('connect', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The next whole PDU the listener sent, or null when the connection closed first. */
  async readPdu(timeoutMs = 10_000): Promise<Pdu | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 6) {
        const length = this.buffered.readUInt32BE(2);
        if (this.buffered.length >= 6 + length) {
          const pdu = { type: this.buffered[0]!, body: Buffer.from(this.buffered.subarray(6, 6 + length)) };
          this.buffered = this.buffered.subarray(6 + length);
          return pdu;
        }
      }
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('no PDU from the listener in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Writes `total` bytes of zeros in 1 MiB pieces until done or the listener closes the connection. */
  async flood(total: number): Promise<number> {
    const piece = Buffer.alloc(1024 * 1024);
    let sent = 0;
    while (sent < total && !this.closed) {
      const ok = this.socket.write(piece);
      sent += piece.length;
      if (!ok) await Promise.race([new Promise((resolve) => this.socket.once('drain', resolve)), this.closedPromise]);
    }
    return sent;
  }

  close(): void {
    this.socket.destroy();
  }
}
