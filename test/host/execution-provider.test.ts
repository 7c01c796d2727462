// The execution provider is decided once, with a reason a person can act on; a provider
// that cannot run falls back to the CPU instead of failing the first session.
import { describe, expect, it } from 'vitest';
import { decideExecutionProvider, probeProvider } from '../../electron/host/inference/execution-provider.ts';
import { selectModel, type InstalledModel } from '../../electron/host/models/registry.ts';

describe('execution provider', () => {
  it('MEDREASONER_DEVICE=cpu takes the CPU without probing', async () => {
    const decision = await decideExecutionProvider({ MEDREASONER_DEVICE: 'cpu' });
    expect(decision.provider).toBe('cpu');
    expect(decision.probe.attempted).toBe(false);
  });

  it('MEDREASONER_DEVICE=webgpu probes WebGPU; where it cannot run, the CPU with the probe error as the reason', async () => {
    const failure = await probeProvider('webgpu');
    const decision = await decideExecutionProvider({ MEDREASONER_DEVICE: 'webgpu' });
    expect(decision.probe.attempted).toBe(true);
    if (failure === null) {
      expect(decision.provider).toBe('webgpu');
    } else {
      expect(decision.provider).toBe('cpu');
      expect(decision.reason).toContain('WebGPU is not usable');
      expect(decision.probe.error).toBe(failure);
    }
  });

  it('an unknown MEDREASONER_DEVICE is named in the reason and runs on the CPU', async () => {
    const decision = await decideExecutionProvider({ MEDREASONER_DEVICE: 'tpu' });
    expect(decision.provider).toBe('cpu');
    expect(decision.reason).toContain('tpu');
  });

  it('WebGPU selects the manifest\'s GPU default variant', () => {
    const manifest = {
      id: 'm', role: 'crm', testFixture: false,
      defaultVariant: { cpu: 'q4', cuda: 'fp16' },
    };
    const installed = [{
      id: 'm', dir: '/x', usable: true, manifest,
      variants: [{ name: 'q4', complete: true }, { name: 'fp16', complete: true }],
    }] as unknown as InstalledModel[];
    expect(selectModel(installed, 'crm', 'webgpu')?.variant).toBe('fp16');
    expect(selectModel(installed, 'crm', 'cpu')?.variant).toBe('q4');
  });
});
