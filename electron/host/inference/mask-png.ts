// Masks as files: 8-bit grey PNG at the slice's native size, 255 inside and 0 outside
// (what `--out mask.png` writes and what the renderer draws from the contract's base64).
import { decode, encode } from 'fast-png';

export function maskToPng(mask: Uint8Array, width: number, height: number): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`mask holds ${mask.length} pixels, expected ${width}×${height}`);
  const data = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) data[i] = mask[i] ? 255 : 0;
  return encode({ width, height, data, depth: 8, channels: 1 });
}

/** Reads a mask PNG back (any PNG: a pixel is inside when its first channel is non-zero). */
export function pngToMask(png: Uint8Array): { mask: Uint8Array; width: number; height: number } {
  const image = decode(png);
  const channels = image.channels;
  const mask = new Uint8Array(image.width * image.height);
  for (let i = 0; i < mask.length; i++) mask[i] = image.data[i * channels]! !== 0 ? 1 : 0;
  return { mask, width: image.width, height: image.height };
}
