// Which external data files an ONNX model refers to, and how many bytes of each it needs.
// ONNX Runtime aborts the whole process (no catchable error) when an external data file
// is missing or shorter than a tensor's offset + length, so the app reads the references
// from the model's protobuf first and checks them on disk before creating a session.
// A minimal protobuf walk: ModelProto.graph → initializers, sparse initializers, node
// attribute tensors and subgraphs → TensorProto.external_data (location, offset, length).
import { open, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ExternalDataReference {
  /** Path as written in the model, relative to the model's folder. */
  location: string;
  /** The largest offset + length any tensor needs from this file (null when a tensor gives no length). */
  bytesNeeded: number | null;
  tensors: number;
}

/** Models larger than this are not scanned: they hold their weights inline (protobuf stops at 2 GB). */
export const MAX_SCANNED_MODEL_BYTES = 512 * 1024 * 1024;

class Reader {
  readonly bytes: Uint8Array;
  position: number;
  readonly end: number;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
  }
  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.position++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
    throw new Error('varint too long');
  }
  /** Reads a field key; returns null at the end. */
  key(): { field: number; wire: number } | null {
    if (this.position >= this.end) return null;
    const key = this.varint();
    return { field: Math.floor(key / 8), wire: key % 8 };
  }
  /** Skips a value of the given wire type; returns [start, end] for length-delimited values. */
  value(wire: number): [number, number] | null {
    switch (wire) {
      case 0:
        this.varint();
        return null;
      case 1:
        this.position += 8;
        return null;
      case 5:
        this.position += 4;
        return null;
      case 2: {
        const length = this.varint();
        const start = this.position;
        this.position += length;
        if (this.position > this.end) throw new Error('length-delimited field runs past its message');
        return [start, this.position];
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const decoder = new TextDecoder();

function walkMessage(bytes: Uint8Array, start: number, end: number, visit: (field: number, range: [number, number] | null) => void): void {
  const reader = new Reader(bytes, start, end);
  for (let key = reader.key(); key; key = reader.key()) visit(key.field, reader.value(key.wire));
}

function tensor(bytes: Uint8Array, range: [number, number], out: Map<string, ExternalDataReference>): void {
  let external = false;
  const entries: Record<string, string> = {};
  // external_data (13) entries; data_location (14) says EXTERNAL too, but the entries are what matter.
  walkMessage(bytes, range[0], range[1], (field, value) => {
    if (field === 13 && value) {
      let key = '';
      let text = '';
      walkMessage(bytes, value[0], value[1], (f, v) => {
        if (v && f === 1) key = decoder.decode(bytes.subarray(v[0], v[1]));
        if (v && f === 2) text = decoder.decode(bytes.subarray(v[0], v[1]));
      });
      entries[key] = text;
      external = true;
    }
  });
  if (!external || !entries.location) return;
  const offset = Number(entries.offset ?? 0);
  const length = entries.length !== undefined ? Number(entries.length) : null;
  const existing = out.get(entries.location) ?? { location: entries.location, bytesNeeded: 0, tensors: 0 };
  existing.tensors++;
  if (length === null || existing.bytesNeeded === null) existing.bytesNeeded = null;
  else existing.bytesNeeded = Math.max(existing.bytesNeeded, offset + length);
  out.set(entries.location, existing);
}

function graph(bytes: Uint8Array, range: [number, number], out: Map<string, ExternalDataReference>): void {
  walkMessage(bytes, range[0], range[1], (field, value) => {
    if (!value) return;
    if (field === 5) tensor(bytes, value, out); // initializer
    else if (field === 15) {
      // sparse_initializer: values (1) and indices (2) are tensors
      walkMessage(bytes, value[0], value[1], (f, v) => {
        if (v && (f === 1 || f === 2)) tensor(bytes, v, out);
      });
    } else if (field === 1) {
      // node → attribute (5) → t (5), g (6), tensors (10), graphs (11)
      walkMessage(bytes, value[0], value[1], (f, v) => {
        if (!v || f !== 5) return;
        walkMessage(bytes, v[0], v[1], (af, av) => {
          if (!av) return;
          if (af === 5 || af === 10) tensor(bytes, av, out);
          else if (af === 6 || af === 11) graph(bytes, av, out);
        });
      });
    }
  });
}

/** External data references of a serialised ONNX model. Throws on malformed protobuf. */
export function externalDataReferences(modelBytes: Uint8Array): ExternalDataReference[] {
  const out = new Map<string, ExternalDataReference>();
  walkMessage(modelBytes, 0, modelBytes.length, (field, value) => {
    if (field === 7 && value) graph(modelBytes, value, out);
  });
  return [...out.values()];
}

export interface ExternalDataProblem {
  model: string;
  location: string;
  message: string;
}

/**
 * Checks that every external data file `modelPath` needs exists and is long enough.
 * Returns problems in words; an unreadable or unparsable model is a problem too.
 */
export async function checkExternalData(modelPath: string): Promise<ExternalDataProblem[]> {
  let size: number;
  try {
    size = (await stat(modelPath)).size;
  } catch {
    return [{ model: modelPath, location: '', message: `${path.basename(modelPath)} is missing` }];
  }
  if (size > MAX_SCANNED_MODEL_BYTES) return [];
  const handle = await open(modelPath, 'r');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(size);
    await handle.read(bytes, 0, size, 0);
  } finally {
    await handle.close();
  }
  let references: ExternalDataReference[];
  try {
    references = externalDataReferences(bytes);
  } catch (error) {
    return [{ model: modelPath, location: '', message: `${path.basename(modelPath)} is not a readable ONNX model (${(error as Error).message}): truncated or corrupt?` }];
  }
  const problems: ExternalDataProblem[] = [];
  for (const reference of references) {
    const dataPath = path.resolve(path.dirname(modelPath), reference.location);
    let dataSize: number;
    try {
      dataSize = (await stat(dataPath)).size;
    } catch {
      problems.push({
        model: modelPath,
        location: reference.location,
        message: `${path.basename(modelPath)} keeps ${reference.tensors} tensor(s) in ${reference.location}, which is missing next to it`,
      });
      continue;
    }
    if (reference.bytesNeeded !== null && dataSize < reference.bytesNeeded) {
      problems.push({
        model: modelPath,
        location: reference.location,
        message: `${reference.location} is ${dataSize} bytes but ${path.basename(modelPath)} needs ${reference.bytesNeeded}: truncated`,
      });
    }
  }
  return problems;
}
