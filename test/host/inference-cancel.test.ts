// Cancelling a question before the worker has it: while its slice is still loading, and
// when the cancel overtakes the ask on its way to the host. Both must stop the question
// before the reasoning model runs; an ask that is not cancelled still gets its answer.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModels } from '../../native-models/tiny/make-tiny-models.ts';
import type { ProviderDecision } from '../../electron/host/inference/execution-provider.ts';
import type { SliceInput } from '../../electron/host/inference/inference-engine.ts';
import { createInferenceHandlers, type InferenceHost } from '../../electron/host/inference/inference-handlers.ts';

const CPU: ProviderDecision = { provider: 'cpu', reason: 'tests run on the CPU', probe: { attempted: false, error: null, ms: 0 } };

function slice(width: number, height: number): SliceInput {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = -200 + ((x * 7 + y * 3) % 400);
  return { seriesKey: 'series-1', sliceIndex: 0, width, height, pixels, invert: false };
}

describe('inference.cancel before the worker starts a question', () => {
  let root: string;
  let inference: InferenceHost;
  const events: Array<{ jobId: string; stage: string; state: string }> = [];
  /** Each slice load waits for its gate: the test decides when the slice has "loaded". */
  const gates = new Map<string, () => void>();
  let loads = 0;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'medreasoner-cancel-'));
    const modelsDir = path.join(root, 'models');
    await writeTinyModels(modelsDir);
    inference = createInferenceHandlers({
      models: { dir: modelsDir, source: 'option' },
      provider: CPU,
      sliceCount: () => 1,
      loadSlice: (seriesKey) => {
        loads++;
        return new Promise((resolve) => gates.set(seriesKey, () => resolve(slice(256, 256))));
      },
      emit: (event, payload) => {
        if (event === 'inference.stage') {
          const p = payload as { jobId: string; stage: string; state: string };
          events.push({ jobId: p.jobId, stage: p.stage, state: p.state });
        }
      },
    });
  }, 120_000);

  afterAll(async () => {
    await inference?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function waitForGate(seriesKey: string): Promise<() => void> {
    for (let i = 0; i < 500 && !gates.has(seriesKey); i++) await new Promise((r) => setTimeout(r, 10));
    const gate = gates.get(seriesKey);
    if (!gate) throw new Error(`the slice of ${seriesKey} was never asked for`);
    return gate;
  }

  it('stops a question whose slice is still loading', async () => {
    const asked = inference.handlers['inference.ask']({ jobId: 'ask-loading', seriesKey: 'loading', sliceIndex: 0, question: 'Where is the liver?' });
    const outcome = asked.then(() => 'answered', (e: { code?: string }) => e.code ?? String(e));
    const release = await waitForGate('loading');
    expect(await inference.handlers['inference.cancel']({ jobId: 'ask-loading' })).toEqual({ cancelled: true });
    release();
    expect(await outcome).toBe('cancelled');
    const stages = events.filter((e) => e.jobId === 'ask-loading').map((e) => e.stage);
    expect(stages).not.toContain('crm');
    expect(stages).not.toContain('load-crm');
  });

  it('honours a cancel that arrives before its ask', async () => {
    const loadsBefore = loads;
    expect(await inference.handlers['inference.cancel']({ jobId: 'ask-early' })).toEqual({ cancelled: false });
    await expect(inference.handlers['inference.ask']({ jobId: 'ask-early', seriesKey: 'early', sliceIndex: 0, question: 'Where is the liver?' })).rejects.toMatchObject({ code: 'cancelled' });
    expect(loads).toBe(loadsBefore);
    expect(events.filter((e) => e.jobId === 'ask-early')).toEqual([]);
  });

  it('answers a question that was not cancelled', async () => {
    const asked = inference.handlers['inference.ask']({ jobId: 'ask-kept', seriesKey: 'kept', sliceIndex: 0, question: 'Where is the liver?' });
    (await waitForGate('kept'))();
    const result = await asked;
    // The model ran to its end (whether its reply parses is another test's business).
    expect(result.status).not.toBe('cancelled');
    expect(result.rawText.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.jobId === 'ask-kept').map((e) => e.stage)).toContain('crm');
  }, 120_000);
});
