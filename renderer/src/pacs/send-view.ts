// Send and the outbox: pick local series (the one in the viewport is preselected), queue
// them for the chosen node, and watch each instance's delivery. The outbox is the host's
// (on disk, retried with backoff): this view only lists it, kept live by outbox.changed.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { OutboxItemView, OutboxListing } from '../../../electron/common/contract-pacs.ts';
import type { PatientSummary, SeriesSummary } from '../../../electron/common/dicom-model.ts';
import { el, formatPersonName } from '../ui/dom.ts';
import { createNodeSelect } from './node-select.ts';
import type { NodeStore } from './node-store.ts';
import { describeError, describeFailure, formatTime, plural } from './pacs-text.ts';

export type SendView = { element: HTMLElement; refresh(): Promise<void> };

export function createSendView(options: { host: HostApi; store: NodeStore; currentSeriesKey(): string | null }): SendView {
  const { host, store } = options;
  const nodeSelect = createNodeSelect(store, 'pacs-send-node');
  const seriesList = el('ul', { class: 'pacs-send-series', 'data-testid': 'pacs-send-series' });
  const send = el('button', { type: 'button', class: 'button button-primary button-small', 'data-testid': 'pacs-send-button' }, 'Send selected');
  const sendMessage = el('div', { class: 'pacs-message', 'data-testid': 'pacs-send-message' });

  const outboxInfo = el('span', { class: 'panel-count', 'data-testid': 'pacs-outbox-info' });
  const flush = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-flush' }, 'Try now');
  const clearDelivered = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-clear' }, 'Clear delivered');
  const outboxMessage = el('div', { class: 'pacs-message' });
  const outboxList = el('ul', { class: 'pacs-outbox', 'data-testid': 'pacs-outbox' });
  let items: OutboxItemView[] = [];
  const checked = new Set<string>();
  /** Series Instance UID → what the study browser calls it, to name outbox rows. */
  const seriesNames = new Map<string, string>();

  async function refreshSeries(): Promise<void> {
    const { patients } = await host.call('dicom.studies', {});
    renderSeries(patients);
  }

  function renderSeries(patients: readonly PatientSummary[]): void {
    const rows: HTMLElement[] = [];
    for (const patient of patients) {
      for (const study of patient.studies) {
        for (const series of study.series) {
          seriesNames.set(series.seriesInstanceUid, `${series.description || '(no description)'} · ${formatPersonName(patient.patientName)}`);
          rows.push(renderSeriesRow(formatPersonName(patient.patientName), series));
        }
      }
    }
    seriesList.replaceChildren(...(rows.length > 0 ? rows : [el('li', { class: 'empty-note' }, 'No local series to send.')]));
  }

  function renderSeriesRow(patient: string, series: SeriesSummary): HTMLElement {
    const box = el('input', { type: 'checkbox', 'data-series-key': series.seriesKey, 'data-testid': 'pacs-send-check' });
    box.checked = checked.has(series.seriesKey);
    box.addEventListener('change', () => {
      if (box.checked) checked.add(series.seriesKey);
      else checked.delete(series.seriesKey);
    });
    const count = series.kind === 'image' ? plural(series.sliceCount, 'slice') : plural(series.instanceCount, 'object');
    return el(
      'li',
      {},
      el(
        'label',
        { class: 'pacs-send-row', 'data-series-key': series.seriesKey },
        box,
        el('span', { class: 'badge badge-modality' }, series.modality || '?'),
        el('span', { class: 'pacs-series-text' }, `${series.description || '(no description)'} · ${count} · ${patient}`),
      ),
    );
  }

  send.addEventListener('click', async () => {
    const node = store.selected;
    const seriesKeys = [...checked];
    if (!node) return showMessage(sendMessage, 'error', 'Choose a PACS node first (add one under Nodes).');
    if (seriesKeys.length === 0) return showMessage(sendMessage, 'error', 'Tick the series to send.');
    send.disabled = true;
    try {
      const result = await host.call('pacs.send', { node: { name: node }, seriesKeys });
      const skipped = result.skipped.map((skip) => `${skip.path}: ${skip.reason}`);
      showMessage(
        sendMessage,
        skipped.length > 0 ? 'error' : 'ok',
        `Queued ${plural(result.queued.length, 'instance')} for ${node}.${skipped.length > 0 ? ` Skipped ${skipped.length}: ${skipped.join('; ')}` : ''}`,
      );
      await refreshOutbox();
    } catch (error) {
      showMessage(sendMessage, 'error', `Not queued: ${describeError(error)}`);
    } finally {
      send.disabled = false;
    }
  });

  async function refreshOutbox(): Promise<void> {
    renderOutbox(await host.call('outbox.list', {}));
  }

  function renderOutbox(listing: OutboxListing): void {
    items = [...listing.items].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const counts = new Map<string, number>();
    for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
    const summary = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
    outboxInfo.textContent = summary || 'empty';
    outboxMessage.textContent = listing.delivering ? '' : `Another MedReasoner process${listing.delivererPid !== null ? ` (pid ${listing.delivererPid})` : ''} delivers the outbox.`;
    outboxList.replaceChildren(...(items.length > 0 ? groupBySeries(items).map(renderGroup) : [el('li', { class: 'empty-note' }, 'Nothing sent yet.')]));
  }

  /** One row per series sent (a send of a 120-slice series is one line), its instances inside. */
  function renderGroup(group: OutboxItemView[]): HTMLElement {
    const first = group[0]!;
    const states = new Map<string, number>();
    for (const item of group) states.set(item.state, (states.get(item.state) ?? 0) + 1);
    const failedIds = group.filter((item) => item.state === 'failed').map((item) => item.id);
    const removableIds = group.filter((item) => item.state !== 'sending').map((item) => item.id);
    const retry = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-group-retry' }, 'Retry failed');
    const remove = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-group-remove' }, 'Remove');
    retry.hidden = failedIds.length === 0;
    remove.disabled = removableIds.length === 0;
    retry.addEventListener('click', () => void act(() => host.call('outbox.retry', { ids: failedIds })));
    remove.addEventListener('click', () => void act(() => host.call('outbox.remove', { ids: removableIds })));
    // The newest failure is the one that says why the series is still waiting (or gave up).
    const failure = group
      .filter((item) => item.lastFailure && item.state !== 'delivered')
      .sort((a, b) => (b.lastAttemptAt ?? '').localeCompare(a.lastAttemptAt ?? ''))[0];
    const waiting = group.filter((item) => item.state === 'queued' && item.nextAttemptAt).map((item) => item.nextAttemptAt!).sort()[0];
    return el(
      'li',
      { class: 'pacs-outbox-group', 'data-series-uid': first.seriesInstanceUid, 'data-testid': 'pacs-outbox-group' },
      el(
        'div',
        { class: 'pacs-outbox-line' },
        ...[...states].map(([state, count]) => el('span', { class: `badge pacs-state pacs-state-${state}` }, `${count} ${state}`)),
        el('span', { class: 'badge badge-modality' }, first.modality || '?'),
        el('span', { class: 'pacs-outbox-node' }, `→ ${first.node}`),
        el('span', { class: 'pacs-outbox-actions' }, retry, remove),
      ),
      el('div', { class: 'pacs-outbox-series' }, seriesNames.get(first.seriesInstanceUid) ?? `Series ${first.seriesInstanceUid}`),
      el('div', { class: 'series-meta' }, [`${plural(group.length, 'instance')} queued ${formatTime(first.createdAt)}`, waiting && `next try ${formatTime(waiting)}`].filter(Boolean).join(' · ')),
      failure?.lastFailure && el('div', { class: 'pacs-error', 'data-testid': 'pacs-outbox-group-failure' }, `${failure.state === 'failed' ? 'Failed' : 'Last try failed'}: ${describeFailure(failure.lastFailure)}`),
      el('details', { class: 'pacs-outbox-details' }, el('summary', {}, 'Instances'), el('ul', { class: 'pacs-outbox' }, ...group.map(renderItem))),
    );
  }

  function renderItem(item: OutboxItemView): HTMLElement {
    const retry = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-retry' }, 'Retry');
    const remove = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-outbox-remove' }, 'Remove');
    retry.hidden = item.state !== 'failed';
    remove.disabled = item.state === 'sending';
    retry.addEventListener('click', () => void act(() => host.call('outbox.retry', { ids: [item.id] })));
    remove.addEventListener('click', () => void act(() => host.call('outbox.remove', { ids: [item.id] })));
    const timing = [
      plural(item.attempts, 'attempt'),
      item.state === 'delivered' && item.deliveredAt && `delivered ${formatTime(item.deliveredAt)}${item.confirmedBy === 'pacs-query' ? ' (found at the PACS)' : ''}`,
      item.state === 'queued' && item.nextAttemptAt && `next try ${formatTime(item.nextAttemptAt)}`,
    ].filter(Boolean);
    return el(
      'li',
      { class: 'pacs-outbox-item', 'data-state': item.state, 'data-sop-uid': item.sopInstanceUid, 'data-testid': 'pacs-outbox-item' },
      el(
        'div',
        { class: 'pacs-outbox-line' },
        el('span', { class: `badge pacs-state pacs-state-${item.state}` }, item.state),
        el('span', { class: 'badge badge-modality' }, item.modality || '?'),
        el('span', { class: 'pacs-outbox-node' }, `→ ${item.node}`),
        el('span', { class: 'pacs-outbox-actions' }, retry, remove),
      ),
      el('div', { class: 'pacs-outbox-uid', title: item.sourcePath }, item.sopInstanceUid),
      el('div', { class: 'series-meta' }, timing.join(' · ')),
      item.lastFailure && el('div', { class: 'pacs-error', 'data-testid': 'pacs-outbox-failure' }, `${item.state === 'failed' ? 'Failed' : 'Last try failed'}: ${describeFailure(item.lastFailure)}`),
    );
  }

  async function act(call: () => Promise<OutboxListing>): Promise<void> {
    try {
      renderOutbox(await call());
    } catch (error) {
      showMessage(outboxMessage, 'error', describeError(error));
    }
  }
  flush.addEventListener('click', () => void act(() => host.call('outbox.flush', {})));
  clearDelivered.addEventListener('click', () => {
    const ids = items.filter((item) => item.state === 'delivered').map((item) => item.id);
    if (ids.length > 0) void act(() => host.call('outbox.remove', { ids }));
  });

  // Events name only the items that changed; one listing after a burst of them is simpler and never stale.
  let pending: ReturnType<typeof setTimeout> | null = null;
  host.on('outbox.changed', () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      refreshOutbox().catch((error: unknown) => showMessage(outboxMessage, 'error', `Could not read the outbox: ${describeError(error)}`));
    }, 150);
  });
  host.on('dicom.studiesChanged', () => {
    refreshSeries().catch((error: unknown) => showMessage(sendMessage, 'error', `Could not read the local series: ${describeError(error)}`));
  });

  /** On opening the tab: the viewed series is ticked, and both lists are read afresh. */
  async function refresh(): Promise<void> {
    const current = options.currentSeriesKey();
    if (current && checked.size === 0) checked.add(current);
    // Series first: the outbox rows are named after them.
    await refreshSeries();
    await refreshOutbox();
  }

  const element = el(
    'div',
    { class: 'pacs-view', 'data-testid': 'pacs-send-view' },
    el('label', { class: 'pacs-field' }, el('span', {}, 'Send to'), nodeSelect),
    seriesList,
    el('div', { class: 'button-row' }, send),
    sendMessage,
    el('h3', { class: 'pacs-subtitle' }, 'Outbox ', outboxInfo),
    el('div', { class: 'button-row' }, flush, clearDelivered),
    outboxMessage,
    outboxList,
  );
  return { element, refresh };
}

function groupBySeries(items: readonly OutboxItemView[]): OutboxItemView[][] {
  const groups = new Map<string, OutboxItemView[]>();
  for (const item of items) {
    const key = `${item.batchId} ${item.node} ${item.seriesInstanceUid}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

function showMessage(element: HTMLElement, state: 'ok' | 'error' | 'pending', text: string): void {
  element.textContent = text;
  element.dataset['state'] = state;
}
