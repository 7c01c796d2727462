// The file-batch response: many indexed DICOM files in one GET, because Chromium's cost per
// request (HTTP/1.1, six connections per host) and not the bytes decides how fast 500 slices
// arrive. Served at `/file-batch?keys=<k1>,<k2>,…` by the browser server (same session auth as
// /files/<key>) and at `medreasoner://app/file-batch?keys=…` by the Electron shell.
//
// Body (Content-Type FILE_BATCH_CONTENT_TYPE): one record per requested key, in request order:
//   u8  status      0 = ok, 1 = not in the index (or not a valid key), 2 = unreadable on disk
//   u16 key length  little-endian, then the key in UTF-8
//   u32 length      little-endian, then that many bytes: the file when ok, a UTF-8 reason otherwise
// A request past MAX_BATCH_FILES keys or MAX_BATCH_BYTES of files is refused whole (413, the
// reason as text); an unknown key fails only its own record.

export const FILE_BATCH_PATH = '/file-batch';
export const FILE_BATCH_CONTENT_TYPE = 'application/vnd.medreasoner.file-batch';
export const MAX_BATCH_FILES = 64;
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;

export const FileBatchStatus = { ok: 0, unknown: 1, unreadable: 2 } as const;
export type FileBatchStatusCode = (typeof FileBatchStatus)[keyof typeof FileBatchStatus];

export type FileBatchRecord =
  | { key: string; ok: true; bytes: ArrayBuffer }
  | { key: string; ok: false; status: Exclude<FileBatchStatusCode, 0>; reason: string };

export const RECORD_HEADER_BYTES = 1 + 2 + 4;

/** The header that precedes a record's key and payload. */
export function encodeRecordHeader(status: FileBatchStatusCode, key: Uint8Array, payloadLength: number): Uint8Array {
  const header = new Uint8Array(RECORD_HEADER_BYTES + key.length);
  const view = new DataView(header.buffer);
  view.setUint8(0, status);
  view.setUint16(1, key.length, true);
  header.set(key, 3);
  view.setUint32(3 + key.length, payloadLength, true);
  return header;
}

/** The keys of a batch URL's query, or a reason why it is not one. */
export function parseBatchKeys(query: string | null): { keys: string[] } | { refused: string; status: 400 | 413 } {
  const keys = (query ?? '').split(',').filter((key) => key !== '');
  if (keys.length === 0) return { refused: 'A file batch needs ?keys=<key>,<key>,… (none given).', status: 400 };
  if (keys.length > MAX_BATCH_FILES) return { refused: `A file batch holds at most ${MAX_BATCH_FILES} files (${keys.length} asked for).`, status: 413 };
  return { keys };
}

/**
 * Reads a batch response as it streams in, yielding each record once its bytes are all
 * there (so the first files decode while the rest still arrive), each file copied once
 * into its own buffer. Throws on a truncated or malformed body.
 */
export async function* readFileBatch(body: ReadableStream<Uint8Array>): AsyncGenerator<FileBatchRecord> {
  const reader = body.getReader();
  const text = new TextDecoder();
  const header = new Uint8Array(RECORD_HEADER_BYTES + 0xffff);
  let headerFilled = 0;
  let current: { status: number; key: string; target: Uint8Array; filled: number } | null = null;
  const finish = (record: { status: number; key: string; target: Uint8Array }): FileBatchRecord => {
    if (record.status === FileBatchStatus.ok) return { key: record.key, ok: true, bytes: record.target.buffer as ArrayBuffer };
    if (record.status === FileBatchStatus.unknown || record.status === FileBatchStatus.unreadable) {
      return { key: record.key, ok: false, status: record.status, reason: text.decode(record.target) };
    }
    throw new Error(`file batch record ${record.key} has an unknown status ${record.status}`);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      while (chunk.length > 0) {
        if (current) {
          const take = Math.min(chunk.length, current.target.length - current.filled);
          current.target.set(chunk.subarray(0, take), current.filled);
          current.filled += take;
          chunk = chunk.subarray(take);
          if (current.filled === current.target.length) {
            yield finish(current);
            current = null;
          }
          continue;
        }
        const keyLength = headerFilled >= 3 ? header[1]! | (header[2]! << 8) : -1;
        const needed = keyLength < 0 ? 3 : RECORD_HEADER_BYTES + keyLength;
        const take = Math.min(chunk.length, needed - headerFilled);
        header.set(chunk.subarray(0, take), headerFilled);
        headerFilled += take;
        chunk = chunk.subarray(take);
        if (keyLength < 0 || headerFilled < needed) continue;
        const view = new DataView(header.buffer, 0, headerFilled);
        current = { status: header[0]!, key: text.decode(header.subarray(3, 3 + keyLength)), target: new Uint8Array(view.getUint32(3 + keyLength, true)), filled: 0 };
        headerFilled = 0;
        if (current.target.length === 0) {
          yield finish(current);
          current = null;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (current) throw new Error(`file batch truncated in the bytes of ${current.key}`);
  if (headerFilled > 0) throw new Error('file batch truncated in a record header');
}
