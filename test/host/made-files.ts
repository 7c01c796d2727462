// DICOM files in syntaxes pydicom 2.3's corpus lacks, made from its images: the encoders of
// the codec packages write the codestream, pydicom wraps it (encapsulated, new transfer
// syntax). Used by inference-slice-made-syntaxes.test.ts and slice-worker-bundle.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEBIAN_PYTHON } from './real-parts.ts';

const require = createRequire(import.meta.url);

/** pydicom writes the stored samples of a file (--raw) or a file with a new codestream (--wrap). */
export const SCRIPT = String.raw`
import sys, pydicom
from pydicom.encaps import encapsulate
mode, src, out = sys.argv[1:4]
ds = pydicom.dcmread(src)
if mode == "--raw":
    open(out, "wb").write(ds.pixel_array.astype(ds.pixel_array.dtype.newbyteorder("<")).tobytes())
    print(ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated, ds.PixelRepresentation)
elif mode == "--relabel":
    ds.file_meta.TransferSyntaxUID = sys.argv[4]
    ds.save_as(out)
else:
    codestream, syntax, photometric = sys.argv[4:7]
    # pydicom 2.3 predates HTJ2K and JPEG XL: register their UIDs so that it writes them as transfer syntaxes.
    from pydicom._uid_dict import UID_dictionary
    UID_dictionary.setdefault(syntax, ("made here", "Transfer Syntax", "", "", "MadeHere"))
    ds.PixelData = encapsulate([open(codestream, "rb").read()])
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PhotometricInterpretation = photometric
    ds.save_as(out)
`;

export interface Stored {
  bytes: Uint8Array;
  rows: number;
  columns: number;
  samples: number;
  bits: number;
  signed: boolean;
}

export function stored(dir: string, source: string): Stored {
  const raw = path.join(dir, `${path.basename(source)}.raw`);
  const [rows, columns, samples, bits, representation] = execFileSync(DEBIAN_PYTHON, ['-c', SCRIPT, '--raw', source, raw], { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { bytes: readFileSync(raw), rows: rows!, columns: columns!, samples: samples!, bits: bits!, signed: representation === 1 };
}

export function wrap(dir: string, source: string, codestream: Uint8Array, syntax: string, photometric: string, name: string): string {
  const cs = path.join(dir, `${name}.bin`);
  const out = path.join(dir, `${name}.dcm`);
  writeFileSync(cs, codestream);
  execFileSync(DEBIAN_PYTHON, ['-c', SCRIPT, '--wrap', source, out, cs, syntax, photometric], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

type Module = Record<string, new () => Record<string, (...args: unknown[]) => unknown>>;

export async function htj2k(image: Stored, options: { progression: number; colourTransform: boolean }): Promise<Uint8Array> {
  const codec = (await require('@cornerstonejs/codec-openjph/wasmjs')({ print: () => {}, printErr: () => {} })) as Module;
  const encoder = new codec['HTJ2KEncoder']!();
  const frameInfo = { width: image.columns, height: image.rows, bitsPerSample: image.bits, componentCount: image.samples, isSigned: image.signed, isUsingColorTransform: options.colourTransform };
  (encoder['getDecodedBuffer']!(frameInfo) as Uint8Array).set(image.bytes);
  encoder['setQuality']!(true, 0);
  encoder['setProgressionOrder']!(options.progression);
  encoder['encode']!();
  return (encoder['getEncodedBuffer']!() as Uint8Array).slice();
}

export async function jpegXlLossless(image: Stored): Promise<Uint8Array> {
  const { default: factory } = (await import('@cornerstonejs/codec-libjxl/encodewasmjs' as string)) as { default: (options: object) => Promise<Module> };
  // The ESM build would fetch its .wasm by URL, which Node's fetch cannot do for files.
  const codec = await factory({ print: () => {}, printErr: () => {}, wasmBinary: readFileSync(require.resolve('@cornerstonejs/codec-libjxl/encodewasm')) });
  const encoder = new codec['JpegXLEncoder']!();
  // JPEG XL has no signed samples: the stored 16-bit patterns go in (MR_small's values are all positive).
  (encoder['getDecodedBuffer']!({ width: image.columns, height: image.rows, bitsPerSample: image.bits, componentCount: image.samples, isSigned: false }) as Uint8Array).set(image.bytes);
  encoder['setLossless']!(true);
  encoder['encode']!();
  return (encoder['getEncodedBuffer']!() as Uint8Array).slice();
}

export async function jpegLsNearLossless(image: Stored, near: number): Promise<Uint8Array> {
  const codec = (await require('@cornerstonejs/codec-charls/wasmjs')({ print: () => {}, printErr: () => {} })) as Module;
  const encoder = new codec['JpegLSEncoder']!();
  (encoder['getDecodedBuffer']!({ width: image.columns, height: image.rows, bitsPerSample: image.bits, componentCount: image.samples }) as Uint8Array).set(image.bytes);
  encoder['setNearLossless']!(near);
  encoder['encode']!();
  return (encoder['getEncodedBuffer']!() as Uint8Array).slice();
}

