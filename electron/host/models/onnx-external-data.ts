// Which external data files an ONNX model refers to, and how many bytes of each it needs.
// A model whose external data file is missing or shorter than a tensor needs must never
// reach ONNX Runtime (older versions abort the whole process on it; the host runs it in a
// child process anyway, inference-child.ts), so the app reads the references from the
// model's protobuf first and checks them on disk before creating a session.
// The walk streams the file: it reads field keys and the small messages it needs (tensor
// headers, external_data entries) and seeks over everything else (inline raw_data, a 2 GB
// model's weights), so a model of any size is checked in a little memory. Each tensor's
// size comes from its shape × data type; a recorded `length` must agree with it.
// Walked: ModelProto.graph → initializers, sparse initializers, node attribute tensors and
// subgraphs → TensorProto (dims, data_type, name, external_data).
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface ExternalDataReference {
  /** Path as written in the model, relative to the model's folder. */
  location: string;
  /** The largest offset + size any tensor needs from this file. */
  bytesNeeded: number;
  tensors: number;
}

export interface ExternalTensorProblem {
  tensor: string;
  message: string;
}

/** Bytes per element of TensorProto.DataType; 0.5 for the packed 4-bit types. STRING (8) has none. */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, // FLOAT
  2: 1, // UINT8
  3: 1, // INT8
  4: 2, // UINT16
  5: 2, // INT16
  6: 4, // INT32
  7: 8, // INT64
  9: 1, // BOOL
  10: 2, // FLOAT16
  11: 8, // DOUBLE
  12: 4, // UINT32
  13: 8, // UINT64
  14: 8, // COMPLEX64
  15: 16, // COMPLEX128
  16: 2, // BFLOAT16
  17: 1, // FLOAT8E4M3FN
  18: 1, // FLOAT8E4M3FNUZ
  19: 1, // FLOAT8E5M2
  20: 1, // FLOAT8E5M2FNUZ
  21: 0.5, // UINT4
  22: 0.5, // INT4
  23: 0.5, // FLOAT4E2M1
  24: 1, // FLOAT8E8M0
};

/** A read window over the model file: sequential key reads hit memory, skips cost nothing. */
class FileBytes {
  readonly #handle: FileHandle;
  readonly size: number;
  readonly #window = Buffer.alloc(64 * 1024);
  #windowStart = 0;
  #windowEnd = 0;

  constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.size = size;
  }

  /** The byte at `position` when the window holds it, else -1 (then `fill` first). */
  at(position: number): number {
    return position >= this.#windowStart && position < this.#windowEnd ? this.#window[position - this.#windowStart]! : -1;
  }

  async fill(position: number): Promise<void> {
    const { bytesRead } = await this.#handle.read(this.#window, 0, this.#window.length, position);
    this.#windowStart = position;
    this.#windowEnd = position + bytesRead;
    if (bytesRead === 0) throw new Error('unexpected end of file');
  }

  /** A small range (names, entries): at most a few KB in a valid model. */
  async slice(start: number, end: number): Promise<Buffer> {
    if (end - start > 1024 * 1024) throw new Error(`a ${end - start}-byte field where a short string belongs`);
    const out = Buffer.alloc(end - start);
    const { bytesRead } = await this.#handle.read(out, 0, out.length, start);
    if (bytesRead !== out.length) throw new Error('unexpected end of file');
    return out;
  }
}

type Field = { field: number; wire: number; start: number; end: number; value: number };

/** Visits the fields of the message in [start, end); for length-delimited ones, start/end bound the value. */
async function walk(bytes: FileBytes, start: number, end: number, visit: (field: Field) => Promise<void> | void): Promise<void> {
  let position = start;
  const varint = async (): Promise<number> => {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (position >= end) throw new Error('truncated varint');
      let byte = bytes.at(position);
      if (byte < 0) {
        await bytes.fill(position);
        byte = bytes.at(position);
      }
      position++;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
    throw new Error('varint too long');
  };
  while (position < end) {
    const key = await varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value = 0;
    let valueStart = position;
    switch (wire) {
      case 0:
        value = await varint();
        break;
      case 1:
        position += 8;
        break;
      case 5:
        position += 4;
        break;
      case 2: {
        const length = await varint();
        valueStart = position;
        position += length;
        break;
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    if (position > end) throw new Error('a field runs past its message: truncated or corrupt');
    await visit({ field, wire, start: valueStart, end: position, value });
  }
}

/** Packed repeated int64 (dims): varints back to back. */
async function packedVarints(bytes: FileBytes, start: number, end: number): Promise<number[]> {
  const raw = await bytes.slice(start, end);
  const values: number[] = [];
  let result = 0;
  let multiplier = 1;
  for (const byte of raw) {
    result += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) {
      values.push(result);
      result = 0;
      multiplier = 1;
    }
  }
  return values;
}

interface Scan {
  references: Map<string, ExternalDataReference>;
  problems: ExternalTensorProblem[];
}

async function tensor(bytes: FileBytes, start: number, end: number, scan: Scan): Promise<void> {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  const entries: Record<string, string> = {};
  let external = false;
  await walk(bytes, start, end, async (f) => {
    if (f.field === 1 && f.wire === 0) dims.push(f.value);
    else if (f.field === 1 && f.wire === 2) dims.push(...(await packedVarints(bytes, f.start, f.end)));
    else if (f.field === 2 && f.wire === 0) dataType = f.value;
    else if (f.field === 8 && f.wire === 2) name = (await bytes.slice(f.start, f.end)).toString('utf8');
    else if (f.field === 13 && f.wire === 2) {
      external = true;
      let key = '';
      let text = '';
      await walk(bytes, f.start, f.end, async (entry) => {
        if (entry.wire !== 2) return;
        if (entry.field === 1) key = (await bytes.slice(entry.start, entry.end)).toString('utf8');
        if (entry.field === 2) text = (await bytes.slice(entry.start, entry.end)).toString('utf8');
      });
      entries[key] = text;
    }
  });
  if (!external || !entries.location) return;
  const label = name || '(unnamed tensor)';
  const offset = Number(entries.offset ?? 0);
  const recorded = entries.length !== undefined ? Number(entries.length) : null;
  const elementBytes = ELEMENT_BYTES[dataType];
  // A negative int64 dimension reads as a 64-bit varint: far past any real shape.
  const elements = dims.reduce((n, d) => n * d, 1);
  const computed = elementBytes === undefined || !Number.isSafeInteger(elements) ? null : Math.ceil(elements * elementBytes);
  if (!Number.isSafeInteger(offset) || offset < 0 || (recorded !== null && (!Number.isSafeInteger(recorded) || recorded < 0))) {
    scan.problems.push({ tensor: label, message: `tensor ${label} has an unreadable external data offset or length (${entries.offset ?? 0}, ${entries.length ?? 'none'})` });
    return;
  }
  if (computed === null && recorded === null) {
    scan.problems.push({ tensor: label, message: `tensor ${label} in ${entries.location} has no recorded length and a size that its data type (${dataType}) and shape [${dims.join(', ')}] do not give` });
    return;
  }
  if (computed !== null && recorded !== null && computed !== recorded) {
    scan.problems.push({ tensor: label, message: `tensor ${label} records ${recorded} bytes in ${entries.location}, but its shape [${dims.join(', ')}] and data type need ${computed}` });
    return;
  }
  const size = computed ?? recorded!;
  const reference = scan.references.get(entries.location) ?? { location: entries.location, bytesNeeded: 0, tensors: 0 };
  reference.tensors++;
  reference.bytesNeeded = Math.max(reference.bytesNeeded, offset + size);
  scan.references.set(entries.location, reference);
}

async function graph(bytes: FileBytes, start: number, end: number, scan: Scan): Promise<void> {
  await walk(bytes, start, end, async (f) => {
    if (f.wire !== 2) return;
    if (f.field === 5) await tensor(bytes, f.start, f.end, scan); // initializer
    else if (f.field === 15) {
      // sparse_initializer: values (1) and indices (2) are tensors
      await walk(bytes, f.start, f.end, async (s) => {
        if (s.wire === 2 && (s.field === 1 || s.field === 2)) await tensor(bytes, s.start, s.end, scan);
      });
    } else if (f.field === 1) {
      // node → attribute (5) → t (5), g (6), tensors (10), graphs (11)
      await walk(bytes, f.start, f.end, async (n) => {
        if (n.wire !== 2 || n.field !== 5) return;
        await walk(bytes, n.start, n.end, async (a) => {
          if (a.wire !== 2) return;
          if (a.field === 5 || a.field === 10) await tensor(bytes, a.start, a.end, scan);
          else if (a.field === 6 || a.field === 11) await graph(bytes, a.start, a.end, scan);
        });
      });
    }
  });
}

/** External data references of the model in `file`, read without loading it. Throws on malformed protobuf. */
export async function scanExternalData(file: string): Promise<{ references: ExternalDataReference[]; problems: ExternalTensorProblem[] }> {
  const handle = await open(file, 'r');
  try {
    const bytes = new FileBytes(handle, (await handle.stat()).size);
    const scan: Scan = { references: new Map(), problems: [] };
    await walk(bytes, 0, bytes.size, async (f) => {
      if (f.field === 7 && f.wire === 2) await graph(bytes, f.start, f.end, scan);
    });
    return { references: [...scan.references.values()], problems: scan.problems };
  } finally {
    await handle.close();
  }
}

export interface ExternalDataProblem {
  model: string;
  location: string;
  message: string;
}

/**
 * Checks that every external data file `modelPath` needs exists and is long enough for
 * every tensor's shape × data type. Returns problems in words; an unreadable or unparsable
 * model is a problem too.
 */
export async function checkExternalData(modelPath: string): Promise<ExternalDataProblem[]> {
  try {
    await stat(modelPath);
  } catch {
    return [{ model: modelPath, location: '', message: `${path.basename(modelPath)} is missing` }];
  }
  let scanned: Awaited<ReturnType<typeof scanExternalData>>;
  try {
    scanned = await scanExternalData(modelPath);
  } catch (error) {
    return [{ model: modelPath, location: '', message: `${path.basename(modelPath)} is not a readable ONNX model (${(error as Error).message}): truncated or corrupt?` }];
  }
  const problems: ExternalDataProblem[] = scanned.problems.map((p) => ({ model: modelPath, location: '', message: `${path.basename(modelPath)}: ${p.message}` }));
  for (const reference of scanned.references) {
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
    if (dataSize < reference.bytesNeeded) {
      problems.push({
        model: modelPath,
        location: reference.location,
        message: `${reference.location} is ${dataSize} bytes but ${path.basename(modelPath)} needs ${reference.bytesNeeded}: truncated`,
      });
    }
  }
  return problems;
}
