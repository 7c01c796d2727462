// A minimal NIfTI-1 reader (single-file .nii / .nii.gz, little or big endian), enough for
// the label atlases and templates the evaluation on real anatomy reads (mricron-data).
// Only the voxel grid is kept: the benchmark slices along the third axis and never needs
// the world transform.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface NiftiVolume {
  sizes: [number, number, number];
  spacing: [number, number, number];
  /** Voxel values after the header's scl_slope / scl_inter; x fastest, then y, then z. */
  values: Float32Array;
  /** Label names from a text extension ("value<TAB>name" lines), when the file carries one. */
  labelNames: Map<number, string>;
}

export function parseNifti(bytes: Uint8Array): NiftiVolume {
  const data = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = view.getInt32(0, true) === 348;
  if (!little && view.getInt32(0, false) !== 348) throw new Error('not a NIfTI-1 file (sizeof_hdr is not 348)');
  const i16 = (o: number) => view.getInt16(o, little);
  const f32 = (o: number) => view.getFloat32(o, little);
  const sizes: [number, number, number] = [i16(42), i16(44), Math.max(1, i16(46))];
  const spacing: [number, number, number] = [f32(80), f32(84), f32(88)];
  const datatype = i16(70);
  const offset = Math.round(f32(108));
  const slope = f32(112) || 1;
  const inter = f32(116) || 0;
  const count = sizes[0] * sizes[1] * sizes[2];
  const readers: Record<number, [number, (o: number) => number]> = {
    2: [1, (o) => view.getUint8(o)],
    4: [2, (o) => view.getInt16(o, little)],
    8: [4, (o) => view.getInt32(o, little)],
    16: [4, (o) => view.getFloat32(o, little)],
    256: [1, (o) => view.getInt8(o)],
    512: [2, (o) => view.getUint16(o, little)],
  };
  const reader = readers[datatype];
  if (!reader) throw new Error(`NIfTI datatype ${datatype} is not supported`);
  const [bytesPer, read] = reader;
  if (offset + count * bytesPer > data.byteLength) throw new Error('NIfTI file is shorter than its header says');
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = read(offset + i * bytesPer) * slope + inter;
  const labelNames = new Map<number, string>();
  if (offset > 352) {
    // MRIcron writes the names as plain text after the header, without extension framing.
    const text = new TextDecoder('latin1').decode(data.subarray(352, offset));
    for (const match of text.matchAll(/^(\d+)\t([^\n\0]+)$/gm)) labelNames.set(Number(match[1]), match[2]!.trim());
  }
  return { sizes, spacing, values, labelNames };
}

export async function readNifti(file: string): Promise<NiftiVolume> {
  return parseNifti(new Uint8Array(await readFile(file)));
}

/**
 * Label names from a side-car "index name code" table (MRIcron's aal.nii.txt): the voxels
 * hold the index (the 8-bit file cannot hold AAL's 4-digit codes).
 */
export function parseLabelTable(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [index, name] = line.trim().split(/\s+/);
    if (index && name && Number.isFinite(Number(index))) names.set(Number(index), name);
  }
  return names;
}
