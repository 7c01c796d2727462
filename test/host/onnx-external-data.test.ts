// The models pre-check reads an ONNX file's external data references without loading the
// file, and checks each data file against every tensor's shape × data type: a tensor with
// no recorded length is checked too, a recorded length that disagrees with the shape is a
// problem, and a model over 512 MB (which the old check skipped) is scanned like any other.
// The models are serialised by onnx-proto, ONNX's own schema compiled for JavaScript, so
// the reader is judged against an independent writer.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkExternalData, scanExternalData } from '../../electron/host/models/onnx-external-data.ts';

const { onnx } = onnxProto;
const FLOAT = 1;
const FLOAT16 = 10;
const INT4 = 22;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mr-onnx-ext-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type External = { name: string; dataType: number; dims: number[]; location: string; offset?: number; length?: number };

function externalTensor(t: External) {
  const entries = [{ key: 'location', value: t.location }];
  if (t.offset !== undefined) entries.push({ key: 'offset', value: String(t.offset) });
  if (t.length !== undefined) entries.push({ key: 'length', value: String(t.length) });
  return { name: t.name, dataType: t.dataType, dims: t.dims, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: entries };
}

function modelBytes(graph: Record<string, unknown>): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: onnx.GraphProto.create({ name: 'g', ...graph }) })).finish();
}

async function writeModel(name: string, graph: Record<string, unknown>, data: Record<string, number>): Promise<string> {
  const file = path.join(dir, `${name}.onnx`);
  await writeFile(file, modelBytes(graph));
  for (const [location, size] of Object.entries(data)) await writeFile(path.join(dir, location), Buffer.alloc(size));
  return file;
}

describe('the ONNX external data pre-check', () => {
  it('sizes tensors from shape × data type when no length is recorded', async () => {
    const initializer = [
      externalTensor({ name: 'w', dataType: FLOAT, dims: [16, 32], location: 'a.data' }),
      externalTensor({ name: 'h', dataType: FLOAT16, dims: [10], location: 'a.data', offset: 2048 }),
      externalTensor({ name: 'q', dataType: INT4, dims: [7], location: 'a.data', offset: 4096 }),
    ];
    const good = await writeModel('good', { initializer }, { 'a.data': 4096 + 4 });
    const scanned = await scanExternalData(good);
    // 16×32 float = 2048; 10 float16 = 20 at 2048; 7 int4 = 4 bytes (packed) at 4096.
    expect(scanned.references).toEqual([{ location: 'a.data', bytesNeeded: 4100, tensors: 3 }]);
    expect(scanned.problems).toEqual([]);
    expect(await checkExternalData(good)).toEqual([]);

    const short = await writeModel('short', { initializer }, { 'a.data': 4099 });
    const problems = await checkExternalData(short);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toBe('a.data is 4099 bytes but short.onnx needs 4100: truncated');
  });

  it('refuses a recorded length that disagrees with the shape', async () => {
    const file = await writeModel('liar', { initializer: [externalTensor({ name: 'w', dataType: FLOAT, dims: [100], location: 'b.data', length: 40 })] }, { 'b.data': 400 });
    const problems = await checkExternalData(file);
    expect(problems.map((p) => p.message)).toEqual(['liar.onnx: tensor w records 40 bytes in b.data, but its shape [100] and data type need 400']);
  });

  it('checks tensors inside node attributes and subgraphs', async () => {
    const constant = { opType: 'Constant', output: ['c'], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: externalTensor({ name: 'ct', dataType: FLOAT, dims: [8], location: 'c.data' }) }] };
    const inner = { name: 'inner', node: [constant] };
    const ifNode = { opType: 'If', input: ['cond'], output: ['y'], attribute: [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: inner }] };
    const file = await writeModel('nested', { node: [ifNode] }, { 'c.data': 31 });
    expect((await scanExternalData(file)).references).toEqual([{ location: 'c.data', bytesNeeded: 32, tensors: 1 }]);
    expect((await checkExternalData(file)).map((p) => p.message)).toEqual(['c.data is 31 bytes but nested.onnx needs 32: truncated']);
  });

  it('names a missing data file', async () => {
    const file = await writeModel('missing', { initializer: [externalTensor({ name: 'w', dataType: FLOAT, dims: [4], location: 'gone.data' })] }, {});
    expect((await checkExternalData(file)).map((p) => p.message)).toEqual(['missing.onnx keeps 1 tensor(s) in gone.data, which is missing next to it']);
  });

  it('scans a model over 512 MB, seeking over its inline weights', async () => {
    // A valid model whose graph comes in two parts (protobuf merges repeated message
    // fields): one external tensor, then a 600 MB inline tensor left as a hole in a sparse file.
    const file = path.join(dir, 'big.onnx');
    const head = modelBytes({ initializer: [externalTensor({ name: 'ext', dataType: FLOAT, dims: [64], location: 'big.data' })] });
    const rawBytes = 600 * 1024 * 1024;
    const inlineTensor = onnx.TensorProto.encode({ name: 'inline', dataType: FLOAT, dims: [rawBytes / 4] }).finish();
    const varint = (n: number) => {
      const out: number[] = [];
      while (n >= 0x80) {
        out.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
      }
      out.push(n);
      return out;
    };
    const rawHeader = [0x4a, ...varint(rawBytes)]; // field 9 (raw_data), wire type 2
    const tensorBody = [...inlineTensor, ...rawHeader];
    const tensorLength = tensorBody.length + rawBytes;
    const initializerField = [0x2a, ...varint(tensorLength)]; // GraphProto field 5
    const graphLength = initializerField.length + tensorLength;
    const graphField = [0x3a, ...varint(graphLength)]; // ModelProto field 7
    const prefix = Buffer.from([...head, ...graphField, ...initializerField, ...tensorBody]);
    const handle = await open(file, 'w');
    await handle.write(prefix, 0, prefix.length, 0);
    await handle.truncate(prefix.length + rawBytes);
    await handle.close();

    const before = process.memoryUsage().rss;
    const problems = await checkExternalData(file);
    const grown = process.memoryUsage().rss - before;
    expect(problems.map((p) => p.message)).toEqual(['big.onnx keeps 1 tensor(s) in big.data, which is missing next to it']);
    // Streamed, not loaded: far less than the file's 600 MB.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    await writeFile(path.join(dir, 'big.data'), Buffer.alloc(256));
    expect(await checkExternalData(file)).toEqual([]);
  });

  it('reports a model cut short as unreadable', async () => {
    const bytes = modelBytes({ initializer: [externalTensor({ name: 'w', dataType: FLOAT, dims: [4], location: 'x.data' })] });
    const file = path.join(dir, 'cut.onnx');
    await writeFile(file, bytes.subarray(0, bytes.length - 5));
    const problems = await checkExternalData(file);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/cut\.onnx is not a readable ONNX model .*truncated or corrupt/);
  });
});
