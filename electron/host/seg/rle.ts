// RLE Lossless (PS3.5 Annex G) frame decoding: SEGs from other tools (the Cornerstone
// adapters write LABELMAP SEGs in RLE by default) arrive this way.

/**
 * Decodes one RLE fragment into `bytesPerSample` byte planes of `planeLength` bytes each
 * and interleaves them little-endian (RLE stores the most significant byte plane first).
 */
export function decodeRleFrame(fragment: Uint8Array, planeLength: number, bytesPerSample: 1 | 2): Uint8Array {
  if (fragment.length < 64) throw new Error(`RLE frame of ${fragment.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) throw new Error(`RLE frame has ${segments} segments; ${bytesPerSample} expected for ${bytesPerSample * 8}-bit samples`);
  for (let s = 0; s < segments; s++) segmentBounds(view, fragment.length, segments, s, planeLength);
  const out = new Uint8Array(planeLength * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const { start, end } = segmentBounds(view, fragment.length, segments, s, planeLength);
    const plane = unpackBits(fragment.subarray(start, end), planeLength);
    // Byte plane s holds byte (segments - 1 - s) of each little-endian sample.
    const byteIndex = segments - 1 - s;
    if (bytesPerSample === 1) out.set(plane);
    else for (let i = 0; i < planeLength; i++) out[i * bytesPerSample + byteIndex] = plane[i]!;
  }
  return out;
}

/**
 * The byte planes of one RLE fragment, segment by segment (for each sample, most significant
 * byte first), each `planeLength` bytes: any number of samples and bytes per sample.
 */
export function decodeRleSegments(fragment: Uint8Array, planeLength: number, expectedSegments: number): Uint8Array[] {
  if (fragment.length < 64) throw new Error(`RLE frame of ${fragment.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== expectedSegments) throw new Error(`RLE frame has ${segments} segments; ${expectedSegments} expected`);
  for (let s = 0; s < segments; s++) segmentBounds(view, fragment.length, segments, s, planeLength);
  const planes: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const { start, end } = segmentBounds(view, fragment.length, segments, s, planeLength);
    planes.push(unpackBits(fragment.subarray(start, end), planeLength));
  }
  return planes;
}

/** PackBits turns at most 2 bytes (a repeat run) into 128. */
const MAX_PACKBITS_EXPANSION = 64;

/**
 * A segment's offsets, checked against the frame, and its length against what it must
 * decode to: the header's Rows × Columns (up to 65535² for a SEG) are believed only as far
 * as the bytes can deliver, so a tiny fragment never makes us allocate gigabytes.
 */
function segmentBounds(view: DataView, fragmentLength: number, segments: number, s: number, planeLength: number): { start: number; end: number } {
  const start = view.getUint32(4 + s * 4, true);
  const end = s + 1 < segments ? view.getUint32(8 + s * 4, true) : fragmentLength;
  if (start < 64 || end > fragmentLength || start > end) throw new Error(`RLE segment ${s + 1} has offsets ${start}..${end} outside the ${fragmentLength}-byte frame`);
  const most = Math.ceil((end - start) / 2) * 2 * MAX_PACKBITS_EXPANSION;
  if (planeLength > most) throw new Error(`RLE segment ${s + 1} of ${end - start} bytes cannot decode to the ${planeLength} bytes the image size needs (at most ${most})`);
  return { start, end };
}

/** PackBits: a control byte n ≥ 0 copies n + 1 literal bytes, -127..-1 repeats the next byte 1 - n times. */
function unpackBits(input: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let i = 0;
  let o = 0;
  while (i < input.length && o < length) {
    const n = (input[i++]! << 24) >> 24;
    if (n >= 0) {
      const count = Math.min(n + 1, length - o, input.length - i);
      out.set(input.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n !== -128) {
      const count = Math.min(1 - n, length - o);
      out.fill(input[i++] ?? 0, o, o + count);
      o += count;
    }
  }
  if (o < length) throw new Error(`RLE segment decodes to ${o} bytes; ${length} expected`);
  return out;
}

/**
 * Encodes one frame of 8- or 16-bit little-endian samples as an RLE Lossless fragment:
 * the 64-byte header (segment count, offsets), then one PackBits segment per byte plane,
 * most significant plane first, each padded to an even length (PS3.5 G.3.1).
 */
export function encodeRleFrame(samples: Uint8Array, bytesPerSample: 1 | 2): Uint8Array {
  const planeLength = samples.length / bytesPerSample;
  const planes: Uint8Array[] = [];
  for (let s = 0; s < bytesPerSample; s++) {
    const byteIndex = bytesPerSample - 1 - s;
    let plane: Uint8Array;
    if (bytesPerSample === 1) plane = samples;
    else {
      plane = new Uint8Array(planeLength);
      for (let i = 0; i < planeLength; i++) plane[i] = samples[i * bytesPerSample + byteIndex]!;
    }
    planes.push(packBits(plane));
  }
  const total = 64 + planes.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, planes.length, true);
  let at = 64;
  planes.forEach((plane, s) => {
    view.setUint32(4 + s * 4, at, true);
    out.set(plane, at);
    at += plane.length;
  });
  return out;
}

// Worst case a literal byte costs 1 + 1/128; the scratch buffer is sized for it once.
let scratch = new Uint8Array(0);

/** PackBits with runs of 3 or more as replicate runs, the rest as literals of up to 128; even length. */
function packBits(input: Uint8Array): Uint8Array {
  const n = input.length;
  const need = n + Math.ceil(n / 128) + 2;
  if (scratch.length < need) scratch = new Uint8Array(need);
  const out = scratch;
  let o = 0;
  let i = 0;
  // Background runs dominate a labelmap: whole 128-byte zero runs are found 4 bytes at a time.
  const aligned = (input.byteOffset & 3) === 0;
  const words = aligned ? new Uint32Array(input.buffer, input.byteOffset, n >>> 2) : null;
  while (i < n) {
    const v = input[i]!;
    if (v === 0 && words !== null && (i & 3) === 0 && i + 128 <= n) {
      let w = i >>> 2;
      const stop = w + 32;
      while (w < stop && words[w] === 0) w++;
      if (w === stop) {
        out[o++] = 129; // -(128 - 1)
        out[o++] = 0;
        i += 128;
        continue;
      }
    }
    let run = 1;
    while (i + run < n && run < 128 && input[i + run] === v) run++;
    if (run >= 3) {
      out[o++] = 257 - run; // -(run - 1) as a signed byte
      out[o++] = v;
      i += run;
      continue;
    }
    // A literal: until a run of 3 starts, at most 128 bytes.
    const start = i;
    let end = i;
    while (end < n && end - start < 128) {
      const w = input[end]!;
      if (end + 2 < n && input[end + 1] === w && input[end + 2] === w) break;
      end++;
    }
    if (end === start) continue;
    out[o++] = end - start - 1;
    out.set(input.subarray(start, end), o);
    o += end - start;
    i = end;
  }
  if (o & 1) out[o++] = 0x80; // -128: a no-op byte that pads the segment to an even length
  return out.slice(0, o);
}

/**
 * Encapsulated Pixel Data (PS3.5 A.4): the element with undefined length, a Basic Offset
 * Table that lists each frame's start, one fragment per frame, the sequence delimiter.
 */
export function encapsulatedPixelData(fragments: Uint8Array[]): Uint8Array[] {
  const header = new Uint8Array(12 + 8 + fragments.length * 4);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  header[4] = 0x4f; // 'O'
  header[5] = 0x42; // 'B'
  view.setUint32(8, 0xffffffff, true);
  view.setUint16(12, 0xfffe, true);
  view.setUint16(14, 0xe000, true);
  view.setUint32(16, fragments.length * 4, true);
  const parts: Uint8Array[] = [header];
  let offset = 0;
  fragments.forEach((fragment, f) => {
    if (fragment.length & 1) throw new Error(`RLE fragment ${f + 1} has an odd length`);
    view.setUint32(20 + f * 4, offset, true);
    const item = new Uint8Array(8);
    const itemView = new DataView(item.buffer);
    itemView.setUint16(0, 0xfffe, true);
    itemView.setUint16(2, 0xe000, true);
    itemView.setUint32(4, fragment.length, true);
    parts.push(item, fragment);
    offset += 8 + fragment.length;
  });
  const delimiter = new Uint8Array(8);
  const delimiterView = new DataView(delimiter.buffer);
  delimiterView.setUint16(0, 0xfffe, true);
  delimiterView.setUint16(2, 0xe0dd, true);
  parts.push(delimiter);
  return parts;
}
