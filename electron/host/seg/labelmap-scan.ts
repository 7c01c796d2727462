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
