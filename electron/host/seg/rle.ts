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
  const out = new Uint8Array(planeLength * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + s * 4, true);
    const end = s + 1 < segments ? view.getUint32(8 + s * 4, true) : fragment.length;
    if (start < 64 || end > fragment.length || start > end) throw new Error(`RLE segment ${s + 1} has offsets ${start}..${end} outside the ${fragment.length}-byte frame`);
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
  const planes: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + s * 4, true);
    const end = s + 1 < segments ? view.getUint32(8 + s * 4, true) : fragment.length;
    if (start < 64 || end > fragment.length || start > end) throw new Error(`RLE segment ${s + 1} has offsets ${start}..${end} outside the ${fragment.length}-byte frame`);
    planes.push(unpackBits(fragment.subarray(start, end), planeLength));
  }
  return planes;
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
