// The top bar's inference item: which execution provider runs the models (CPU or CUDA)
// and why, and per role (CRM reasoning model, ASM segmenter) whether a model is
// installed, and if not, the host's instructions to install one. Without models the
// summary says so in words; the details open on click.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { InferenceStatus, RoleStatus } from '../../../electron/common/contract-inference.ts';
import { createCrmSettingsForm } from './crm-server-settings.ts';
import { el } from './dom.ts';
import './inference-status.css';

const roleNames: Record<RoleStatus['role'], string> = { crm: 'Reasoning model (CRM)', asm: 'Segmenter (ASM)' };
const stateWords: Record<RoleStatus['state'], string> = {
  ready: 'installed',
  default: 'built-in default',
  missing: 'not installed',
  broken: 'installed but unusable',
  crashed: 'stopped the inference process',
};

export type InferenceStatusItem = { element: HTMLElement; refresh(): Promise<void> };

export function createInferenceStatus(host: HostApi): InferenceStatusItem {
  const summary = el('summary', { class: 'inference-summary', 'data-testid': 'inference-summary' }, 'AI: checking…');
  const body = el('div', { class: 'inference-body', 'data-testid': 'inference-details' });
  const element = el('details', { class: 'inference-status', 'data-testid': 'inference-status' }, summary, body);
  const settings = createCrmSettingsForm(host, () => void refresh());

  function render(status: InferenceStatus): void {
    const provider = status.provider.name.toUpperCase();
    const installed = [status.crm, status.asm].filter((role) => role.state === 'ready').length;
    const modelsWord = installed === 2 ? 'models installed' : installed === 0 ? 'no models installed' : '1 of 2 models installed';
    // Which CRM will answer the next question: the server's model, or the local one.
    const server = status.crmServer;
    summary.textContent = server ? `AI: CRM ${server.model} on ${server.name} · ASM ${provider}` : `AI: ${provider} · ${modelsWord}`;
    element.dataset['crmSource'] = server ? 'server' : 'local';
    element.dataset['provider'] = status.provider.name;
    element.dataset['crm'] = status.crm.state;
    element.dataset['asm'] = status.asm.state;
    const problem = [server ? null : status.crm, status.asm].some((role) => role !== null && (role.state === 'missing' || role.state === 'broken' || role.state === 'crashed'));
    element.dataset['state'] = problem ? 'incomplete' : 'ready';
    body.replaceChildren(
      el('div', { class: 'inference-row' }, el('strong', {}, `Execution provider: ${provider}`), el('div', { class: 'inference-note', 'data-testid': 'inference-provider-reason' }, status.provider.reason)),
      server
        ? el('div', { class: 'inference-row', 'data-role': 'crm', 'data-state': 'server', 'data-testid': 'inference-crm-server' }, el('strong', {}, `${roleNames.crm}: `, 'on a GPU server'), el('div', { class: 'inference-note' }, `${server.model} on ${server.name} (${server.origin})`))
        : renderRole(status.crm),
      renderRole(status.asm),
      el('div', { class: 'inference-note' }, `Models folder (${status.modelsDirSource}): `, el('code', {}, status.modelsDir)),
      settings.element,
    );
    void settings.load();
  }

  function renderRole(role: RoleStatus): HTMLElement {
    const what = role.state === 'ready' ? `${role.label}${role.variant ? ` (${role.variant})` : ''}` : role.state === 'default' ? role.label : '';
    return el(
      'div',
      { class: 'inference-row', 'data-role': role.role, 'data-state': role.state },
      el('strong', {}, `${roleNames[role.role]}: `, el('span', { class: `inference-state inference-state-${role.state}` }, stateWords[role.state])),
      what && el('div', { class: 'inference-note' }, what),
      role.message && el('pre', { class: 'inference-hint', 'data-testid': `inference-hint-${role.role}` }, role.message),
    );
  }

  async function refresh(): Promise<void> {
    try {
      render(await host.call('models.status', {}));
    } catch (error) {
      summary.textContent = 'AI: status unavailable';
      element.dataset['state'] = 'error';
      body.replaceChildren(el('div', { class: 'inference-note' }, `Could not read the inference status: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  // A model that crashed the inference process (or ran again after) changes what this shows.
  host.on('models.statusChanged', () => void refresh());
  void refresh();
  return { element, refresh };
}
