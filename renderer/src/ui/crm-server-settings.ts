// Models settings: which CRM answers — the local ONNX model or a GPU server (an
// OpenAI-compatible endpoint). The server is a destination like a PACS node: nothing is
// sent before the user saves it; plain HTTP to another machine needs the explicit box; the
// API key goes to the host once and never comes back (the form shows only whether one is
// stored). "Test connection" names what the server offers and whether the model answers.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { CrmServerInput, CrmSettingsView, ServerProbeResult } from '../../../electron/common/contract-inference.ts';
import { el } from './dom.ts';

export interface CrmSettingsForm {
  element: HTMLElement;
  load(): Promise<void>;
}

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Why the form cannot be sent as is (the host checks again), or null. */
export function formProblem(input: { baseUrl: string; insecureConfirmed?: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    return 'The server URL is not a URL (e.g. https://gpu1.example.org:8000/v1).';
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !input.insecureConfirmed) {
    return 'Plain HTTP to another machine sends slices (patient data) unencrypted: use https://, or tick "Send over plain HTTP".';
  }
  return null;
}

export function probeSummary(probe: ServerProbeResult): string {
  if (!probe.ok) return probe.failure?.message ?? 'The server did not answer.';
  const offers = probe.models === null ? (probe.modelsNote ?? 'it does not list its models') : probe.models.length > 0 ? `it lists ${probe.models.join(', ')}` : 'it lists no models';
  return `Connected to ${probe.origin} in ${Math.round(probe.ms)} ms: ${offers}; the model answers${probe.answeredAs ? ` as ${probe.answeredAs}` : ''}.`;
}

export function createCrmSettingsForm(host: HostApi, onSaved: () => void): CrmSettingsForm {
  const input = (name: string, type = 'text', attrs: Record<string, string> = {}) => el('input', { type, name, 'data-testid': `crm-${name}`, ...attrs }) as HTMLInputElement;
  const local = input('mode', 'radio', { value: 'local' });
  const server = input('mode', 'radio', { value: 'server' });
  local.setAttribute('data-testid', 'crm-mode-local');
  server.setAttribute('data-testid', 'crm-mode-server');
  const name = input('name', 'text', { placeholder: 'GPU server' });
  const baseUrl = input('baseUrl', 'url', { placeholder: 'https://gpu1.example.org:8000/v1' });
  const model = input('model', 'text', { placeholder: 'medreasoner-7b' });
  const apiKey = input('apiKey', 'password', { autocomplete: 'off' });
  const timeoutS = input('timeoutS', 'number', { min: '1', max: '3600' });
  const maxInFlight = input('maxInFlight', 'number', { min: '1', max: '256' });
  const insecure = input('insecureConfirmed', 'checkbox');
  const keyNote = el('span', { class: 'inference-note', 'data-testid': 'crm-key-state' }, '');
  const message = el('div', { class: 'inference-note', 'data-testid': 'crm-settings-message', role: 'status' }, '');
  const testButton = el('button', { type: 'button', 'data-testid': 'crm-test' }, 'Test connection') as HTMLButtonElement;
  const saveButton = el('button', { type: 'button', 'data-testid': 'crm-save' }, 'Save') as HTMLButtonElement;
  const row = (label: string, control: HTMLElement, extra?: HTMLElement) => el('label', { class: 'crm-row' }, el('span', {}, label), control, ...(extra ? [extra] : []));
  const serverFields = el(
    'div',
    { class: 'crm-server-fields' },
    row('Name', name),
    row('URL', baseUrl),
    row('Model id', model),
    row('API key', apiKey, keyNote),
    row('Timeout (s)', timeoutS),
    row('Requests in flight', maxInFlight),
    row('Send over plain HTTP', insecure),
  );
  const element = el(
    'div',
    { class: 'crm-settings', 'data-testid': 'crm-settings' },
    el('strong', {}, 'Reasoning model answers from'),
    el('label', { class: 'crm-row' }, local, el('span', {}, 'this computer (local ONNX model)')),
    el('label', { class: 'crm-row' }, server, el('span', {}, 'a GPU server (OpenAI-compatible API)')),
    serverFields,
    el('div', { class: 'crm-buttons' }, testButton, saveButton),
    message,
  );

  const formInput = (): CrmServerInput => ({
    name: name.value.trim() || (() => {
      try {
        return new URL(baseUrl.value).host;
      } catch {
        return 'GPU server';
      }
    })(),
    baseUrl: baseUrl.value.trim(),
    model: model.value.trim(),
    ...(apiKey.value !== '' ? { apiKey: apiKey.value } : {}),
    ...(timeoutS.value ? { timeoutS: Number(timeoutS.value) } : {}),
    ...(maxInFlight.value ? { maxInFlight: Number(maxInFlight.value) } : {}),
    insecureConfirmed: insecure.checked,
  });
  const sync = () => {
    serverFields.hidden = !server.checked;
    testButton.disabled = !server.checked;
  };
  local.addEventListener('change', sync);
  server.addEventListener('change', sync);

  function fill(view: CrmSettingsView): void {
    local.checked = view.mode === 'local';
    server.checked = view.mode === 'server';
    const s = view.server;
    name.value = s?.name ?? '';
    baseUrl.value = s?.baseUrl ?? '';
    model.value = s?.model ?? '';
    apiKey.value = '';
    timeoutS.value = String(s?.timeoutS ?? 120);
    maxInFlight.value = String(s?.maxInFlight ?? 4);
    insecure.checked = s?.insecureConfirmed ?? false;
    keyNote.textContent = s?.apiKeySet ? 'a key is stored (leave empty to keep it)' : 'no key stored';
    sync();
  }

  const run = async (what: () => Promise<void>) => {
    testButton.disabled = saveButton.disabled = true;
    try {
      await what();
    } catch (error) {
      message.textContent = error instanceof Error ? error.message : String(error);
      message.dataset['state'] = 'error';
    } finally {
      saveButton.disabled = false;
      sync();
    }
  };
  const checked = (): CrmServerInput | null => {
    const value = formInput();
    const problem = formProblem(value) ?? (value.model === '' ? 'Give the model id the server serves MedReasoner under.' : null);
    if (problem) {
      message.textContent = problem;
      message.dataset['state'] = 'error';
      return null;
    }
    return value;
  };

  testButton.addEventListener('click', () =>
    run(async () => {
      const value = checked();
      if (!value) return;
      message.textContent = 'Testing…';
      const probe = await host.call('crm.testServer', { server: value });
      message.textContent = probeSummary(probe);
      message.dataset['state'] = probe.ok ? 'ok' : 'error';
    }),
  );
  saveButton.addEventListener('click', () =>
    run(async () => {
      if (server.checked) {
        const value = checked();
        if (!value) return;
        fill(await host.call('crm.saveSettings', { mode: 'server', server: value }));
      } else fill(await host.call('crm.saveSettings', { mode: 'local' }));
      message.textContent = 'Saved.';
      message.dataset['state'] = 'ok';
      onSaved();
    }),
  );

  return {
    element,
    async load() {
      try {
        fill(await host.call('crm.settings', {}));
      } catch (error) {
        message.textContent = `Settings unavailable: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
  };
}
