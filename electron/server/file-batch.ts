// Serves a file batch (format in common/file-batch-format.ts) from the index's files, for
// the browser server and the Electron shell alike. Sizes are checked before the first byte
// goes out, so a refused batch is a clear 413 and never half a body.
import { readFile, stat } from 'node:fs/promises';
import { encodeRecordHeader, FileBatchStatus, MAX_BATCH_BYTES, parseBatchKeys } from '../common/file-batch-format.ts';

/** Same rule as /files/<key>: the index hands out only these. */
export const FILE_KEY = /^[A-Za-z0-9_-]{1,128}$/;

type Item = { key: string; file: string | null };

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
    if (file) total += await stat(file).then((info) => (info.isFile() ? info.size : 0), () => 0);
    items.push({ key, file });
  }
  if (total > maxBytes) {
    return { refused: `A file batch holds at most ${(maxBytes / 1024 / 1024).toFixed(maxBytes % (1024 * 1024) === 0 ? 0 : 3)} MiB (these ${items.length} files are ${(total / 1024 / 1024).toFixed(1)} MiB): ask for fewer at a time.`, status: 413 };
  }
  return { items };
}

/** The batch's body, one record at a time; each file is read whole so its length header is true. */
export async function* fileBatchBody(items: readonly Item[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (const { key, file } of items) {
    const keyBytes = encoder.encode(key);
    if (!file) {
      const reason = encoder.encode(`No such file in the index: ${key}`);
      yield encodeRecordHeader(FileBatchStatus.unknown, keyBytes, reason.length);
      yield reason;
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
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
