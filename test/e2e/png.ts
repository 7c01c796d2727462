// Just enough PNG decoding for screenshots (8-bit greyscale, RGB or RGBA, not
// interlaced — what Chromium writes), so tests judge real rendered pixels with
// node:zlib and no image library.
import { inflateSync } from 'node:zlib';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row by row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(png: Uint8Array): DecodedImage {
  const data = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const bitDepth = body[8];
      colorType = body[9] ?? -1;
      const interlace = body[12];
      if (bitDepth !== 8 || interlace !== 0 || CHANNELS[colorType] === undefined) {
        throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
      }
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  const channels = CHANNELS[colorType];
  if (!channels || width === 0) throw new Error('PNG without a usable IHDR');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[out + x - channels] ?? 0) : 0;
      const b = y > 0 ? (pixels[out - stride + x] ?? 0) : 0;
      const c = x >= channels && y > 0 ? (pixels[out - stride + x - channels] ?? 0) : 0;
      const value = line[x] ?? 0;
      let predicted: number;
      switch (filter) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = a;
          break;
        case 2:
          predicted = b;
          break;
        case 3:
          predicted = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      }
      pixels[out + x] = (value + predicted) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const grey = channels <= 2;
    rgba[i * 4] = pixels[p] ?? 0;
    rgba[i * 4 + 1] = grey ? (pixels[p] ?? 0) : (pixels[p + 1] ?? 0);
    rgba[i * 4 + 2] = grey ? (pixels[p] ?? 0) : (pixels[p + 2] ?? 0);
    rgba[i * 4 + 3] = channels === 4 ? (pixels[p + 3] ?? 0) : channels === 2 ? (pixels[p + 1] ?? 0) : 255;
  }
  return { width, height, rgba };
}

/** Luminance (Rec. 601) of one pixel. */
export function luminanceAt(image: DecodedImage, x: number, y: number): number {
  const xi = Math.min(image.width - 1, Math.max(0, Math.round(x)));
  const yi = Math.min(image.height - 1, Math.max(0, Math.round(y)));
  const i = (yi * image.width + xi) * 4;
  return 0.299 * (image.rgba[i] ?? 0) + 0.587 * (image.rgba[i + 1] ?? 0) + 0.114 * (image.rgba[i + 2] ?? 0);
}

export interface PixelStats {
  mean: number;
  stdDev: number;
  /** Share of pixels brighter than 8 of 255: how much of the area shows something. */
  litFraction: number;
  distinctLevels: number;
}

export function pixelStats(image: DecodedImage): PixelStats {
  const count = image.width * image.height;
  let sum = 0;
  let sumSquares = 0;
  let lit = 0;
  const levels = new Set<number>();
  for (let i = 0; i < count; i++) {
    const value = luminanceAt(image, i % image.width, Math.floor(i / image.width));
    sum += value;
    sumSquares += value * value;
    if (value > 8) lit++;
    levels.add(Math.round(value));
  }
  const mean = sum / count;
  return { mean, stdDev: Math.sqrt(Math.max(0, sumSquares / count - mean * mean)), litFraction: lit / count, distinctLevels: levels.size };
}

/** Mean and largest absolute difference of luminance between two images of one size. */
export function compareImages(a: DecodedImage, b: DecodedImage): { meanAbsDiff: number; maxAbsDiff: number; changedFraction: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`images differ in size: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let sum = 0;
  let max = 0;
  let changed = 0;
  const count = a.width * a.height;
  for (let i = 0; i < count; i++) {
    const x = i % a.width;
    const y = Math.floor(i / a.width);
    const diff = Math.abs(luminanceAt(a, x, y) - luminanceAt(b, x, y));
    sum += diff;
    if (diff > max) max = diff;
    if (diff > 2) changed++;
  }
  return { meanAbsDiff: sum / count, maxAbsDiff: max, changedFraction: changed / count };
}
