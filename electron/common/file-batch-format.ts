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

/** Splits a whole batch response into its records; throws on a truncated or malformed body. */
export function decodeFileBatch(body: ArrayBuffer): FileBatchRecord[] {
  const view = new DataView(body);
  const text = new TextDecoder();
  const records: FileBatchRecord[] = [];
  let at = 0;
  while (at < body.byteLength) {
    if (at + 3 > body.byteLength) throw new Error(`file batch truncated in a record header at byte ${at}`);
    const status = view.getUint8(at);
    const keyLength = view.getUint16(at + 1, true);
    if (at + RECORD_HEADER_BYTES + keyLength > body.byteLength) throw new Error(`file batch truncated in a record header at byte ${at}`);
    const key = text.decode(new Uint8Array(body, at + 3, keyLength));
    const length = view.getUint32(at + 3 + keyLength, true);
    const start = at + RECORD_HEADER_BYTES + keyLength;
    if (start + length > body.byteLength) throw new Error(`file batch truncated in the bytes of ${key}`);
    if (status === FileBatchStatus.ok) records.push({ key, ok: true, bytes: body.slice(start, start + length) });
    else if (status === FileBatchStatus.unknown || status === FileBatchStatus.unreadable) {
      records.push({ key, ok: false, status, reason: text.decode(new Uint8Array(body, start, length)) });
    } else throw new Error(`file batch record ${key} has an unknown status ${status}`);
    at = start + length;
  }
  return records;
}
