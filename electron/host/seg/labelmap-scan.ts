// Visiting the non-zero voxels of a labelmap range fast: a CT labelmap is mostly zeros,
// so it is read four bytes at a time through a Uint32Array view and zero words are
// skipped. The sample-sized and benchmark-sized loops in the writer, the reader and the
// Segmentation check all go through here (see bench/seg-roundtrip.ts).
import type { Labelmap } from './segmentation.ts';

const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  let words = wordViews.get(buffer);
  if (!words) {
    words = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / 4));
    wordViews.set(buffer, words);
  }
  return words;
}

/**
 * Calls visit(i, value) for every i in [start, end) where labelmap[i] !== 0, in order.
 * Returns early (with false) when visit returns false.
 */
export function forEachNonZero(labelmap: Labelmap, start: number, end: number, visit: (index: number, value: number) => boolean | void): boolean {
  const bytesPer = labelmap.BYTES_PER_ELEMENT;
  const perWord = 4 / bytesPer;
  const byteOffset = labelmap.byteOffset;
  let i = start;
  // Head: up to the first element that starts a word of the underlying buffer.
  while (i < end && ((byteOffset + i * bytesPer) & 3) !== 0) {
    const v = labelmap[i]!;
    if (v !== 0 && visit(i, v) === false) return false;
    i++;
  }
  const words = wordsOf(labelmap.buffer);
  const lastWordEnd = i + Math.floor((end - i) / perWord) * perWord;
  let w = (byteOffset + i * bytesPer) >>> 2;
  for (; i < lastWordEnd; i += perWord, w++) {
    if (words[w] === 0) continue;
    for (let j = i; j < i + perWord; j++) {
      const v = labelmap[j]!;
      if (v !== 0 && visit(j, v) === false) return false;
    }
  }
  // Tail.
  for (; i < end; i++) {
    const v = labelmap[i]!;
    if (v !== 0 && visit(i, v) === false) return false;
  }
  return true;
}

/**
 * Adds the count of every value in [start, end) to counts[value] (zeros skipped a word
 * at a time), without a call per voxel: the Segmentation check runs it over every slice.
 * Returns the index of the first voxel whose value exceeds maxValue (counting stops
 * there), or -1.
 */
export function countValues(labelmap: Labelmap, start: number, end: number, counts: Uint32Array, maxValue: number): number {
  if (!(labelmap instanceof Uint8Array)) {
    let bad = -1;
    forEachNonZero(labelmap, start, end, (i, v) => {
      if (v > maxValue) {
        bad = i;
        return false;
      }
      counts[v]!++;
      return true;
    });
    return bad;
  }
  const byteOffset = labelmap.byteOffset;
  let i = start;
  const one = (at: number): boolean => {
    const v = labelmap[at]!;
    if (v === 0) return true;
    if (v > maxValue) return false;
    counts[v]!++;
    return true;
  };
  while (i < end && ((byteOffset + i) & 3) !== 0) {
    if (!one(i)) return i;
    i++;
  }
  const words = wordsOf(labelmap.buffer);
  const lastWordEnd = i + ((end - i) & ~3);
  let w = (byteOffset + i) >>> 2;
  for (; i < lastWordEnd; i += 4, w++) {
    const word = words[w]!;
    if (word === 0) continue;
    // Byte j of a little-endian word is voxel i + j (on a big-endian host only the reported index would be off, not the counts).
    for (let j = 0; j < 4; j++) {
      const v = (word >>> (j * 8)) & 0xff;
      if (v === 0) continue;
      if (v > maxValue) return i + j;
      counts[v]!++;
    }
  }
  for (; i < end; i++) if (!one(i)) return i;
  return -1;
}
