// multipart/related (RFC 2387), the envelope of WADO-RS answers and STOW-RS requests.
// Reading streams: each part's bytes go to its sink as they arrive, so a series of
// hundreds of megabytes never sits in memory whole.
import { randomBytes } from 'node:crypto';

export interface ContentType {
  /** Lower-case type/subtype. */
  mediaType: string;
  /** Parameter names in lower case, values unquoted. */
  params: Record<string, string>;
}

export function parseContentType(header: string): ContentType {
  const [mediaType = '', ...rest] = splitOutsideQuotes(header, ';');
  const params: Record<string, string> = {};
  for (const piece of rest) {
    const equals = piece.indexOf('=');
    if (equals < 0) continue;
    const name = piece.slice(0, equals).trim().toLowerCase();
    let value = piece.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = value;
  }
  return { mediaType: mediaType.trim().toLowerCase(), params };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (char === separator && !quoted) {
      pieces.push(current);
      current = '';
    } else current += char;
  }
  pieces.push(current);
  return pieces;
}

export function newBoundary(): string {
  return `medreasoner-${randomBytes(16).toString('hex')}`;
}

export interface OutgoingPart {
  contentType: string;
  body: Uint8Array;
}

/** One request body: every part, with the closing delimiter. */
export function encodeMultipart(parts: OutgoingPart[], boundary: string): Buffer {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${part.contentType}\r\n\r\n`, 'latin1'), part.body, Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

export interface PartSink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

export type PartHeaders = Record<string, string>;

const MAX_HEADER_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Reads a multipart body, handing each part's bytes to the sink onPart returns.
 * Resolves with the number of parts once the closing delimiter is read; a body that
 * ends before it is an error (a truncated transfer must not pass for a complete one).
 */
export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  onPart: (headers: PartHeaders) => PartSink | Promise<PartSink>,
): Promise<number> {
  if (!boundary) throw new Error('multipart answer without a boundary parameter');
  // The first delimiter may open the body without a CRLF in front: prefix one so every delimiter looks alike.
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let buffer: Buffer = Buffer.from(CRLF);
  // Changed inside process(): declared by assertion so the checks below are not narrowed away.
  let state = 'preamble' as 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';
  let sink: PartSink | undefined;
  let parts = 0;

  const process = async (final: boolean): Promise<void> => {
    for (;;) {
      if (state === 'preamble') {
        const at = buffer.indexOf(delimiter);
        if (at < 0) {
          buffer = buffer.subarray(Math.max(0, buffer.length - delimiter.length + 1));
          return;
        }
        buffer = buffer.subarray(at + delimiter.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        if (buffer.length < 2) return;
        if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
          state = 'done';
          return;
        }
        const lineEnd = buffer.indexOf(CRLF);
        if (lineEnd < 0) {
          if (buffer.length > 1024) throw new Error('multipart: no line break after a boundary');
          return;
        }
        buffer = buffer.subarray(lineEnd + 2); // transport padding (spaces) may precede the CRLF
        state = 'headers';
      } else if (state === 'headers') {
        // A part with no headers starts its body right after the boundary line's CRLF.
        const end = buffer.subarray(0, 2).equals(CRLF) ? -2 : buffer.indexOf(HEADER_END);
        if (end === -1) {
          if (buffer.length > MAX_HEADER_BYTES) throw new Error('multipart: part headers too long');
          return;
        }
        const headerText = end === -2 ? '' : buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end === -2 ? 2 : end + 4);
        sink = await onPart(parseHeaders(headerText));
        parts++;
        state = 'body';
      } else if (state === 'body') {
        let from = 0;
        let at = buffer.indexOf(delimiter, from);
        // A delimiter is "\r\n--boundary" followed by "--", CRLF or padding; anything else is data.
        while (at >= 0 && at + delimiter.length + 2 <= buffer.length && !isDelimiterEnd(buffer, at + delimiter.length)) {
          from = at + 1;
          at = buffer.indexOf(delimiter, from);
        }
        if (at >= 0 && at + delimiter.length + 2 <= buffer.length) {
          if (at > 0) await sink!.write(buffer.subarray(0, at));
          await sink!.end();
          sink = undefined;
          buffer = buffer.subarray(at + delimiter.length);
          state = 'after-delimiter';
          continue;
        }
        // Keep what could be the start of a delimiter (and the two bytes after it) split across chunks.
        const keep = at >= 0 ? buffer.length - at : delimiter.length + 1;
        const safe = buffer.length - keep;
        if (safe > 0) {
          await sink!.write(buffer.subarray(0, safe));
          buffer = buffer.subarray(safe);
        }
        return;
      } else return;
      if (final && buffer.length === 0) return;
    }
  };

  for await (const chunk of body) {
    if (state === 'done') continue; // the epilogue is ignored
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk]);
    await process(false);
  }
  if (state !== 'done') await process(true);
  if (state !== 'done') throw new Error(`multipart body ended before its closing boundary (after ${parts} part${parts === 1 ? '' : 's'})`);
  return parts;
}

function isDelimiterEnd(buffer: Buffer, offset: number): boolean {
  const first = buffer[offset];
  const second = buffer[offset + 1];
  return (first === 0x2d && second === 0x2d) || (first === 0x0d && second === 0x0a) || first === 0x20 || first === 0x09;
}

function parseHeaders(text: string): PartHeaders {
  const headers: PartHeaders = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
