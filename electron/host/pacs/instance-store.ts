// Where retrieved and received instances land: <root>/<study UID>/<series UID>/<SOP UID>.dcm.
// Bytes stream to a temporary file in <root>/.incoming and are linked into place once
// complete, so a half-received instance is never mistaken for a whole one. A stored file
// is never replaced: the same data set again is a no-op (re-sends are idempotent), other
// bytes under the same SOP Instance UID are kept beside it as a conflict (store-conflicts.ts).
// The received file is parsed in a worker thread (instance-info-client.ts), never here.
import { randomBytes, createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, open, rename, rm, stat } from 'node:fs/promises';
import { linkExclusive, mkdirPrivate, mkdirPrivateSync, PRIVATE_FILE_MODE } from '../atomic-file.ts';
import path from 'node:path';
import type { StoreConflict } from '../../common/contract-pacs.ts';
import type { InstanceInfo } from './instance-info.ts';
import { inspectInstance, type InspectedInstance } from './instance-info-client.ts';
import { encodeFileMeta, isPathSafeUid, readPart10Header, type FileMetaFields } from './part10.ts';
import { StoreConflicts } from './store-conflicts.ts';

export interface StoredInstance extends InstanceInfo {
  /** The stored instance: the one received, or the one already there (same data set, or a conflict). */
  path: string;
  /** The same data set was stored already: nothing was written. */
  duplicate?: boolean;
  /** Other bytes under a stored SOP Instance UID: kept at conflict.conflictPath, the stored file untouched. */
  conflict?: StoreConflict;
}

export interface InstanceStoreOptions {
  /** Where conflicting instances are kept (default <root>/.conflicts); the app's is <data>/conflicts, outside what the index scans. */
  conflictsDir?: string;
  /** Told of each conflict once it is recorded. */
  onConflict?: (conflict: StoreConflict) => void;
}

export interface FinishOptions {
  /** Who sent it, for the conflict record: a calling AE title or a node. */
  source?: string;
}

/**
 * The received instance itself is refused: not DICOM, malformed, past the inflate budget, or
 * its SOP Instance UID is that of a stored file that cannot be read to compare with. A
 * transfer can go on with the next instance. Anything else finish() throws is about the
 * store (a full disk, no permission) and would refuse every instance alike.
 */
export class InstanceRefusedError extends Error {
  /** From the data set, else from the file meta information; null when neither could be read. */
  readonly sopInstanceUid: string | null;
  constructor(reason: string, sopInstanceUid: string | null, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'InstanceRefusedError';
    this.sopInstanceUid = sopInstanceUid;
  }
}

export interface IncomingFile {
  /** Receives the bytes (the data set for DIMSE, the whole Part 10 file for DICOMweb). */
  readonly stream: WriteStream;
  /** Waits for the bytes to reach the disk, files the instance, and tells where it went. */
  finish(options?: FinishOptions): Promise<StoredInstance>;
  /** Drops a partial file (cancelled or failed transfer). */
  discard(): Promise<void>;
}

export class InstanceStore {
  readonly root: string;
  readonly conflicts: StoreConflicts;
  private readonly incomingDir: string;
  private readonly onConflict: ((conflict: StoreConflict) => void) | undefined;

  constructor(root: string, options: InstanceStoreOptions = {}) {
    this.root = path.resolve(root);
    this.incomingDir = path.join(this.root, '.incoming');
    this.conflicts = new StoreConflicts(options.conflictsDir ?? path.join(this.root, '.conflicts'));
    this.onConflict = options.onConflict;
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
      finish: async (options: FinishOptions = {}) => {
        if (!stream.writableEnded) stream.end();
        try {
          await closed;
          await chmod(temporary, PRIVATE_FILE_MODE);
          const received = await inspectReceived(temporary);
          return await this.file(temporary, received, options.source ?? '');
        } finally {
          await rm(temporary, { force: true });
        }
      },
      discard: async () => {
        stream.destroy();
        await closed.catch(() => {});
        await rm(temporary, { force: true });
      },
    };
  }

  /** Puts a complete received file in place without ever replacing a stored one. */
  private async file(temporary: string, received: InspectedInstance, source: string): Promise<StoredInstance> {
    const { info } = received;
    const target = this.pathFor(info);
    await mkdirPrivate(path.dirname(target));
    if (await linkIfAbsent(temporary, target)) return { ...info, path: target };
    const stored = await inspectInstance(target).catch((error: unknown) => {
      if (isStoreError(error)) throw error;
      // Neither replaced nor compared: the stored file stays as it is, whatever it holds.
      throw new InstanceRefusedError(
        `an instance with SOP Instance UID ${info.sopInstanceUid} is stored at ${target} but cannot be read to compare with (${messageOf(error)}); the stored file is kept, the received one dropped`,
        info.sopInstanceUid,
        { cause: error },
      );
    });
    if (stored.digest === received.digest) return { ...info, path: target, duplicate: true };

    const conflictPath = path.join(
      this.conflicts.dir,
      safeName(info.studyInstanceUid),
      safeName(info.seriesInstanceUid),
      `${safeName(info.sopInstanceUid)}-${received.digest.slice(0, 16)}.dcm`,
    );
    await mkdirPrivate(path.dirname(conflictPath));
    // The same differing copy again: already kept (and recorded) once.
    if (!(await linkIfAbsent(temporary, conflictPath))) return { ...info, path: target, duplicate: true };
    const syntax =
      stored.info.transferSyntaxUid === info.transferSyntaxUid
        ? `in the same transfer syntax (${info.transferSyntaxUid})`
        : `in transfer syntax ${info.transferSyntaxUid} where the stored one is ${stored.info.transferSyntaxUid}`;
    const conflict: StoreConflict = {
      at: new Date().toISOString(),
      sopInstanceUid: info.sopInstanceUid,
      studyInstanceUid: info.studyInstanceUid,
      seriesInstanceUid: info.seriesInstanceUid,
      originalPath: target,
      conflictPath,
      source,
      reason: `a data set of ${info.bytes - info.datasetOffset} bytes (sha-256 ${received.digest.slice(0, 16)}…) differs from the stored one (sha-256 ${stored.digest.slice(0, 16)}…), ${syntax}`,
    };
    await this.conflicts.record(conflict);
    this.onConflict?.(conflict);
    return { ...info, path: target, conflict };
  }
}

/** The received file's identity; a file that cannot be read as an instance is refused with the reason. */
async function inspectReceived(file: string): Promise<InspectedInstance> {
  try {
    return await inspectInstance(file);
  } catch (error) {
    if (isStoreError(error)) throw error;
    throw new InstanceRefusedError(messageOf(error), await metaSopInstanceUid(file), { cause: error });
  }
}

/** The meta group is small and never deflated: it often names an instance whose data set is refused. */
const META_PREFIX_BYTES = 64 * 1024;

async function metaSopInstanceUid(file: string): Promise<string | null> {
  try {
    const handle = await open(file, 'r');
    try {
      const prefix = Buffer.alloc(META_PREFIX_BYTES);
      const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0);
      const uid = readPart10Header(prefix.subarray(0, bytesRead)).mediaStorageSopInstanceUid;
      return uid || null;
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** A system error (ENOSPC, EACCES…): the store, not the instance, is the problem. */
function isStoreError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A hard link fails when the target exists, so two arrivals of one UID cannot both win
 * (rename would silently replace). Where links are not supported, an existence check and
 * a copy by rename, which only a race between two arrivals could get wrong.
 */
async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  const linked = await linkExclusive(from, to);
  if (linked !== 'unsupported') return linked === 'linked';
  if (await stat(to).then(() => true, () => false)) return false;
  await rename(from, to);
  return true;
}

function safeName(uid: string): string {
  if (isPathSafeUid(uid)) return uid;
  return `x${createHash('sha256').update(uid).digest('hex').slice(0, 32)}`;
}
