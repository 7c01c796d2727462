// Serves a file batch (format in common/file-batch-format.ts) from the index's files, for
// the browser server and the Electron shell alike. Sizes are checked before the first byte
// goes out, so a refused batch is a clear 413 and never half a body.
import { close, open, read } from 'node:fs';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { encodeRecordHeader, FileBatchStatus, MAX_BATCH_BYTES, parseBatchKeys } from '../common/file-batch-format.ts';

/** Same rule as /files/<key>: the index hands out only these. */
export const FILE_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** A requested key, its file (null: not in the index) and the size it had when the batch was planned. */
type Item = { key: string; file: string | null; size: number };

export type FileBatchPlan = { refused: string; status: 400 | 413 } | { items: Item[] };

/** Resolves and sizes the keys of `?keys=`; refuses an empty batch or one past the limits. */
export async function planFileBatch(
  keysQuery: string | null,
  resolveFile: (key: string) => string | undefined,
  maxBytes = MAX_BATCH_BYTES,
): Promise<FileBatchPlan> {
  const parsed = parseBatchKeys(keysQuery);
  if ('refused' in parsed) return parsed;
  let total = 0;
  const items: Item[] = [];
  for (const key of parsed.keys) {
    const file = FILE_KEY.test(key) ? (resolveFile(key) ?? null) : null;
    const size = file ? await stat(file).then((info) => (info.isFile() ? info.size : 0), () => 0) : 0;
    total += size;
    items.push({ key, file, size });
  }
  if (total > maxBytes) {
    return { refused: `A file batch holds at most ${(maxBytes / 1024 / 1024).toFixed(maxBytes % (1024 * 1024) === 0 ? 0 : 3)} MiB (these ${items.length} files are ${(total / 1024 / 1024).toFixed(1)} MiB): ask for fewer at a time.`, status: 413 };
  }
  return { items };
}

const openFile = promisify(open);
const readInto = promisify(read);
const closeFile = promisify(close);

/** Reads `size` bytes of `file` into `target` (callback fs: no FileHandle per file, one read call for the whole file). */
async function readWhole(file: string, size: number, target: Buffer): Promise<void> {
  const fd = await openFile(file, 'r');
  try {
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await readInto(fd, target, filled, size - filled, filled);
      if (bytesRead === 0) throw Object.assign(new Error(`the file is shorter than its ${size} bytes of a moment ago`), { code: 'ESHORT' });
      filled += bytesRead;
    }
  } finally {
    await closeFile(fd);
  }
}

/**
 * The batch's body, one record at a time; each file is read whole so its length header is
 * true. With `reuseBuffer` every file is read into one buffer that the next file overwrites:
 * for a consumer that is done with a chunk (written out, not just queued) before it asks for
 * the next, it spares the host a fresh buffer per file, whose garbage cost the browser server
 * more time than the reading itself (bench/viewer-load.ts).
 */
export async function* fileBatchBody(items: readonly Item[], options: { reuseBuffer?: boolean } = {}): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let scratch: Buffer | null = null;
  for (const { key, file, size } of items) {
    const keyBytes = encoder.encode(key);
    if (!file) {
      const reason = encoder.encode(`No such file in the index: ${key}`);
      yield encodeRecordHeader(FileBatchStatus.unknown, keyBytes, reason.length);
      yield reason;
      continue;
    }
    let bytes: Buffer;
    try {
      if (options.reuseBuffer) {
        if (!scratch || scratch.length < size) scratch = Buffer.allocUnsafeSlow(size);
        bytes = scratch.subarray(0, size);
      } else {
        bytes = Buffer.allocUnsafeSlow(size);
      }
      await readWhole(file, size, bytes);
    } catch (error) {
      const reason = encoder.encode(`The file of ${key} could not be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      yield encodeRecordHeader(FileBatchStatus.unreadable, keyBytes, reason.length);
      yield reason;
      continue;
    }
    yield encodeRecordHeader(FileBatchStatus.ok, keyBytes, bytes.length);
    yield bytes;
  }
}
