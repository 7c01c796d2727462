// Inference runs in a child process of the host: a model that aborts it (the tiny ASM
// with its test fixture's abort-on-load flag, the stand-in for ONNX Runtime crashing in
// native code) fails only the question that loaded it. The host keeps answering, names the
// model and the reason (models.status, models.statusChanged), restarts the process, and the
// next question after the model is fixed gets its answer. Without the child process the
// abort would end this test's own process.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_ASM_ID, writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import type { ProviderDecision } from '../../electron/host/inference/execution-provider.ts';
import type { SliceInput } from '../../electron/host/inference/inference-engine.ts';
import { InferenceService, type ModelStatusChange } from '../../electron/host/inference/inference-service.ts';
import { createHost, type Host } from '../../electron/host/host.ts';
import { PYDICOM_TEST_FILES, requireDir } from './real-parts.ts';

const CPU: ProviderDecision = { provider: 'cpu', reason: 'tests run on the CPU', probe: { attempted: false, error: null, ms: 0 } };

async function setAbortOnLoad(asmDir: string, abort: boolean): Promise<void> {
  const file = path.join(asmDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  if (abort) manifest.testAbortOnLoad = true;
  else delete manifest.testAbortOnLoad;
  await writeFile(file, JSON.stringify(manifest, null, 2));
}

function slice(width: number, height: number): SliceInput {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = -200 + ((x * 7 + y * 3) % 400);
  return { seriesKey: 'series-1', sliceIndex: 0, width, height, pixels, invert: false };
}

let root: string;

beforeAll(async () => {
  requireDir(PYDICOM_TEST_FILES, 'python3-pydicom (its test_files corpus)');
  root = await mkdtemp(path.join(tmpdir(), 'mr-inference-process-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a model that aborts the inference process', () => {
  let host: Host;
  let asmDir: string;
  let seriesKey: string;
  const events: Array<{ event: string; payload: any }> = [];

  beforeAll(async () => {
    const modelsDir = path.join(root, 'host-models');
    ({ asmDir } = await writeTinyModels(modelsDir));
    await setAbortOnLoad(asmDir, true);
    host = createHost({ shell: 'test', dataDir: path.join(root, 'data'), modelsDir });
    host.subscribe((message) => events.push(message as { event: string; payload: any }));
    const imported = await host.dispatch('dicom.import', { jobId: 'ct', paths: [path.join(PYDICOM_TEST_FILES, 'CT_small.dcm')] });
    if (!imported.ok) throw new Error(`import failed: ${imported.error.message}`);
    seriesKey = (imported.result as { seriesKeys: string[] }).seriesKeys[0]!;
  }, 120_000);

  afterAll(async () => {
    await host?.dispose();
  });

  it('fails only that question, names the model and how it stopped, and the host keeps serving', async () => {
    const asked = await host.dispatch('inference.ask', { jobId: 'crash-1', seriesKey, sliceIndex: 0, question: 'Where is the liver?' });
    expect(asked.ok).toBe(false);
    if (asked.ok) return;
    expect(asked.error.message).toContain(TINY_ASM_ID);
    expect(asked.error.message).toContain('SIGABRT');
    expect(asked.error.message).toMatch(/while loading it/);
    expect(asked.error.message).toMatch(/restarted/);

    // The host answers other calls at once: the viewer's series, the study list.
    const series = await host.dispatch('dicom.series', { seriesKey });
    expect(series.ok).toBe(true);
    const studies = await host.dispatch('dicom.studies', {});
    expect(studies.ok).toBe(true);

    const crashed = events.find((e) => e.event === 'models.statusChanged' && e.payload.state === 'crashed');
    expect(crashed?.payload).toMatchObject({ role: 'asm', modelId: TINY_ASM_ID });
    expect(crashed?.payload.message).toContain('SIGABRT');

    const status = await host.dispatch('models.status', {});
    if (!status.ok) throw new Error(`models.status failed: ${status.error.message}`);
    const asm = (status.result as { asm: { state: string; modelId: string; message: string } }).asm;
    expect(asm).toMatchObject({ state: 'crashed', modelId: TINY_ASM_ID });
    expect(asm.message).toContain('SIGABRT');
  }, 120_000);

  it('answers the next question after the restart once the model is fixed, and clears the mark', async () => {
    await setAbortOnLoad(asmDir, false);
    const asked = await host.dispatch('inference.ask', { jobId: 'after-restart', seriesKey, sliceIndex: 0, question: 'Where is the liver?' });
    if (!asked.ok) throw new Error(`the ask after the restart failed: ${asked.error.message}`);
    const result = asked.result as { status: string; segmenter: { id: string }; mask: unknown };
    expect(result.status).toBe('ok');
    expect(result.segmenter).toMatchObject({ id: TINY_ASM_ID });
    expect(result.mask).not.toBeNull();
    expect(events.some((e) => e.event === 'models.statusChanged' && e.payload.state === 'recovered' && e.payload.role === 'asm')).toBe(true);
    const status = await host.dispatch('models.status', {});
    expect((status as { ok: true; result: { asm: { state: string } } }).result.asm.state).toBe('ready');
  }, 120_000);
});

describe('restarts of the inference process', () => {
  let service: InferenceService;
  let asmDir: string;
  const changes: ModelStatusChange[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    const modelsDir = path.join(root, 'service-models');
    ({ asmDir } = await writeTinyModels(modelsDir));
    await setAbortOnLoad(asmDir, true);
    service = new InferenceService({
      models: { dir: modelsDir, source: 'option' },
      provider: CPU,
      restart: { maxRestarts: 1, windowMs: 60_000, baseDelayMs: 10 },
      onModelStatus: (change) => changes.push(change),
      log: (message) => logs.push(message),
    });
  }, 120_000);

  afterAll(async () => {
    await service?.dispose();
  });

  it('restarts a limited number of times, then waits for the next request, which starts it again', async () => {
    await expect(service.segment({ jobId: 's1', slice: slice(64, 64), box: [4, 4, 40, 40], points: [] })).rejects.toMatchObject({ code: 'model-crashed' });
    const second = service.segment({ jobId: 's2', slice: slice(64, 64), box: [4, 4, 40, 40], points: [] });
    await expect(second).rejects.toMatchObject({ code: 'model-crashed' });
    await expect(second).rejects.toThrow(/not restarted until the next request/);
    expect(logs.filter((l) => l.includes('not restarting it'))).toHaveLength(1);
    expect(changes.filter((c) => c.state === 'crashed' && c.role === 'asm' && c.modelId === TINY_ASM_ID)).toHaveLength(2);

    await setAbortOnLoad(asmDir, false);
    const fixed = await service.segment({ jobId: 's3', slice: slice(64, 64), box: [4, 4, 40, 40], points: [] });
    expect(fixed.segmenter).toMatchObject({ id: TINY_ASM_ID });
    expect(fixed.mask.area).toBeGreaterThan(0);
  }, 120_000);
});

