// Which execution provider inference uses: CUDA when it is usable, else the CPU, decided
// once at start-up with the reason, because ONNX Runtime has no automatic fallback (a
// session asked for CUDA without the provider libraries throws "Failed to load shared
// library"). The probe runs a one-node model on the provider and catches whatever goes wrong.
//
// WebGPU is opt-in (MEDREASONER_DEVICE=webgpu): it is the one provider for which
// transformers.js keeps the KV cache on the device between decode steps (it asks ONNX
// Runtime for 'gpu-buffer' outputs, which onnxruntime-node 1.30 maps to WebGPU memory only);
// under CUDA every step copies the whole cache to the host and back. Whether that makes
// WebGPU faster than CUDA for the 7B is measured by bench/crm-providers.ts on a GPU machine,
// not assumed here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';

export type ProviderName = 'cpu' | 'cuda' | 'webgpu';

export interface ProviderDecision {
  provider: ProviderName;
  /** Why, in a sentence (shown in the UI and the log). */
  reason: string;
  /** What the probe tried, for diagnostics. */
  probe: { attempted: boolean; error: string | null; ms: number };
}

export const DEVICE_ENV = 'MEDREASONER_DEVICE';

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v > 127) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes;
}
const field = (number: number, wire: number) => varint((number << 3) | wire);
const bytesField = (number: number, content: number[]) => [...field(number, 2), ...varint(content.length), ...content];
const stringField = (number: number, text: string) => bytesField(number, [...new TextEncoder().encode(text)]);
const varintField = (number: number, value: number) => [...field(number, 0), ...varint(value)];

/** A one-node ONNX model (y = Identity(x), float32 [1]), hand-encoded: the probe needs no ONNX tooling. */
export function identityModel(): Uint8Array {
  const tensorType = bytesField(1, [...varintField(1, 1), ...bytesField(2, bytesField(1, varintField(1, 1)))]);
  const valueInfo = (name: string) => [...stringField(1, name), ...bytesField(2, tensorType)];
  const node = [...stringField(1, 'x'), ...stringField(2, 'y'), ...stringField(4, 'Identity')];
  const graph = [...bytesField(1, node), ...stringField(2, 'probe'), ...bytesField(11, valueInfo('x')), ...bytesField(12, valueInfo('y'))];
  return Uint8Array.from([...varintField(1, 8), ...bytesField(7, graph), ...bytesField(8, [...stringField(1, ''), ...varintField(2, 17)])]);
}

/** Where onnxruntime-node keeps its native libraries (the CUDA provider is a separate download). */
export function onnxruntimeBinaryDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const arch = process.arch;
    return path.join(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, arch);
  } catch {
    return null;
  }
}

export async function decideExecutionProvider(env: NodeJS.ProcessEnv = process.env): Promise<ProviderDecision> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const forced = env[DEVICE_ENV]?.trim().toLowerCase();
  if (forced === 'cpu') return { provider: 'cpu', reason: `${DEVICE_ENV}=cpu: CUDA not tried`, probe: { attempted: false, error: null, ms: elapsed() } };
  if (forced === 'webgpu') {
    const failure = await probeProvider('webgpu');
    return failure === null
      ? { provider: 'webgpu', reason: `${DEVICE_ENV}=webgpu: the WebGPU provider ran a probe model (KV cache kept on the device)`, probe: { attempted: true, error: null, ms: elapsed() } }
      : { provider: 'cpu', reason: `${DEVICE_ENV}=webgpu, but WebGPU is not usable (${failure.split('\n')[0]}); running on the CPU`, probe: { attempted: true, error: failure, ms: elapsed() } };
  }
  if (forced !== undefined && forced !== '' && forced !== 'cuda') {
    return { provider: 'cpu', reason: `${DEVICE_ENV}=${forced} is not one of cpu, cuda, webgpu; running on the CPU`, probe: { attempted: false, error: null, ms: elapsed() } };
  }
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return { provider: 'cpu', reason: `onnxruntime-node has no CUDA build for ${process.platform}`, probe: { attempted: false, error: null, ms: elapsed() } };
  }
  if (process.platform === 'win32') {
    return { provider: 'cpu', reason: 'onnxruntime-node 1.30 has no CUDA provider on Windows (DirectML is not wired yet)', probe: { attempted: false, error: null, ms: elapsed() } };
  }
  const binaries = onnxruntimeBinaryDir();
  if (binaries && !existsSync(path.join(binaries, 'libonnxruntime_providers_cuda.so'))) {
    return {
      provider: 'cpu',
      reason: 'the CUDA provider libraries are not installed (run `npm run setup:gpu` on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9)',
      probe: { attempted: false, error: null, ms: elapsed() },
    };
  }
  const failure = await probeProvider('cuda');
  if (failure === null) return { provider: 'cuda', reason: 'CUDA execution provider loaded and ran a probe model', probe: { attempted: true, error: null, ms: elapsed() } };
  return {
    provider: 'cpu',
    reason: `CUDA is not usable (${failure.split('\n')[0]}); running on the CPU`,
    probe: { attempted: true, error: failure, ms: elapsed() },
  };
}

/** Runs the one-node model on `provider`; null when it worked, else what went wrong. */
export async function probeProvider(provider: Exclude<ProviderName, 'cpu'>): Promise<string | null> {
  try {
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: [provider] });
    const x = new ort.Tensor('float32', Float32Array.of(1), [1]);
    const result = await session.run({ x });
    await session.release();
    if ((result.y?.data as Float32Array | undefined)?.[0] !== 1) return `the ${provider} probe returned a wrong value`;
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
