// The "which PACS" picker the query and send views share.
import { el } from '../ui/dom.ts';
import type { NodeStore } from './node-store.ts';

export function createNodeSelect(store: NodeStore, testId: string): HTMLSelectElement {
  const select = el('select', { class: 'text-input pacs-node-select', 'aria-label': 'PACS node', 'data-testid': testId });
  function render(): void {
    if (store.nodes.length === 0) {
      select.replaceChildren(el('option', { value: '' }, 'No PACS node yet: add one under Nodes'));
      select.disabled = true;
      return;
    }
    select.disabled = false;
    select.replaceChildren(...store.nodes.map((node) => el('option', { value: node.name }, `${node.name} (${node.type === 'dimse' ? 'DIMSE' : 'DICOMweb'})`)));
    select.value = store.selected ?? '';
  }
  select.addEventListener('change', () => store.select(select.value || null));
  store.onChange(render);
  render();
  return select;
}
