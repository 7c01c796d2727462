// A small builder for ONNX graphs, serialised with onnx-proto: enough to write the tiny
// test models (a handful of standard operators, initialisers inline or as external data).
// Dev-only: the app reads ONNX files, it never writes them.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const ElemType = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;
export type ElemTypeName = keyof typeof ElemType;

export type Dim = number | string;

type AttributeValue = number | number[] | string | Float32Array | { floats: number[] } | { tensor: InitializerData };

export interface InitializerData {
  type: 'float' | 'int64';
  dims: number[];
  values: Float32Array | BigInt64Array;
}

interface PendingInitializer {
  name: string;
  data: InitializerData;
  external: boolean;
}

function rawBytes(data: InitializerData): Uint8Array {
  const view = data.values;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function tensorProto(name: string, data: InitializerData): onnxProto.onnx.ITensorProto {
  const bytes = rawBytes(data);
  return { name, dims: data.dims, dataType: ElemType[data.type], rawData: Uint8Array.from(bytes) };
}

export class GraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #initializers: PendingInitializer[] = [];
  #counter = 0;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  #valueInfo(name: string, type: ElemTypeName, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType: ElemType[type],
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    };
  }

  input(name: string, type: ElemTypeName, dims: Dim[]): string {
    this.#inputs.push(this.#valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemTypeName, dims: Dim[]): void {
    this.#outputs.push(this.#valueInfo(name, type, dims));
  }

  /** A constant tensor; `external` ones are written to the model's .onnx_data file. */
  constant(data: InitializerData, options: { name?: string; external?: boolean } = {}): string {
    const name = options.name ?? `const_${this.#counter++}`;
    this.#initializers.push({ name, data, external: options.external ?? false });
    return name;
  }

  floats(values: number[] | Float32Array, dims: number[], options: { name?: string; external?: boolean } = {}): string {
    return this.constant({ type: 'float', dims, values: Float32Array.from(values) }, options);
  }

  int64s(values: (number | bigint)[], dims: number[] = [values.length]): string {
    return this.constant({ type: 'int64', dims, values: BigInt64Array.from(values, (v) => BigInt(v)) });
  }

  /** Adds a node; returns its output names (fresh names unless `outputs` names them). */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs: number | string[] = 1): string[] {
    const outputNames = typeof outputs === 'number' ? Array.from({ length: outputs }, () => `${opType.toLowerCase()}_${this.#counter++}`) : outputs;
    const attribute = Object.entries(attributes).map(([key, value]): onnxProto.onnx.IAttributeProto => {
      if (typeof value === 'number') {
        return Number.isInteger(value) ? { name: key, type: onnx.AttributeProto.AttributeType.INT, i: value } : { name: key, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
      }
      if (typeof value === 'string') return { name: key, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
      if (Array.isArray(value)) return { name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
      if (value instanceof Float32Array) return { name: key, type: onnx.AttributeProto.AttributeType.FLOATS, floats: Array.from(value) };
      if ('floats' in value) return { name: key, type: onnx.AttributeProto.AttributeType.FLOATS, floats: value.floats };
      return { name: key, type: onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto(`${key}_value`, value.tensor) };
    });
    this.#nodes.push({ opType, input: inputs, output: outputNames, name: `${opType}_${this.#counter++}`, attribute });
    return outputNames;
  }

  /** Single-output shorthand. */
  one(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    return this.op(opType, inputs, attributes, output ? [output] : 1)[0]!;
  }

  /**
   * Serialises the model. External initialisers go to `externalDataFile` (relative to the
   * model file, as ONNX Runtime resolves it); the caller writes the returned bytes there.
   */
  serialize(options: { opset?: number; externalDataFile?: string; producer?: string } = {}): { model: Uint8Array; externalData: Uint8Array | null } {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.#initializers.map(({ name, data, external }) => {
      if (!external) return tensorProto(name, data);
      if (!options.externalDataFile) throw new Error(`initializer ${name} is external but no external data file was named`);
      const bytes = rawBytes(data);
      // ONNX Runtime maps external data with page alignment in mind; 4 KiB boundaries are what exporters use.
      const padding = (4096 - (offset % 4096)) % 4096;
      if (padding > 0) chunks.push(new Uint8Array(padding));
      offset += padding;
      const entry: onnxProto.onnx.ITensorProto = {
        name,
        dims: data.dims,
        dataType: ElemType[data.type],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: options.externalDataFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.byteLength) },
        ],
      };
      chunks.push(Uint8Array.from(bytes));
      offset += bytes.byteLength;
      return entry;
    });
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: options.producer ?? 'medreasoner-tiny-models',
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      graph: { name: this.name, node: this.#nodes, input: this.#inputs, output: this.#outputs, initializer },
    }).finish();
    let externalData: Uint8Array | null = null;
    if (chunks.length > 0) {
      externalData = new Uint8Array(offset);
      let at = 0;
      for (const chunk of chunks) {
        externalData.set(chunk, at);
        at += chunk.byteLength;
      }
    }
    return { model, externalData };
  }
}

/** Deterministic pseudo-random weights (mulberry32), so generated files are byte-identical on every run. */
export function seededFloats(count: number, seed: number, scale = 0.05): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * scale;
  }
  return out;
}
