// What each role (CRM, ASM) will run with, or why it cannot run and how to fix it; and the
// models list. File checks only (no ONNX Runtime, no transformers.js), so the main thread
// can answer these while the inference process is busy generating.
import type { InferenceStatus, ModelsList, RoleStatus } from '../../common/contract-inference.ts';
import type { ModelManifest, ModelRole } from '../models/manifest.ts';
import { knownManifests, listInstalled, selectModel, type InstalledModel, type ModelsDirChoice, type SelectedModel } from '../models/registry.ts';
import type { ProviderDecision } from './execution-provider.ts';
import { DEFAULT_SEGMENTER_LABEL } from './segmenter-types.ts';

export function installHint(role: ModelRole, known: readonly ModelManifest[], modelsDir: string): string {
  const candidate = known.find((m) => m.role === role && !m.testFixture)?.id ?? (role === 'crm' ? 'medreasoner-7b' : 'medsam2');
  const what = role === 'crm' ? 'No MedReasoner model (CRM) is installed' : 'MedSAM2 is not installed';
  return (
    `${what} in ${modelsDir}. Export it with the scripts in native-models/ (see native-models/README.md), then run ` +
    `\`medreasoner models install ${candidate} --from <export folder>\`` +
    (role === 'asm' ? '. Until then segmentation uses the default segmenter.' : '.')
  );
}

export function roleStatus(
  role: ModelRole,
  installed: readonly InstalledModel[],
  known: readonly ModelManifest[],
  models: ModelsDirChoice,
  provider: ProviderDecision,
): { status: RoleStatus; selected: SelectedModel | null } {
  const selected = selectModel(installed, role, provider.provider);
  if (selected) {
    return {
      status: { role, state: 'ready', modelId: selected.id, variant: selected.variant, label: `${selected.manifest.displayName} (${selected.variant})`, message: selected.note },
      selected,
    };
  }
  // Folders without a readable manifest have no known role: `models list` reports them.
  const broken = installed.filter((m) => m.manifest?.role === role && !m.usable);
  if (broken.length > 0) {
    const first = broken[0]!;
    const details = first.variants.flatMap((v) => v.problems.map((p) => `[${v.name}] ${p.message}`)).slice(0, 8);
    return {
      status: {
        role,
        state: 'broken',
        modelId: first.id,
        variant: null,
        label: first.manifest?.displayName ?? first.id,
        message:
          `${first.id} is installed in ${models.dir} but cannot be used:\n${details.map((d) => `  - ${d}`).join('\n')}\n` +
          `Reinstall it (medreasoner models install ${first.id} --from <folder>) or remove it (medreasoner models remove ${first.id}).`,
      },
      selected: null,
    };
  }
  return {
    status:
      role === 'asm'
        ? { role, state: 'default', modelId: null, variant: null, label: DEFAULT_SEGMENTER_LABEL, message: installHint(role, known, models.dir) }
        : { role, state: 'missing', modelId: null, variant: null, label: 'none', message: installHint(role, known, models.dir) },
    selected: null,
  };
}

export async function inferenceStatus(models: ModelsDirChoice, provider: ProviderDecision, knownDir?: string): Promise<InferenceStatus> {
  const installed = await listInstalled(models.dir);
  const known = await knownManifests(knownDir);
  return {
    provider: { name: provider.provider, reason: provider.reason },
    modelsDir: models.dir,
    modelsDirSource: models.source,
    crm: roleStatus('crm', installed, known, models, provider).status,
    asm: roleStatus('asm', installed, known, models, provider).status,
  };
}

export async function modelsList(models: ModelsDirChoice, knownDir?: string): Promise<ModelsList> {
  const installed = await listInstalled(models.dir);
  const known = await knownManifests(knownDir);
  return {
    modelsDir: models.dir,
    modelsDirSource: models.source,
    known: known.map((m) => ({
      id: m.id,
      role: m.role,
      displayName: m.displayName,
      licence: m.licence.name,
      source: m.source.checkpoint,
      exportScript: m.source.exportScript,
      downloadable: m.source.hub !== null,
    })),
    installed: installed.map((m) => ({
      id: m.id,
      dir: m.dir,
      role: m.manifest?.role ?? null,
      displayName: m.manifest?.displayName ?? null,
      version: m.manifest?.version ?? null,
      testFixture: m.manifest?.testFixture ?? false,
      usable: m.usable,
      variants: m.variants,
      manifestProblem: m.manifestProblem,
    })),
  };
}
