// The PACS drawer: opened from the top bar, over the right edge of the viewer so the
// study browser stays usable beside it (a retrieved series appears there while the
// drawer is open). Three tabs: nodes, query & retrieve, send & outbox.
import type { HostApi } from '../../../electron/common/contract.ts';
import { el } from '../ui/dom.ts';
import { NodeStore } from './node-store.ts';
import { createNodesView } from './nodes-view.ts';
import './pacs.css';
import { describeError } from './pacs-text.ts';
import { createQueryView } from './query-view.ts';
import { createSendView } from './send-view.ts';

export type PacsPanel = { button: HTMLButtonElement; element: HTMLElement };

type Tab = 'nodes' | 'query' | 'send';

export function createPacsPanel(options: {
  host: HostApi;
  /** The series in the viewport: preselected for sending. */
  currentSeriesKey(): string | null;
  /** Retrieved series keys, to open in the viewport. */
  onViewSeries(seriesKeys: string[]): void;
  onError(message: string): void;
}): PacsPanel {
  const { host } = options;
  const store = new NodeStore(host);
  const sendView = createSendView({ host, store, currentSeriesKey: options.currentSeriesKey });
  const views: Record<Tab, HTMLElement> = {
    nodes: createNodesView(host, store),
    query: createQueryView({ host, store, onViewSeries: options.onViewSeries }),
    send: sendView.element,
  };
  const labels: Record<Tab, string> = { nodes: 'Nodes', query: 'Query / Retrieve', send: 'Send / Outbox' };
  const tabButtons = (Object.keys(views) as Tab[]).map((tab) => {
    const button = el('button', { type: 'button', role: 'tab', class: 'pacs-tab', 'data-tab': tab, 'data-testid': `pacs-tab-${tab}` }, labels[tab]);
    button.addEventListener('click', () => show(tab));
    return button;
  });
  const close = el('button', { type: 'button', class: 'button button-small', 'aria-label': 'Close PACS panel', 'data-testid': 'pacs-close' }, '✕');
  const element = el(
    'section',
    { class: 'pacs-drawer', hidden: true, 'aria-label': 'PACS', 'data-testid': 'pacs-panel' },
    el('header', { class: 'pacs-drawer-header' }, el('h2', { class: 'panel-title' }, 'PACS'), close),
    el('nav', { class: 'pacs-tabs', role: 'tablist' }, ...tabButtons),
    el('div', { class: 'pacs-drawer-body' }, ...Object.values(views)),
  );
  const button = el('button', { type: 'button', class: 'button button-small', 'aria-expanded': 'false', 'data-testid': 'pacs-open' }, 'PACS…');

  function show(tab: Tab): void {
    for (const [name, view] of Object.entries(views)) view.hidden = name !== tab;
    for (const tabButton of tabButtons) tabButton.setAttribute('aria-selected', String(tabButton.dataset['tab'] === tab));
    if (tab === 'send') sendView.refresh().catch((error: unknown) => options.onError(`Could not read the outbox: ${describeError(error)}`));
  }

  let loaded = false;
  function setOpen(open: boolean): void {
    element.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    button.classList.toggle('button-primary', open);
    if (open && !loaded) {
      loaded = true;
      store.load().catch((error: unknown) => {
        loaded = false;
        options.onError(`Could not read the PACS nodes: ${describeError(error)}`);
      });
    }
  }
  button.addEventListener('click', () => setOpen(element.hidden));
  close.addEventListener('click', () => setOpen(false));
  show('nodes');
  return { button, element };
}
