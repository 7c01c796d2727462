// The compressed transfer syntaxes, decoded in the host by the same codecs the viewer's
// web workers use (dicom-image-loader's choice per syntax), so a slice the models see has
// the values the user sees: libjpeg-turbo (JPEG baseline 8-bit), dicom-image-loader's
// JavaScript JPEG decoder with the renderer's 12-bit fix (JPEG extended), jpeg-lossless-
// decoder-js (JPEG lossless), CharLS (JPEG-LS), OpenJPEG (JPEG 2000), OpenJPH (HTJ2K),
// libjxl (JPEG XL). RLE is the project's own PackBits reader (seg/rle.ts): the viewer's
// RLE decoder stops at 16 bits, pydicom's corpus has 32-bit RLE.
//
// The WASM codecs are Emscripten modules. Their .wasm is read here and handed over as
// wasmBinary, so nothing depends on where Emscripten would look for it: next to this
// module under codecs/ (the Electron bundle: scripts/build-electron.ts copies them there),
// else in node_modules (running from source). Each codec loads on first use, once per thread.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { patchJpeg12LevelShift } from '../../common/jpeg12-level-shift.ts';
import { DECODABLE_ENCAPSULATED } from '../dicom/transfer-syntaxes.ts';
import { decodeRleSegments } from '../seg/rle.ts';

const require = createRequire(import.meta.url);

/** A decoded frame as the codec hands it over, before PixelRepresentation and colour are applied. */
export interface DecodedFrame {
  /** Samples as the codec returns them (signed when `signed`), pixel-interleaved unless `planar`. */
  samples: ArrayLike<number>;
  width: number;
  height: number;
  components: number;
  planar: boolean;
  signed: boolean;
  /** Words straight from the stream (RLE): bits above BitsStored may be set and must be masked. */
  rawWords: boolean;
  /** The codec turned the stored colour space into RGB itself (JPEG's YCbCr, JPEG 2000's RCT/ICT). */
  toRgbByCodec: boolean;
  codec: string;
}

export interface FrameFacts {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  photometric: string;
}

export class CodecError extends Error {
  readonly codec: string;
  /** 'load': the decoder itself is missing or broken; 'decode': it rejected this frame's bytes. */
  readonly stage: 'load' | 'decode';
  constructor(codec: string, message: string, stage: 'load' | 'decode' = 'decode') {
    super(message);
    this.name = 'CodecError';
    this.codec = codec;
    this.stage = stage;
  }
}

/** Syntaxes decoded here, by name: the viewer's list (transfer-syntaxes.ts), one table for both. */
export const COMPRESSED_SYNTAXES: ReadonlyMap<string, string> = DECODABLE_ENCAPSULATED;

/**
 * The files scripts/build-electron.ts copies next to the bundle, by the name they have
 * there: the package subpath that exports each, or (jpeg.js, which dicom-image-loader does
 * not export) the file inside a package whose package.json is exported.
 */
export const CODEC_ASSETS: Readonly<Record<string, { specifier: string } | { packageJson: string; file: string }>> = {
  'libjpegturbowasm_decode.wasm': { specifier: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm' },
  'charlswasm_decode.wasm': { specifier: '@cornerstonejs/codec-charls/decodewasm' },
  'openjpegwasm_decode.wasm': { specifier: '@cornerstonejs/codec-openjpeg/decodewasm' },
  'openjphjs.wasm': { specifier: '@cornerstonejs/codec-openjph/wasm' },
  'jpegxlwasm_decode.wasm': { specifier: '@cornerstonejs/codec-libjxl/decodewasm' },
  'jpeg.js': { packageJson: '@cornerstonejs/dicom-image-loader/package.json', file: 'dist/esm/codecs/jpeg.js' },
};

/** The package's own copy of a codec asset (node_modules). */
export function packagedCodecAsset(name: string): string {
  const asset = CODEC_ASSETS[name];
  if (!asset) throw new Error(`unknown codec asset ${name}`);
  if ('specifier' in asset) return require.resolve(asset.specifier);
  return path.join(path.dirname(require.resolve(asset.packageJson)), asset.file);
}

/** Where a codec asset is: the bundle's copy under codecs/ next to this module, else the package's. */
export function codecAssetPath(name: string): string {
  const bundled = fileURLToPath(new URL(`./codecs/${name}`, import.meta.url));
  if (existsSync(bundled)) return bundled;
  return packagedCodecAsset(name);
}

// The members of the Emscripten decoders used here (the codecs ship no types).
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  decode(): void;
  decodeSubResolution?(level: number): void;
  getInterleaveMode?(): number;
  delete?(): void;
}
interface WasmModule {
  [decoderClass: string]: unknown;
  getExceptionMessage?: (pointer: number) => string;
}
type Factory = (options: Record<string, unknown>) => Promise<WasmModule>;

interface LoadedCodec {
  module: WasmModule;
  /** The codec's own complaints (Emscripten printErr), to name in an error. */
  messages: string[];
}

const loaded = new Map<string, Promise<LoadedCodec>>();

function loadWasmCodec(codec: string, factoryModule: string, wasmAsset: string): Promise<LoadedCodec> {
  let promise = loaded.get(codec);
  if (!promise) {
    promise = (async () => {
      const messages: string[] = [];
      let factory: Factory;
      try {
        factory = (await importFactory(factoryModule)) as Factory;
        const module = await factory({
          wasmBinary: readFileSync(codecAssetPath(wasmAsset)),
          // OpenJPEG reports every tile on stdout; keep the codecs quiet, but remember errors.
          print: () => {},
          printErr: (text: string) => {
            messages.push(text);
            if (messages.length > 20) messages.shift();
          },
        });
        return { module, messages };
      } catch (error) {
        loaded.delete(codec);
        throw new CodecError(codec, `the ${codec} decoder could not be loaded (${error instanceof Error ? error.message : String(error)})`, 'load');
      }
    })();
    loaded.set(codec, promise);
  }
  return promise;
}

// Literal specifiers, so that esbuild bundles each codec's JavaScript into the worker;
// imported on first use, so that threads that never decode do not parse them.
async function importFactory(factoryModule: string): Promise<unknown> {
  switch (factoryModule) {
    case 'libjpeg-turbo':
      return (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default;
    case 'charls':
      return (await import('@cornerstonejs/codec-charls/decodewasmjs')).default;
    case 'openjpeg':
      return (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default;
    case 'openjph':
      return (await import('@cornerstonejs/codec-openjph/wasmjs')).default;
    case 'libjxl':
      return (await import('@cornerstonejs/codec-libjxl/decodewasmjs')).default;
  }
  throw new Error(`unknown codec ${factoryModule}`);
}

function describeThrown(codec: LoadedCodec, thrown: unknown): string {
  const fromCodec = codec.messages.splice(0).filter((m) => m.trim() !== '' && !/^\[INFO\]/.test(m));
  let message: string;
  if (typeof thrown === 'number') {
    try {
      message = codec.module.getExceptionMessage?.(thrown) ?? `error code ${thrown}`;
    } catch {
      message = `error code ${thrown}`;
    }
  } else message = thrown instanceof Error ? thrown.message : String(thrown);
  return [message, ...fromCodec.slice(-3)].filter((m) => m !== '').join('; ');
}

async function decodeWithWasm(
  name: string,
  factoryModule: string,
  wasmAsset: string,
  decoderClass: string,
  encoded: Uint8Array,
  facts: FrameFacts,
  toRgbByCodec: (components: number) => boolean,
  signedByCodec: boolean,
): Promise<DecodedFrame> {
  const codec = await loadWasmCodec(name, factoryModule, wasmAsset);
  codec.messages.length = 0;
  const Decoder = codec.module[decoderClass] as new () => WasmDecoder;
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    if (decoder.decodeSubResolution) decoder.decodeSubResolution(0);
    else decoder.decode();
    const info = decoder.getFrameInfo();
    if (!(info.width > 0 && info.height > 0 && info.componentCount > 0)) throw new Error('the codestream decoded to no image');
    const decoded = decoder.getDecodedBuffer();
    const bytes = info.bitsPerSample > 8 ? 2 : 1;
    const expected = info.width * info.height * info.componentCount * bytes;
    if (decoded.length < expected) throw new Error(`${decoded.length} bytes decoded, ${expected} expected`);
    // Copied out: the decoder's buffer lives in WASM memory and goes with the decoder.
    const copy = decoded.slice(0, expected);
    const signed = signedByCodec && info.isSigned === true;
    const samples = bytes === 2 ? (signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer)) : signed ? new Int8Array(copy.buffer) : copy;
    return {
      samples,
      width: info.width,
      height: info.height,
      components: info.componentCount,
      // CharLS writes planes when the stream is not interleaved (mode 0, "none").
      planar: info.componentCount > 1 && decoder.getInterleaveMode?.() === 0,
      signed,
      rawWords: false,
      toRgbByCodec: toRgbByCodec(info.componentCount),
      codec: name,
    };
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new CodecError(name, describeThrown(codec, error));
  } finally {
    decoder.delete?.();
  }
}

interface JpegImageInstance {
  parse(data: Uint8Array): void;
  getData(width: number, height: number): Uint8Array;
  getData16(width: number, height: number): Uint16Array;
  colorTransform?: boolean;
  adobe?: { transformCode?: number } | null;
  width: number;
  height: number;
  components: unknown[];
}
let jpegImage: Promise<new () => JpegImageInstance> | null = null;

/** dicom-image-loader's jpeg.js with the renderer's 12-bit level-shift fix, as an ES module. */
function loadJpegImage(): Promise<new () => JpegImageInstance> {
  jpegImage ??= (async () => {
    const file = codecAssetPath('jpeg.js');
    const patched = patchJpeg12LevelShift(readFileSync(file, 'utf8'));
    if (patched === null) {
      throw new CodecError('jpeg.js', `${file}: the 12-bit level-shift code the host patches was not found (see electron/common/jpeg12-level-shift.ts)`, 'load');
    }
    const module = (await import(`data:text/javascript;base64,${Buffer.from(patched).toString('base64')}`)) as { default: new () => JpegImageInstance };
    return module.default;
  })();
  jpegImage.catch(() => {
    jpegImage = null;
  });
  return jpegImage;
}

async function decodeJpegExtended(encoded: Uint8Array, facts: FrameFacts): Promise<DecodedFrame> {
  const JpegImage = await loadJpegImage();
  const jpeg = new JpegImage();
  try {
    jpeg.parse(encoded);
    // As dicom-image-loader does: YCbCr stays as stored unless an Adobe marker asks for the
    // transform; the photometric interpretation then says what the samples are.
    jpeg.colorTransform = false;
    const samples = facts.bitsAllocated > 8 ? jpeg.getData16(jpeg.width, jpeg.height) : jpeg.getData(jpeg.width, jpeg.height);
    const components = jpeg.components.length;
    return {
      samples,
      width: jpeg.width,
      height: jpeg.height,
      components,
      planar: false,
      signed: false,
      rawWords: false,
      toRgbByCodec: components === 3 && !!jpeg.adobe?.transformCode,
      codec: 'jpeg.js',
    };
  } catch (error) {
    throw new CodecError('jpeg.js', error instanceof Error ? error.message : String(error));
  }
}

async function decodeJpegLossless(encoded: Uint8Array, facts: FrameFacts): Promise<DecodedFrame> {
  const { Decoder } = await import('@cornerstonejs/jpeg-lossless-decoder-js');
  const bytes = facts.bitsAllocated <= 8 ? 1 : 2;
  const decoder = new Decoder();
  let output: Uint8Array | Uint16Array;
  try {
    output = decoder.decode(encoded.buffer as ArrayBuffer, encoded.byteOffset, encoded.length, bytes);
  } catch (error) {
    throw new CodecError('jpeg-lossless-decoder-js', error instanceof Error ? error.message : String(error));
  }
  // The decoder returns 16-bit words as bytes; read them as words.
  const samples = bytes === 2 ? new Uint16Array(output.buffer, output.byteOffset, Math.floor(output.byteLength / 2)) : new Uint8Array(output.buffer, output.byteOffset, output.byteLength);
  return { samples, width: decoder.xDim, height: decoder.yDim, components: decoder.numComp, planar: false, signed: false, rawWords: false, toRgbByCodec: false, codec: 'jpeg-lossless-decoder-js' };
}

function decodeRle(encoded: Uint8Array, facts: FrameFacts): DecodedFrame {
  const bytesPerSample = facts.bitsAllocated / 8;
  if (![1, 2, 4].includes(bytesPerSample)) throw new CodecError('RLE', `RLE with BitsAllocated ${facts.bitsAllocated} is not supported (8, 16 or 32)`, 'load');
  const planeLength = facts.rows * facts.columns;
  let planes: Uint8Array[];
  try {
    planes = decodeRleSegments(encoded, planeLength, facts.samplesPerPixel * bytesPerSample);
  } catch (error) {
    throw new CodecError('RLE', error instanceof Error ? error.message : String(error));
  }
  // Segments run sample by sample, most significant byte first; out come planes of words.
  const samples = new Uint32Array(planeLength * facts.samplesPerPixel);
  for (let s = 0; s < facts.samplesPerPixel; s++) {
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = planes[s * bytesPerSample + b]!;
      const shift = 8 * (bytesPerSample - 1 - b);
      const base = s * planeLength;
      for (let i = 0; i < planeLength; i++) samples[base + i] = (samples[base + i]! + plane[i]! * 2 ** shift) >>> 0;
    }
  }
  return { samples, width: facts.columns, height: facts.rows, components: facts.samplesPerPixel, planar: true, signed: false, rawWords: true, toRgbByCodec: false, codec: 'RLE' };
}

const always = () => true;
const never = () => false;
const threeComponents = (components: number) => components === 3;

/** Decodes one frame's compressed bytes. Throws CodecError when the codec rejects them. */
export async function decodeCompressedFrame(syntax: string, encoded: Uint8Array, facts: FrameFacts): Promise<DecodedFrame> {
  switch (syntax) {
    case '1.2.840.10008.1.2.5':
      return decodeRle(encoded, facts);
    case '1.2.840.10008.1.2.4.50':
      if (facts.bitsAllocated > 8) return decodeJpegExtended(encoded, facts);
      // libjpeg-turbo (the viewer's decoder) turns what it takes for YCbCr into RGB. When the
      // stream does not say (no JFIF or Adobe marker, component IDs neither 1,2,3 nor R,G,B),
      // it guesses YCbCr; DICOM's photometric interpretation says RGB, and wins (PS3.5 8.2.1):
      // those streams go through jpeg.js, which leaves the samples as stored.
      if (facts.samplesPerPixel === 3 && facts.photometric === 'RGB' && jpegColourSpace(encoded) === 'unstated') return decodeJpegExtended(encoded, facts);
      return decodeWithWasm('libjpeg-turbo', 'libjpeg-turbo', 'libjpegturbowasm_decode.wasm', 'JPEGDecoder', encoded, facts, threeComponents, false);
    case '1.2.840.10008.1.2.4.51':
      return decodeJpegExtended(encoded, facts);
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70':
      return decodeJpegLossless(encoded, facts);
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      return decodeWithWasm('CharLS', 'charls', 'charlswasm_decode.wasm', 'JpegLSDecoder', encoded, facts, never, false);
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      // OpenJPEG undoes the codestream's multiple component transform (YBR_RCT / YBR_ICT).
      return decodeWithWasm('OpenJPEG', 'openjpeg', 'openjpegwasm_decode.wasm', 'J2KDecoder', encoded, facts, (c) => c === 3 && isMctPhotometric(facts.photometric), true);
    case '1.2.840.10008.1.2.4.201':
    case '1.2.840.10008.1.2.4.202':
    case '1.2.840.10008.1.2.4.203':
      return decodeWithWasm('OpenJPH', 'openjph', 'openjphjs.wasm', 'HTJ2KDecoder', encoded, facts, (c) => c === 3 && isMctPhotometric(facts.photometric), true);
    case '1.2.840.10008.1.2.4.110':
    case '1.2.840.10008.1.2.4.111':
    case '1.2.840.10008.1.2.4.112':
      return decodeWithWasm('libjxl', 'libjxl', 'jpegxlwasm_decode.wasm', 'JpegXLDecoder', encoded, facts, always, false);
  }
  throw new CodecError('none', `no decoder for transfer syntax ${syntax}`, 'load');
}

/**
 * What a JPEG stream says its three components are, read as libjpeg reads it (jdapimin.c):
 * a JFIF marker means YCbCr; an Adobe marker's transform flag decides; else component IDs
 * 1,2,3 mean YCbCr and 'R','G','B' mean RGB; anything else leaves it unstated.
 */
export function jpegColourSpace(stream: Uint8Array): 'ycbcr' | 'rgb' | 'unstated' {
  let jfif = false;
  let adobe: number | null = null;
  let ids: number[] | null = null;
  let i = 2;
  while (i + 4 <= stream.length && stream[i] === 0xff) {
    const marker = stream[i + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // start of scan: the header is over
    const length = (stream[i + 2]! << 8) | stream[i + 3]!;
    const data = stream.subarray(i + 4, i + 2 + length);
    const tag = String.fromCharCode(...data.subarray(0, 5));
    if (marker === 0xe0 && tag === 'JFIF\0') jfif = true;
    // libjpeg ignores an Adobe segment too short to hold the transform flag.
    if (marker === 0xee && tag === 'Adobe' && data.length >= 12) adobe = data[11]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && data.length >= 6) {
      const count = data[5]!;
      ids = Array.from({ length: count }, (_, k) => data[6 + 3 * k] ?? -1);
    }
    i += 2 + length;
  }
  if (jfif) return 'ycbcr';
  if (adobe !== null) return adobe === 0 ? 'rgb' : 'ycbcr';
  if (ids?.join() === '1,2,3') return 'ycbcr';
  if (ids?.join() === '82,71,66') return 'rgb';
  return 'unstated';
}

function isMctPhotometric(photometric: string): boolean {
  return photometric === 'YBR_RCT' || photometric === 'YBR_ICT';
}
