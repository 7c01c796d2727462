// Where retrieved and received instances land: <root>/<study UID>/<series UID>/<SOP UID>.dcm.
// Bytes stream to a temporary file in <root>/.incoming and are renamed into place once
// complete, so a half-received instance is never mistaken for a whole one and an
// instance received twice replaces the first copy instead of doubling it.
import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { mkdirPrivate, mkdirPrivateSync, PRIVATE_FILE_MODE } from '../atomic-file.ts';
import path from 'node:path';
import { readInstanceInfo, type InstanceInfo } from './instance-info.ts';
import { encodeFileMeta, isPathSafeUid, type FileMetaFields } from './part10.ts';

export interface StoredInstance extends InstanceInfo {
  path: string;
}

export interface IncomingFile {
  /** Receives the bytes (the data set for DIMSE, the whole Part 10 file for DICOMweb). */
  readonly stream: WriteStream;
  /** Waits for the bytes to reach the disk, files the instance, and tells where it went. */
  finish(): Promise<StoredInstance>;
  /** Drops a partial file (cancelled or failed transfer). */
  discard(): Promise<void>;
}

export class InstanceStore {
  readonly root: string;
  private readonly incomingDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.incomingDir = path.join(this.root, '.incoming');
    // Synchronous on purpose: DIMSE asks for a writable stream synchronously, mid-association.
    mkdirPrivateSync(this.incomingDir);
  }

  /** A data set as DIMSE delivers it: we write the Part 10 envelope in front of it. */
  beginDataset(meta: FileMetaFields): IncomingFile {
    const incoming = this.begin();
    incoming.stream.write(encodeFileMeta(meta));
    return incoming;
  }

  /** A whole Part 10 file (a WADO-RS part). */
  beginPart10(): IncomingFile {
    return this.begin();
  }

  /** Where an instance goes. Odd UIDs (not digits and dots) are hashed rather than trusted as names. */
  pathFor(info: Pick<InstanceInfo, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>): string {
    return path.join(this.root, safeName(info.studyInstanceUid), safeName(info.seriesInstanceUid), `${safeName(info.sopInstanceUid)}.dcm`);
  }

  private begin(): IncomingFile {
    const temporary = path.join(this.incomingDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.part`);
    // Received instances are patient data: owner-only (the umask is applied at create, chmod makes it exact).
    const stream = createWriteStream(temporary, { mode: PRIVATE_FILE_MODE });
    let streamError: Error | undefined;
    stream.on('error', (error) => {
      streamError = error;
    });
    const closed = new Promise<void>((resolve, reject) => {
      stream.on('close', () => (streamError ? reject(streamError) : resolve()));
    });
    closed.catch(() => {}); // observed in finish(); a discarded file's error is not news
    return {
      stream,
      finish: async () => {
        if (!stream.writableEnded) stream.end();
        try {
          await closed;
          const info = await readInstanceInfo(temporary);
          const target = this.pathFor(info);
          await chmod(temporary, PRIVATE_FILE_MODE);
          await mkdirPrivate(path.dirname(target));
          await rename(temporary, target);
          return { ...info, path: target };
        } catch (error) {
          await rm(temporary, { force: true });
          throw error;
        }
      },
      discard: async () => {
        stream.destroy();
        await closed.catch(() => {});
        await rm(temporary, { force: true });
      },
    };
  }
}

function safeName(uid: string): string {
  if (isPathSafeUid(uid)) return uid;
  return `x${createHash('sha256').update(uid).digest('hex').slice(0, 32)}`;
}
