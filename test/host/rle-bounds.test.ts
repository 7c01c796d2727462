// RLE frames are decoded to what the header's Rows × Columns say only as far as the
// fragment's bytes can deliver: PackBits expands at most 64-fold, so a 66-byte fragment
// that claims a 65535 × 65535 frame is refused before anything that size is allocated.
import { describe, expect, it } from 'vitest';
import { decodeRleFrame, decodeRleSegments, encodeRleFrame } from '../../electron/host/seg/rle.ts';

/** One segment: a repeat run of 128 copies of `value` (control byte -127). */
function tinyFragment(value: number): Uint8Array {
  const fragment = new Uint8Array(66);
  const view = new DataView(fragment.buffer);
  view.setUint32(0, 1, true);
  view.setUint32(4, 64, true);
  fragment[64] = 0x81;
  fragment[65] = value;
  return fragment;
}

const HUGE = 65535 * 65535;

describe('RLE allocation bounds', () => {
  it('a fragment decodes to what its bytes hold', () => {
    expect(decodeRleFrame(tinyFragment(7), 128, 1)).toEqual(new Uint8Array(128).fill(7));
    expect(decodeRleSegments(tinyFragment(9), 128, 1)).toEqual([new Uint8Array(128).fill(9)]);
    const samples = Uint8Array.from({ length: 4096 }, (_, i) => i % 5);
    expect(decodeRleFrame(encodeRleFrame(samples, 1), samples.length, 1)).toEqual(samples);
  });

  it('a tiny fragment claiming a 65535 × 65535 frame is refused without allocating it', () => {
    const before = process.memoryUsage();
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const started = performance.now();
    expect(() => decodeRleFrame(tinyFragment(1), HUGE, 1)).toThrow(/RLE segment 1 of 2 bytes cannot decode to the 4294836225 bytes/);
    expect(() => decodeRleSegments(tinyFragment(1), HUGE, 1)).toThrow(/cannot decode to/);
    // Just past what 2 bytes can give: refused; exactly what they can give: decoded.
    expect(() => decodeRleFrame(tinyFragment(1), 129, 1)).toThrow(/cannot decode to the 129 bytes/);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before.arrayBuffers).toBeLessThan(16 * 1024 * 1024);
    expect(process.resourceUsage().maxRSS * 1024 - peakBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
