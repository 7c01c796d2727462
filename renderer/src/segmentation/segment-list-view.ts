// The segment list (select, rename, recolour, show/hide, lock, delete), the coded
// anatomy pick list that adds or recodes segments, and the selected segment's
// provenance.
import type { PromptSchema } from '../../../electron/common/contract-seg.ts';
import { searchTerms, type TermEntry } from '../../../electron/host/seg/codes.ts';
import { clear, el } from '../ui/dom.ts';
import type { EditorContext } from './editor-context.ts';
import type { EditorSegment } from './segmentation-model.ts';

const SOURCE_TEXT: Record<EditorSegment['provenance']['source'], string> = {
  manual: 'Manual',
  ai: 'AI',
  'ai-edited': 'AI, then edited',
  interactive: 'Interactive',
};

export function createSegmentListView(context: EditorContext): { element: HTMLElement; render(): void } {
  const rows = el('ul', { class: 'seg-list', 'data-testid': 'segment-list' });
  const search = el('input', { class: 'text-input', type: 'search', placeholder: 'Add segment: search organs, findings…', 'data-testid': 'segment-term-search', 'aria-label': 'Search coded terms' });
  const results = el('ul', { class: 'seg-terms', 'data-testid': 'segment-term-results' });
  const provenance = el('div', { class: 'seg-provenance', 'data-testid': 'segment-provenance' });
  let renaming: number | null = null;

  search.addEventListener('input', () => renderTerms());
  search.addEventListener('focus', () => renderTerms());

  function addSegment(term: TermEntry): void {
    const model = context.model();
    if (!model) return context.report('Open a series first.', 'error');
    model.addSegment({
      label: term.type.meaning.slice(0, 64),
      category: { ...term.category },
      type: { ...term.type },
      ...(term.anatomicRegion ? { anatomicRegion: { ...term.anatomicRegion } } : {}),
      provenance: { source: 'manual' },
    });
    search.value = '';
    clear(results);
  }

  function recode(term: TermEntry): void {
    const model = context.model();
    const active = model?.activeSegment ?? null;
    if (!model || active === null) return context.report('Select a segment to recode.', 'error');
    // A region belongs to the old code: the new one brings its own or none.
    model.updateSegment(active, { category: { ...term.category }, type: { ...term.type }, anatomicRegion: term.anatomicRegion ? { ...term.anatomicRegion } : undefined });
    clear(results);
  }

  function renderTerms(): void {
    clear(results);
    if (document.activeElement !== search && search.value === '') return;
    const hasActive = context.model()?.activeSegment !== null && context.model() !== null;
    for (const term of searchTerms(search.value, 8)) {
      const add = el('button', { class: 'seg-term', type: 'button', 'data-testid': `segment-term-${term.id}`, title: `${term.category.meaning} › ${term.type.meaning} (${term.type.scheme} ${term.type.value})` }, term.type.meaning, el('span', { class: 'seg-term-code' }, `${term.type.scheme} ${term.type.value}`));
      add.addEventListener('mousedown', (event) => event.preventDefault());
      add.addEventListener('click', () => addSegment(term));
      const set = el('button', { class: 'button button-small', type: 'button', 'data-testid': `segment-term-set-${term.id}`, title: 'Give the selected segment this code', disabled: !hasActive }, 'Set');
      set.addEventListener('mousedown', (event) => event.preventDefault());
      set.addEventListener('click', () => recode(term));
      results.append(el('li', {}, add, set));
    }
  }

  function renderRow(segment: EditorSegment, active: boolean): HTMLElement {
    const model = context.model()!;
    const n = segment.number;
    const colour = el('input', { type: 'color', class: 'seg-colour', value: toHex(segment.color), 'data-testid': `segment-color-${n}`, 'aria-label': `Colour of ${segment.label}` });
    colour.addEventListener('change', () => model.updateSegment(n, { color: fromHex(colour.value) }));
    let name: HTMLElement;
    if (renaming === n) {
      const input = el('input', { class: 'text-input seg-rename-input', value: segment.label, maxlength: 64, 'data-testid': `segment-rename-input-${n}` });
      const commit = () => {
        renaming = null;
        const label = input.value.trim();
        if (label && label !== segment.label) model.updateSegment(n, { label });
        else context.refresh();
      };
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') commit();
        if (event.key === 'Escape') {
          renaming = null;
          context.refresh();
        }
      });
      input.addEventListener('blur', commit);
      queueMicrotask(() => input.focus());
      name = input;
    } else {
      name = el('button', { class: 'seg-name', type: 'button', 'data-testid': `segment-select-${n}`, title: `${segment.type.meaning} (${segment.type.scheme} ${segment.type.value})` }, segment.label);
      name.addEventListener('click', () => model.setActiveSegment(n));
      name.addEventListener('dblclick', () => {
        renaming = n;
        context.refresh();
      });
    }
    const button = (testId: string, text: string, title: string, action: () => void, pressed?: boolean) => {
      const b = el('button', { class: 'button button-small seg-icon', type: 'button', 'data-testid': `${testId}-${n}`, title, 'aria-pressed': pressed === undefined ? undefined : String(pressed) }, text);
      b.addEventListener('click', action);
      return b;
    };
    return el(
      'li',
      { class: `seg-row${active ? ' seg-row-active' : ''}${segment.visible ? '' : ' seg-row-hidden'}`, 'data-testid': `segment-row-${n}`, 'data-segment': n },
      colour,
      name,
      button('segment-rename', 'Rename', 'Rename', () => {
        renaming = n;
        context.refresh();
      }),
      button('segment-visible', segment.visible ? 'Hide' : 'Show', segment.visible ? 'Hide this segment' : 'Show this segment', () => model.updateSegment(n, { visible: !segment.visible }), !segment.visible),
      button('segment-lock', segment.locked ? 'Unlock' : 'Lock', segment.locked ? 'Allow edits' : 'Protect from edits', () => model.updateSegment(n, { locked: !segment.locked }), segment.locked),
      button('segment-delete', '✕', 'Delete this segment and its voxels (undoable)', () => model.removeSegment(n)),
    );
  }

  function renderProvenance(segment: EditorSegment | undefined): void {
    clear(provenance);
    if (!segment) return;
    const p = segment.provenance;
    const line = (label: string, value: string | Node, testId?: string) => el('div', { class: 'seg-prov-line', 'data-testid': testId }, el('span', { class: 'seg-prov-label' }, label), value);
    provenance.append(
      line('Source', SOURCE_TEXT[p.source], 'segment-provenance-source'),
      line('Code', `${segment.category.meaning} › ${segment.type.meaning} (${segment.type.scheme} ${segment.type.value})`, 'segment-provenance-code'),
    );
    if (segment.anatomicRegion) provenance.append(line('Region', `${segment.anatomicRegion.meaning} (${segment.anatomicRegion.scheme} ${segment.anatomicRegion.value})`));
    if (p.question) provenance.append(line('Question', p.question, 'segment-provenance-question'));
    if (p.models?.length) provenance.append(line('Models', p.models.map((m) => `${m.name} ${m.version}${m.server ? ` (on ${m.server})` : ' (local)'}`).join(', '), 'segment-provenance-models'));
    if (p.prompts?.length) provenance.append(line('Prompts', p.prompts.map(describePrompt).join('; '), 'segment-provenance-prompts'));
    if (p.reasoning) {
      provenance.append(el('details', { class: 'seg-prov-reasoning', 'data-testid': 'segment-provenance-reasoning' }, el('summary', {}, 'Reasoning'), el('pre', {}, p.reasoning)));
    }
  }

  const element = el('section', { class: 'seg-section' }, el('div', { class: 'seg-add' }, search, results), rows, provenance);

  return {
    element,
    render() {
      const model = context.model();
      clear(rows);
      search.disabled = !model;
      if (!model) {
        renderProvenance(undefined);
        return;
      }
      if (model.segments.length === 0) rows.append(el('li', { class: 'empty-note' }, 'No segments yet: add one from the search above.'));
      for (const segment of model.segments) rows.append(renderRow(segment, segment.number === model.activeSegment));
      renderProvenance(model.activeSegment === null ? undefined : model.segment(model.activeSegment));
      if (results.childElementCount > 0) renderTerms();
    },
  };
}

function describePrompt(prompt: PromptSchema): string {
  if (prompt.kind === 'point') return `${prompt.label} point (${prompt.x.toFixed(0)}, ${prompt.y.toFixed(0)}) on slice ${prompt.sliceIndex + 1}`;
  return `box (${prompt.x0.toFixed(0)}, ${prompt.y0.toFixed(0)})–(${prompt.x1.toFixed(0)}, ${prompt.y1.toFixed(0)}) on slice ${prompt.sliceIndex + 1}`;
}

function toHex(color: readonly [number, number, number]): string {
  return `#${color.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function fromHex(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}
