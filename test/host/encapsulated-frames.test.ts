// Which fragments make frame k, when the fragments are not codestreams one could recognise:
// only the offset tables can tell, so these prove each table is read (the corpus-based test
// in inference-slice-codecs.test.ts cannot, its frames also announce themselves by SOI).
import type { DataSet, Element, Fragment } from 'dicom-parser';
import { describe, expect, test } from 'vitest';
import { encapsulatedFrame, FrameLayoutError } from '../../electron/host/inference/encapsulated-frames.ts';

/** Frames of opaque bytes (frame f: bytes of value f + 1) split into fragments, as the item offsets a reader sees. */
function layout(fragmentsPerFrame: number[], bytesPerFragment = 4) {
  const fragments: Fragment[] = [];
  const frameOffsets: number[] = [];
  const bytes: number[] = [];
  let offset = 0;
  fragmentsPerFrame.forEach((count, frame) => {
    frameOffsets.push(offset);
    for (let i = 0; i < count; i++) {
      const position = bytes.length + 8;
      for (let k = 0; k < 8; k++) bytes.push(0); // the item tag and length
      for (let k = 0; k < bytesPerFragment; k++) bytes.push(frame + 1);
      fragments.push({ offset, position, length: bytesPerFragment });
      offset += 8 + bytesPerFragment;
    }
  });
  return { fragments, frameOffsets, bytes };
}

/** What encapsulatedFrame reads of a data set: its bytes and elements. */
function dataSetWith(bytes: number[], elements: Record<string, Element> = {}, tail: number[] = []): DataSet {
  return { byteArray: Uint8Array.from([...bytes, ...tail]), elements } as unknown as DataSet;
}

describe('encapsulated frames by offset table', () => {
  test('Basic Offset Table: frames of one, three and two fragments', () => {
    const { fragments, frameOffsets, bytes } = layout([1, 3, 2]);
    const element = { tag: 'x7fe00010', fragments, basicOffsetTable: frameOffsets } as unknown as Element;
    const dataSet = dataSetWith(bytes);
    expect(Array.from(encapsulatedFrame(dataSet, element, 0, 3))).toEqual(Array(4).fill(1));
    expect(Array.from(encapsulatedFrame(dataSet, element, 1, 3))).toEqual(Array(12).fill(2));
    expect(Array.from(encapsulatedFrame(dataSet, element, 2, 3))).toEqual(Array(8).fill(3));
  });

  test('Extended Offset Table (64-bit offsets) over an empty Basic Offset Table', () => {
    const { fragments, frameOffsets, bytes } = layout([2, 1, 3]);
    const table = new Uint8Array(frameOffsets.length * 8);
    frameOffsets.forEach((value, i) => new DataView(table.buffer).setBigUint64(i * 8, BigInt(value), true));
    const eot = { tag: 'x7fe00001', dataOffset: bytes.length, length: table.length } as unknown as Element;
    const element = { tag: 'x7fe00010', fragments, basicOffsetTable: [] } as unknown as Element;
    const dataSet = dataSetWith(bytes, { x7fe00001: eot }, Array.from(table));
    expect(Array.from(encapsulatedFrame(dataSet, element, 0, 3))).toEqual(Array(8).fill(1));
    expect(Array.from(encapsulatedFrame(dataSet, element, 1, 3))).toEqual(Array(4).fill(2));
    expect(Array.from(encapsulatedFrame(dataSet, element, 2, 3))).toEqual(Array(12).fill(3));
  });

  test('no table, more fragments than frames, nothing that starts a codestream: refused, not guessed', () => {
    const { fragments, bytes } = layout([2, 1]);
    const element = { tag: 'x7fe00010', fragments, basicOffsetTable: [] } as unknown as Element;
    expect(() => encapsulatedFrame(dataSetWith(bytes), element, 1, 2)).toThrow(FrameLayoutError);
    expect(() => encapsulatedFrame(dataSetWith(bytes), element, 1, 2)).toThrow(/3 fragments without an offset table, and 0 of them start a codestream for 2 frames/);
  });

  test('a Basic Offset Table that points between fragments is refused', () => {
    const { fragments, bytes } = layout([1, 1]);
    const element = { tag: 'x7fe00010', fragments, basicOffsetTable: [0, 5] } as unknown as Element;
    expect(() => encapsulatedFrame(dataSetWith(bytes), element, 1, 2)).toThrow(/puts frame 1 at offset 5, where no fragment starts/);
  });
});
