// One frame's compressed bytes out of encapsulated Pixel Data (PS3.5 A.4). Which fragments
// make a frame: all of them for a single frame; else the Extended Offset Table or the Basic
// Offset Table when there is one; else one fragment per frame when the counts match; else
// the fragments that open a codestream (SOI, SOC, a JP2 or JPEG XL signature) start frames.
// A file that still leaves it ambiguous is malformed: a guess would feed a model the wrong slice.
import type { DataSet, Element, Fragment } from 'dicom-parser';

export class FrameLayoutError extends Error {}

function fragmentBytes(source: Uint8Array, fragments: readonly Fragment[]): Uint8Array {
  if (fragments.length === 1) {
    const f = fragments[0]!;
    return source.subarray(f.position, f.position + f.length);
  }
  const out = new Uint8Array(fragments.reduce((sum, f) => sum + f.length, 0));
  let at = 0;
  for (const f of fragments) {
    out.set(source.subarray(f.position, f.position + f.length), at);
    at += f.length;
  }
  return out;
}

/** Fragment groups from frame start offsets, as both offset tables give them (relative to the first fragment's item). */
function byOffsets(fragments: readonly Fragment[], offsets: readonly number[], frame: number, table: string): Fragment[] {
  const start = offsets[frame]!;
  const end = frame + 1 < offsets.length ? offsets[frame + 1]! : Number.POSITIVE_INFINITY;
  if (!fragments.some((f) => f.offset === start)) throw new FrameLayoutError(`the ${table} puts frame ${frame} at offset ${start}, where no fragment starts`);
  return fragments.filter((f) => f.offset >= start && f.offset < end);
}

function extendedOffsets(dataSet: DataSet): number[] | null {
  const element = dataSet.elements.x7fe00001;
  if (!element || element.length < 8) return null;
  const view = new DataView(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset + element.dataOffset, element.length);
  const offsets: number[] = [];
  for (let i = 0; i + 8 <= element.length; i += 8) offsets.push(Number(view.getBigUint64(i, true)));
  return offsets;
}

function startsCodestream(source: Uint8Array, fragment: Fragment): boolean {
  const b = source.subarray(fragment.position, fragment.position + Math.min(fragment.length, 12));
  if (b[0] === 0xff && (b[1] === 0xd8 || b[1] === 0x4f || b[1] === 0x0a)) return true; // JPEG / JPEG-LS SOI, J2K SOC, JPEG XL
  const box = b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0x0c;
  const type = String.fromCharCode(b[4] ?? 0, b[5] ?? 0, b[6] ?? 0, b[7] ?? 0);
  return box && (type === 'jP  ' || type === 'JXL ');
}

/** The compressed bytes of frame `frame` (0-based) of `frames`. */
export function encapsulatedFrame(dataSet: DataSet, element: Element, frame: number, frames: number): Uint8Array {
  const source = dataSet.byteArray;
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new FrameLayoutError('the encapsulated pixel data holds no fragments');
  if (frames === 1) return fragmentBytes(source, fragments);
  const extended = extendedOffsets(dataSet);
  if (extended) {
    if (extended.length !== frames) throw new FrameLayoutError(`the Extended Offset Table lists ${extended.length} frames, the object has ${frames}`);
    return fragmentBytes(source, byOffsets(fragments, extended, frame, 'Extended Offset Table'));
  }
  const basic = element.basicOffsetTable ?? [];
  if (basic.length > 0) {
    if (basic.length !== frames) throw new FrameLayoutError(`the Basic Offset Table lists ${basic.length} frames, the object has ${frames}`);
    return fragmentBytes(source, byOffsets(fragments, basic, frame, 'Basic Offset Table'));
  }
  if (fragments.length === frames) return fragmentBytes(source, [fragments[frame]!]);
  const starts = fragments.flatMap((f, i) => (startsCodestream(source, f) ? [i] : []));
  if (starts.length !== frames || starts[0] !== 0) {
    throw new FrameLayoutError(`${fragments.length} fragments without an offset table, and ${starts.length} of them start a codestream for ${frames} frames`);
  }
  return fragmentBytes(source, fragments.slice(starts[frame], starts[frame + 1] ?? fragments.length));
}
