// A minimal NRRD reader (attached header, raw or gzip data, scalar 3-D grids), enough for
// the labelled CT the evaluation on real anatomy reads (pyradiomics' test cases). It gives
// the same grid as nifti-volume.ts: x fastest, then y, then z; the world transform is not
// kept, since the benchmark slices along the third axis.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { NiftiVolume } from './nifti-volume.ts';

/** NRRD type names (and their synonyms in the format's spec) → bytes and DataView reader. */
const TYPES: ReadonlyArray<[readonly string[], number, (view: DataView, offset: number, little: boolean) => number]> = [
  [['signed char', 'int8', 'int8_t'], 1, (v, o) => v.getInt8(o)],
  [['uchar', 'unsigned char', 'uint8', 'uint8_t'], 1, (v, o) => v.getUint8(o)],
  [['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t'], 2, (v, o, l) => v.getInt16(o, l)],
  [['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t'], 2, (v, o, l) => v.getUint16(o, l)],
  [['int', 'signed int', 'int32', 'int32_t'], 4, (v, o, l) => v.getInt32(o, l)],
  [['uint', 'unsigned int', 'uint32', 'uint32_t'], 4, (v, o, l) => v.getUint32(o, l)],
  [['float'], 4, (v, o, l) => v.getFloat32(o, l)],
  [['double'], 8, (v, o, l) => v.getFloat64(o, l)],
];

export function parseNrrd(bytes: Uint8Array): NiftiVolume {
  const magic = new TextDecoder('latin1').decode(bytes.subarray(0, 8));
  if (!/^NRRD000\d$/.test(magic)) throw new Error('not an NRRD file (no NRRD000x magic)');
  // The header ends at the first blank line; the data follows it.
  let end = -1;
  for (let i = 0; i + 1 < Math.min(bytes.length, 1 << 20); i++) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('NRRD header has no blank line before the data (detached headers are not supported)');
  const fields = new Map<string, string>();
  for (const line of new TextDecoder('latin1').decode(bytes.subarray(0, end)).split('\n').slice(1)) {
    if (line.startsWith('#') || !line.includes(':')) continue;
    const colon = line.indexOf(':');
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).replace(/^=/, '').trim());
  }
  const field = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) throw new Error(`NRRD header has no "${name}" field`);
    return value;
  };
  const dimension = Number(field('dimension'));
  const sizes = field('sizes').split(/\s+/).map(Number);
  if (dimension !== 3 || sizes.length !== 3 || !sizes.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`NRRD grid ${field('sizes')} is not a 3-D scalar volume`);
  const typeName = field('type').toLowerCase();
  const type = TYPES.find(([names]) => names.includes(typeName));
  if (!type) throw new Error(`NRRD type "${typeName}" is not supported`);
  const [, bytesPer, read] = type;
  const encoding = field('encoding').toLowerCase();
  const body = bytes.subarray(end + 2);
  const data = encoding === 'raw' ? body : encoding === 'gzip' || encoding === 'gz' ? new Uint8Array(gunzipSync(body)) : null;
  if (!data) throw new Error(`NRRD encoding "${encoding}" is not supported (raw and gzip are)`);
  const little = (fields.get('endian') ?? 'little').toLowerCase() !== 'big';
  const count = sizes[0]! * sizes[1]! * sizes[2]!;
  if (data.byteLength < count * bytesPer) throw new Error(`NRRD data holds ${data.byteLength} bytes, the header says ${count * bytesPer}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = read(view, i * bytesPer, little);
  // Voxel spacing: the length of each space direction vector (or the "spacings" field).
  const directions = fields.get('space directions')?.match(/\(([^)]*)\)/g)?.map((d) => Math.hypot(...d.slice(1, -1).split(',').map(Number)));
  const spacings = fields.get('spacings')?.split(/\s+/).map(Number);
  const spacing = (directions?.length === 3 ? directions : spacings?.length === 3 ? spacings : [1, 1, 1]) as [number, number, number];
  return { sizes: sizes as [number, number, number], spacing, values, labelNames: new Map() };
}

export async function readNrrd(file: string): Promise<NiftiVolume> {
  return parseNrrd(new Uint8Array(await readFile(file)));
}
