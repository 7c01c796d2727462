// Query and retrieve: a study-level search of the chosen node, studies that expand into
// their series (a second query naming the study), and one retrieve at a time with its
// progress and a cancel button. What arrives is imported by the host, which tells the
// study browser (dicom.studiesChanged); "View" opens it in the viewport.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { FindQuery, RetrieveProgress, RetrieveResult, SeriesResult, StudyResult } from '../../../electron/common/contract-pacs.ts';
import { el, formatDicomDate, formatPersonName } from '../ui/dom.ts';
import { createNodeSelect } from './node-select.ts';
import type { NodeStore } from './node-store.ts';
import { describeSkippedInstance } from '../../../electron/common/skipped-instance-text.ts';
import { describeError, describeFailure, dicomDateRange, newJobId, plural } from './pacs-text.ts';

const phaseLabels: Record<RetrieveProgress['phase'], string> = {
  connecting: 'Connecting',
  receiving: 'Receiving',
  importing: 'Importing',
  done: 'Finishing',
};

export function createQueryView(options: { host: HostApi; store: NodeStore; onViewSeries(seriesKeys: string[]): void }): HTMLElement {
  const { host, store } = options;
  const input = (testId: string, placeholder: string, attributes: Record<string, string> = {}) =>
    el('input', { type: 'text', class: 'text-input', placeholder, spellcheck: 'false', autocomplete: 'off', 'data-testid': testId, ...attributes });
  const field = (label: string, control: HTMLElement) => el('label', { class: 'pacs-field' }, el('span', {}, label), control);

  const nodeSelect = createNodeSelect(store, 'pacs-query-node');
  const patientName = input('pacs-query-patient-name', 'Doe^J*');
  const patientId = input('pacs-query-patient-id', 'ID');
  const dateFrom = el('input', { type: 'date', class: 'text-input', 'data-testid': 'pacs-query-date-from' });
  const dateTo = el('input', { type: 'date', class: 'text-input', 'data-testid': 'pacs-query-date-to' });
  const modality = input('pacs-query-modality', 'CT, MR…');
  const accession = input('pacs-query-accession', 'Accession');
  const search = el('button', { type: 'submit', class: 'button button-primary button-small', 'data-testid': 'pacs-query-search' }, 'Search');
  const message = el('div', { class: 'pacs-message', 'data-testid': 'pacs-query-message' });
  const results = el('ul', { class: 'pacs-results', 'data-testid': 'pacs-results' });

  const progressLabel = el('span', { class: 'progress-label', 'data-testid': 'pacs-retrieve-label' });
  const progressBar = el('progress', { class: 'progress-bar', max: 1, 'data-testid': 'pacs-retrieve-bar' });
  const cancel = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-retrieve-cancel' }, 'Cancel');
  const progress = el('div', { class: 'import-progress', hidden: true, 'data-testid': 'pacs-retrieve-progress' }, el('div', { class: 'progress-row' }, progressLabel, cancel), progressBar);
  const retrieveSummary = el('div', { class: 'pacs-message', 'data-testid': 'pacs-retrieve-summary' });

  const form = el(
    'form',
    { class: 'pacs-query-form' },
    field('Node', nodeSelect),
    el('div', { class: 'pacs-form-pair' }, field('Patient name', patientName), field('Patient ID', patientId)),
    el('div', { class: 'pacs-form-pair' }, field('Study date from', dateFrom), field('to', dateTo)),
    el('div', { class: 'pacs-form-pair' }, field('Modality', modality), field('Accession', accession)),
    el('div', { class: 'button-row' }, search),
  );

  let runningJob: string | null = null;
  host.on('pacs.retrieveProgress', (event) => {
    if (event.jobId !== runningJob) return;
    const missing = [event.failed > 0 && `${event.failed} failed`, event.skipped > 0 && `${event.skipped} skipped`].filter(Boolean);
    progressLabel.textContent = `${phaseLabels[event.phase]}: ${event.received}${event.total !== null ? ` of ${event.total}` : ''} instances${missing.map((text) => `, ${text}`).join('')}`;
    if (event.total && event.total > 0) {
      progressBar.max = event.total;
      progressBar.value = Math.min(event.received + event.failed + event.skipped, event.total);
    } else {
      progressBar.removeAttribute('value');
    }
  });
  cancel.addEventListener('click', () => {
    if (!runningJob) return;
    cancel.disabled = true;
    host.call('pacs.cancelRetrieve', { jobId: runningJob }).catch((error: unknown) => (retrieveSummary.textContent = describeError(error)));
  });

  function readQuery(): FindQuery {
    const text = (value: string) => value.trim() || undefined;
    const query: FindQuery = {};
    const values = {
      patientName: text(patientName.value),
      patientId: text(patientId.value),
      studyDate: dicomDateRange(dateFrom.value, dateTo.value),
      modality: text(modality.value.toUpperCase()),
      accessionNumber: text(accession.value),
    };
    for (const [key, value] of Object.entries(values)) if (value !== undefined) (query as Record<string, string>)[key] = value;
    return query;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const node = store.selected;
    if (!node) {
      showMessage(message, 'error', 'Choose a PACS node first (add one under Nodes).');
      return;
    }
    search.disabled = true;
    showMessage(message, 'pending', `Searching ${node}…`);
    results.replaceChildren();
    try {
      const answer = await host.call('pacs.find', { node: { name: node }, query: readQuery() });
      if (!answer.ok) {
        showMessage(message, 'error', `Search failed: ${describeFailure(answer.failure)}`);
        return;
      }
      showMessage(message, 'ok', `${plural(answer.studies.length, 'study', 'studies')} found${answer.truncated ? ' (more matched: narrow the query)' : ''}.`);
      results.replaceChildren(...answer.studies.map((study) => renderStudy(node, study)));
    } catch (error) {
      showMessage(message, 'error', `Search failed: ${describeError(error)}`);
    } finally {
      search.disabled = false;
    }
  });

  function renderStudy(node: string, study: StudyResult): HTMLElement {
    const seriesList = el('ul', { class: 'pacs-series-list', hidden: true });
    const expand = el('button', { type: 'button', class: 'button button-small', 'aria-expanded': 'false', 'data-testid': 'pacs-study-expand' }, 'Series ▸');
    const retrieve = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-study-retrieve' }, 'Retrieve study');
    retrieve.addEventListener('click', () => void runRetrieve(node, study.studyInstanceUid, undefined, study.studyDescription || 'study'));
    expand.addEventListener('click', async () => {
      const open = seriesList.hidden;
      seriesList.hidden = !open;
      expand.setAttribute('aria-expanded', String(open));
      expand.textContent = open ? 'Series ▾' : 'Series ▸';
      if (!open) return;
      // Re-queried on every expand: the PACS may have received more since the search.
      seriesList.replaceChildren(el('li', { class: 'empty-note' }, 'Loading series…'));
      try {
        const answer = await host.call('pacs.find', { node: { name: node }, query: { studyInstanceUid: study.studyInstanceUid } });
        if (!answer.ok) {
          seriesList.replaceChildren(el('li', { class: 'pacs-error' }, `Series query failed: ${describeFailure(answer.failure)}`));
          return;
        }
        seriesList.replaceChildren(
          ...(answer.series.length > 0 ? answer.series.map((series) => renderSeries(node, series)) : [el('li', { class: 'empty-note' }, 'The PACS lists no series for this study.')]),
        );
      } catch (error) {
        seriesList.replaceChildren(el('li', { class: 'pacs-error' }, `Series query failed: ${describeError(error)}`));
      }
    });
    const counts = [study.seriesCount !== null && plural(study.seriesCount, 'series', 'series'), study.instanceCount !== null && plural(study.instanceCount, 'instance')].filter(Boolean).join(', ');
    return el(
      'li',
      { class: 'pacs-study', 'data-study-uid': study.studyInstanceUid },
      el(
        'div',
        { class: 'pacs-study-line' },
        el('span', { class: 'patient-name' }, formatPersonName(study.patientName)),
        el('span', { class: 'patient-details' }, [study.patientId && `ID ${study.patientId}`, formatDicomDate(study.studyDate)].filter(Boolean).join(' · ')),
      ),
      el('div', { class: 'study-description' }, study.studyDescription || 'Study without description'),
      el(
        'div',
        { class: 'series-meta' },
        [study.modalities.join('/'), study.accessionNumber && `Acc ${study.accessionNumber}`, counts].filter(Boolean).join(' · '),
      ),
      el('div', { class: 'button-row' }, expand, retrieve),
      seriesList,
    );
  }

  function renderSeries(node: string, series: SeriesResult): HTMLElement {
    const retrieve = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'pacs-series-retrieve' }, 'Retrieve');
    retrieve.addEventListener('click', () => void runRetrieve(node, series.studyInstanceUid, series.seriesInstanceUid, series.seriesDescription || `${series.modality} series`));
    return el(
      'li',
      { class: 'pacs-series', 'data-series-uid': series.seriesInstanceUid },
      el('span', { class: 'badge badge-modality' }, series.modality || '?'),
      el(
        'span',
        { class: 'pacs-series-text' },
        [series.seriesNumber !== null && `#${series.seriesNumber}`, series.seriesDescription || '(no description)', series.instanceCount !== null && plural(series.instanceCount, 'instance')].filter(Boolean).join(' · '),
      ),
      retrieve,
    );
  }

  async function runRetrieve(node: string, studyInstanceUid: string, seriesInstanceUid: string | undefined, what: string): Promise<void> {
    if (runningJob) {
      showMessage(retrieveSummary, 'error', 'A retrieve is already running: wait for it or cancel it.');
      return;
    }
    const jobId = newJobId('retrieve');
    runningJob = jobId;
    cancel.disabled = false;
    progress.hidden = false;
    progressLabel.textContent = `Retrieving ${what}…`;
    progressBar.removeAttribute('value');
    showMessage(retrieveSummary, 'pending', '');
    try {
      const result = await host.call('pacs.retrieve', { jobId, node: { name: node }, studyInstanceUid, ...(seriesInstanceUid ? { seriesInstanceUid } : {}) });
      showRetrieveResult(what, result);
    } catch (error) {
      showMessage(retrieveSummary, 'error', `Retrieve of ${what} failed: ${describeError(error)}`);
    } finally {
      runningJob = null;
      progress.hidden = true;
    }
  }

  function showRetrieveResult(what: string, result: RetrieveResult): void {
    const seconds = (result.elapsedMs / 1000).toFixed(1);
    const head = result.cancelled
      ? `Retrieve of ${what} cancelled after ${plural(result.received, 'instance')}.`
      : `Retrieved ${plural(result.received, 'instance')} of ${what} by ${result.method.toUpperCase()} in ${seconds} s${result.failed > 0 ? `; ${result.failed} failed at the PACS` : ''}${result.skipped.count > 0 ? `; ${plural(result.skipped.count, 'instance')} skipped` : ''}.`;
    const failure = result.failure ? ` ${describeFailure(result.failure)}` : '';
    const state = result.failure || result.failed > 0 || result.skipped.count > 0 ? 'error' : 'ok';
    showMessage(retrieveSummary, state, head + failure);
    const keys = result.import?.seriesKeys ?? [];
    if (keys.length > 0) {
      const view = el('button', { type: 'button', class: 'button button-small button-primary', 'data-testid': 'pacs-retrieve-view' }, 'View');
      view.addEventListener('click', () => options.onViewSeries(keys));
      retrieveSummary.append(' ', view);
    }
    if (result.skipped.count > 0) retrieveSummary.append(skippedList(result));
  }

  /** Why each skipped instance was refused: the first ones the host listed, then how many more. */
  function skippedList(result: RetrieveResult): HTMLElement {
    const unlisted = result.skipped.count - result.skipped.instances.length;
    return el(
      'ul',
      { class: 'pacs-skipped', 'data-testid': 'pacs-retrieve-skipped' },
      ...result.skipped.instances.map((entry) => el('li', { 'data-testid': 'pacs-retrieve-skipped-item' }, describeSkippedInstance(entry, result.method))),
      ...(unlisted > 0 ? [el('li', {}, `… and ${unlisted} more`)] : []),
    );
  }

  return el('div', { class: 'pacs-view', 'data-testid': 'pacs-query-view' }, form, message, progress, retrieveSummary, results);
}

function showMessage(element: HTMLElement, state: 'ok' | 'error' | 'pending', text: string): void {
  element.textContent = text;
  element.dataset['state'] = state;
}
