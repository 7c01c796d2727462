// Nodes: the list of configured PACS, each with Test / Edit / Remove, and a form for a
// new or edited DIMSE or DICOMweb node. "Test" in the form tries the node as typed,
// before it is saved, so a wrong port or AE title shows before it is stored.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { EchoResult, NodeRef, PacsNodeInput, PacsNodeView } from '../../../electron/common/contract-pacs.ts';
import type { SegFormat } from '../../../electron/common/contract-seg.ts';
import { el } from '../ui/dom.ts';
import type { NodeStore } from './node-store.ts';
import { describeError, describeFailure, nodeAddress } from './pacs-text.ts';

export function createNodesView(host: HostApi, store: NodeStore): HTMLElement {
  const list = el('ul', { class: 'pacs-node-list', 'data-testid': 'pacs-node-list' });
  const addButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-node-add' }, 'Add node…');
  const form = createNodeForm(host, store, () => {
    form.element.hidden = true;
  });
  form.element.hidden = true;
  addButton.addEventListener('click', () => form.open(null));

  function render(): void {
    if (store.nodes.length === 0) {
      list.replaceChildren(el('li', { class: 'empty-note' }, 'No PACS configured. Add a DIMSE or DICOMweb node.'));
      return;
    }
    list.replaceChildren(...store.nodes.map(renderNode));
  }

  function renderNode(node: PacsNodeView): HTMLElement {
    const result = el('div', { class: 'pacs-test-result', 'data-testid': 'pacs-node-test-result' });
    const test = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-node-test' }, 'Test connection');
    const edit = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-node-edit' }, 'Edit');
    const remove = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-node-remove' }, 'Remove');
    test.addEventListener('click', () => void runTest(host, { name: node.name }, test, result));
    edit.addEventListener('click', () => form.open(node));
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Remove the PACS node "${node.name}"? Items already in the outbox keep their destination.`)) return;
      try {
        store.apply(await host.call('pacs.nodes.remove', { name: node.name }));
      } catch (error) {
        showResult(result, 'error', describeError(error));
      }
    });
    return el(
      'li',
      { class: 'pacs-node', 'data-node-name': node.name },
      el(
        'div',
        { class: 'pacs-node-line' },
        el('span', { class: 'badge badge-modality' }, node.type === 'dimse' ? 'DIMSE' : 'DICOMweb'),
        el('span', { class: 'pacs-node-name' }, node.name),
      ),
      el('div', { class: 'pacs-node-address' }, nodeAddress(node)),
      el('div', { class: 'button-row' }, test, edit, remove),
      result,
    );
  }

  store.onChange(render);
  render();
  return el('div', { class: 'pacs-view', 'data-testid': 'pacs-nodes-view' }, list, el('div', { class: 'button-row' }, addButton), form.element);
}

async function runTest(host: HostApi, node: NodeRef, button: HTMLButtonElement, result: HTMLElement): Promise<void> {
  button.disabled = true;
  showResult(result, 'pending', 'Testing…');
  try {
    const answer: EchoResult = await host.call('pacs.nodes.test', { node });
    if (answer.ok) showResult(result, 'ok', `OK in ${Math.round(answer.elapsedMs)} ms: ${answer.message}`);
    else showResult(result, 'error', `Failed after ${Math.round(answer.elapsedMs)} ms: ${describeFailure(answer.failure)}`);
  } catch (error) {
    showResult(result, 'error', describeError(error));
  } finally {
    button.disabled = false;
  }
}

function showResult(element: HTMLElement, state: 'ok' | 'error' | 'pending', text: string): void {
  element.textContent = text;
  element.dataset['state'] = state;
}

type NodeForm = { element: HTMLElement; open(node: PacsNodeView | null): void };

function createNodeForm(host: HostApi, store: NodeStore, onClose: () => void): NodeForm {
  const field = (label: string, input: HTMLElement, className = '') => el('label', { class: `pacs-field ${className}` }, el('span', {}, label), input);
  const input = (testId: string, attributes: Record<string, string> = {}) =>
    el('input', { type: 'text', class: 'text-input', spellcheck: 'false', autocomplete: 'off', 'data-testid': testId, ...attributes });

  const type = el('select', { class: 'text-input', 'data-testid': 'pacs-form-type' }, el('option', { value: 'dimse' }, 'DIMSE (C-ECHO, C-FIND, C-GET/C-MOVE, C-STORE)'), el('option', { value: 'dicomweb' }, 'DICOMweb (QIDO, WADO, STOW)'));
  const name = input('pacs-form-name', { placeholder: 'e.g. Hospital PACS' });
  const calledAet = input('pacs-form-called-aet', { placeholder: 'ORTHANC', maxlength: '16' });
  const hostName = input('pacs-form-host', { placeholder: '127.0.0.1' });
  const port = input('pacs-form-port', { type: 'number', min: '1', max: '65535', placeholder: '104' });
  const callingAet = input('pacs-form-calling-aet', { value: 'MEDREASONER', maxlength: '16' });
  const tls = el('input', { type: 'checkbox', 'data-testid': 'pacs-form-tls' });
  const retrieveMethod = el('select', { class: 'text-input', 'data-testid': 'pacs-form-retrieve' }, el('option', { value: 'c-get' }, 'C-GET'), el('option', { value: 'c-move' }, 'C-MOVE (needs the listener)'));
  const baseUrl = input('pacs-form-base-url', { placeholder: 'http://pacs:8042/dicom-web' });
  const authType = el('select', { class: 'text-input', 'data-testid': 'pacs-form-auth' }, el('option', { value: 'none' }, 'No authentication'), el('option', { value: 'basic' }, 'Basic (user, password)'), el('option', { value: 'bearer' }, 'Bearer token'));
  const username = input('pacs-form-username');
  const password = input('pacs-form-password', { type: 'password' });
  const token = input('pacs-form-token', { type: 'password' });
  const segFormat = el(
    'select',
    { class: 'text-input', 'data-testid': 'pacs-form-seg-format' },
    el('option', { value: 'binary' }, 'BINARY (any receiver)'),
    el('option', { value: 'labelmap' }, 'LABELMAP'),
    el('option', { value: 'labelmap-rle' }, 'LABELMAP, RLE (OHIF)'),
  );

  const dimseFields = el(
    'div',
    { class: 'pacs-form-group' },
    field('Called AE title (the PACS)', calledAet),
    el('div', { class: 'pacs-form-pair' }, field('Host', hostName), field('Port', port, 'pacs-field-port')),
    field('Calling AE title (us)', callingAet),
    el('div', { class: 'pacs-form-pair' }, field('Retrieve with', retrieveMethod), el('label', { class: 'pacs-checkbox' }, tls, 'TLS')),
  );
  const basicFields = el('div', { class: 'pacs-form-group' }, field('User', username), field('Password', password));
  const bearerFields = el('div', { class: 'pacs-form-group' }, field('Token', token));
  const dicomwebFields = el('div', { class: 'pacs-form-group' }, field('Base URL', baseUrl), field('Authentication', authType), basicFields, bearerFields);

  const title = el('h3', { class: 'pacs-subtitle' });
  const result = el('div', { class: 'pacs-test-result', 'data-testid': 'pacs-form-result' });
  const save = el('button', { type: 'submit', class: 'button button-primary button-small', 'data-testid': 'pacs-form-save' }, 'Save');
  const test = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-form-test' }, 'Test connection');
  const cancel = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-form-cancel' }, 'Cancel');
  const element = el(
    'form',
    { class: 'pacs-node-form', 'data-testid': 'pacs-node-form' },
    title,
    field('Protocol', type),
    field('Name', name),
    dimseFields,
    dicomwebFields,
    field('Segmentations as', segFormat),
    el('div', { class: 'button-row' }, save, test, cancel),
    result,
  );
  let originalName: string | null = null;
  let storedSecret = false;

  function syncVisibility(): void {
    dimseFields.hidden = type.value !== 'dimse';
    dicomwebFields.hidden = type.value !== 'dicomweb';
    basicFields.hidden = authType.value !== 'basic';
    bearerFields.hidden = authType.value !== 'bearer';
    const keep = storedSecret ? 'stored: leave empty to keep it' : '';
    password.placeholder = keep;
    token.placeholder = keep;
  }
  type.addEventListener('change', syncVisibility);
  authType.addEventListener('change', syncVisibility);

  function readSegFormat(): SegFormat {
    return segFormat.value === 'labelmap' || segFormat.value === 'labelmap-rle' ? segFormat.value : 'binary';
  }

  /** The form as the contract's input; the host validates it and says which field is wrong. */
  function readNode(): PacsNodeInput {
    if (type.value === 'dimse') {
      return {
        type: 'dimse',
        name: name.value.trim(),
        calledAet: calledAet.value.trim(),
        host: hostName.value.trim(),
        port: Number(port.value),
        callingAet: callingAet.value.trim() || 'MEDREASONER',
        tls: tls.checked,
        retrieveMethod: retrieveMethod.value === 'c-move' ? 'c-move' : 'c-get',
        segFormat: readSegFormat(),
      };
    }
    const auth =
      authType.value === 'basic'
        ? { type: 'basic' as const, username: username.value, ...(password.value ? { password: password.value } : {}) }
        : authType.value === 'bearer'
          ? { type: 'bearer' as const, ...(token.value ? { token: token.value } : {}) }
          : { type: 'none' as const };
    return { type: 'dicomweb', name: name.value.trim(), baseUrl: baseUrl.value.trim(), auth, segFormat: readSegFormat() };
  }

  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const node = readNode();
      store.apply(await host.call('pacs.nodes.save', { node, ...(originalName && originalName !== node.name ? { originalName } : {}) }));
      store.select(node.name);
      onClose();
    } catch (error) {
      showResult(result, 'error', `Not saved: ${describeError(error)}`);
    } finally {
      save.disabled = false;
    }
  });
  // An edited node keeps its stored secret only by name: test the saved one unless a new secret was typed.
  test.addEventListener('click', () => {
    const node = readNode();
    const usesStoredSecret = storedSecret && node.type === 'dicomweb' && node.auth?.type !== 'none' && !password.value && !token.value;
    void runTest(host, usesStoredSecret && originalName ? { name: originalName } : { node }, test, result);
  });
  cancel.addEventListener('click', onClose);

  function open(node: PacsNodeView | null): void {
    originalName = node?.name ?? null;
    title.textContent = node ? `Edit "${node.name}"` : 'New PACS node';
    result.textContent = '';
    delete result.dataset['state'];
    type.value = node?.type ?? 'dimse';
    type.disabled = node !== null;
    name.value = node?.name ?? '';
    const dimse = node?.type === 'dimse' ? node : null;
    calledAet.value = dimse?.calledAet ?? '';
    hostName.value = dimse?.host ?? '';
    port.value = dimse ? String(dimse.port) : '';
    callingAet.value = dimse?.callingAet ?? 'MEDREASONER';
    tls.checked = dimse?.tls ?? false;
    retrieveMethod.value = dimse?.retrieveMethod ?? 'c-get';
    segFormat.value = node?.segFormat ?? 'binary';
    const web = node?.type === 'dicomweb' ? node : null;
    baseUrl.value = web?.baseUrl ?? '';
    authType.value = web?.auth.type ?? 'none';
    username.value = web?.auth.type === 'basic' ? web.auth.username : '';
    password.value = '';
    token.value = '';
    storedSecret = web?.auth.type === 'basic' ? web.auth.passwordSet : web?.auth.type === 'bearer' ? web.auth.tokenSet : false;
    syncVisibility();
    element.hidden = false;
    name.focus();
  }

  syncVisibility();
  return { element, open };
}
