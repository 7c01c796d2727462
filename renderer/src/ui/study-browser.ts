// The left panel's list: one row per study (with its patient) and its series, searched,
// filtered and sorted by study-filter.ts. Image series open in the viewport; other objects
// (SEG, SR, RT…) are listed so the user knows they arrived, but cannot be opened as a stack.
import type { GeometryWarningCode, PatientSummary, SeriesSummary, StudySummary } from '../../../electron/common/dicom-model.ts';
import type { SeriesThumbnails } from '../cornerstone/series-thumbnails.ts';
import { el, formatDicomDate, formatPersonName } from './dom.ts';
import { seriesLinkTexts, type SeriesLinkText } from './series-links.ts';
import { allModalities, dicomDateOf, filterStudies, studyRows, type StudyQuery, type StudyRow, type StudySort } from './study-filter.ts';

const warningLabels: Record<GeometryWarningCode, string> = {
  'missing-slices': 'gap',
  'uneven-spacing': 'uneven spacing',
  'duplicate-position': 'duplicate position',
  'mixed-orientation': 'split: orientation',
  'mixed-size': 'split: size',
  'no-position': 'no position',
  oblique: 'oblique',
};

export type StudyBrowser = {
  element: HTMLElement;
  render(patients: readonly PatientSummary[]): void;
  setSelected(seriesKey: string | null): void;
  /** A message about the study database (it was rebuilt), shown above the list until dismissed. */
  showNotice(message: string): void;
};

/** Study rows created per step as the list scrolls: 2,000 studies never become 2,000 DOM subtrees at once. */
const ROWS_PER_STEP = 60;

export function createStudyBrowser(options: {
  thumbnails: SeriesThumbnails;
  onOpenSeries(series: SeriesSummary): void;
  /** Removes the study from the index only. */
  onForget?(study: StudySummary): void;
  /** Deletes the app's own copies (retrieved files, exported SEGs) and forgets the study. */
  onDelete?(study: StudySummary): void;
  /** Re-scans the imported folders, the store and the segmentations (new, changed, missing files). */
  onRescan?(): Promise<void>;
}): StudyBrowser {
  const count = el('span', { class: 'panel-count', 'data-testid': 'series-count' });
  const studyCount = el('span', { class: 'study-count', 'data-testid': 'study-count' });
  const list = el('div', { class: 'study-browser-list', 'data-testid': 'study-browser' });
  const notice = el('div', { class: 'study-notice', 'data-testid': 'study-db-notice', hidden: true });
  const search = el('input', { type: 'search', class: 'study-search', placeholder: 'Search name, ID, accession, description', 'aria-label': 'Search studies', 'data-testid': 'study-search' });
  const from = el('input', { type: 'date', 'aria-label': 'Studies from', 'data-testid': 'study-from' });
  const to = el('input', { type: 'date', 'aria-label': 'Studies until', 'data-testid': 'study-to' });
  const modality = el('select', { 'aria-label': 'Modality', 'data-testid': 'study-modality' }, el('option', { value: '' }, 'All modalities'));
  const sort = el(
    'select',
    { 'aria-label': 'Sort studies', 'data-testid': 'study-sort' },
    el('option', { value: 'date-desc' }, 'Newest first'),
    el('option', { value: 'date-asc' }, 'Oldest first'),
    el('option', { value: 'patient' }, 'Patient name'),
    el('option', { value: 'description' }, 'Description'),
  );
  const controls = el('div', { class: 'study-controls' }, search, el('div', { class: 'study-filters' }, from, to, modality, sort), studyCount);
  const rescan = el('button', { type: 'button', class: 'study-action', 'data-testid': 'study-rescan', title: 'Look again in the imported folders for new, changed and deleted files' }, 'Re-scan');
  rescan.hidden = !options.onRescan;
  rescan.addEventListener('click', () => {
    rescan.disabled = true;
    void options.onRescan?.().finally(() => (rescan.disabled = false));
  });
  const element = el('section', { class: 'panel study-browser' }, el('h2', { class: 'panel-title' }, 'Studies ', count, rescan), notice, controls, list);
  let selected: string | null = null;
  let rows: StudyRow[] = [];
  let shown: StudyRow[] = [];
  let rendered = 0;
  const sentinel = el('div', { class: 'study-sentinel', 'aria-hidden': 'true' });
  const more = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) appendRows();
  }, { root: list, rootMargin: '400px' });

  function query(): StudyQuery {
    return { text: search.value, from: dicomDateOf(from.value), to: dicomDateOf(to.value), modality: modality.value, sort: sort.value as StudySort };
  }

  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyQuery, 120);
  });
  for (const control of [from, to, modality, sort]) control.addEventListener('change', applyQuery);

  function render(patients: readonly PatientSummary[]): void {
    const seriesTotal = patients.reduce((sum, p) => sum + p.studies.reduce((s, study) => s + study.series.length, 0), 0);
    count.textContent = seriesTotal > 0 ? `${seriesTotal} series` : '';
    rows = studyRows(patients);
    const current = modality.value;
    modality.replaceChildren(el('option', { value: '' }, 'All modalities'), ...allModalities(rows).map((m) => el('option', { value: m }, m)));
    modality.value = allModalities(rows).includes(current) ? current : '';
    applyQuery();
  }

  function applyQuery(): void {
    shown = filterStudies(rows, query());
    studyCount.textContent = rows.length === 0 ? '' : shown.length === rows.length ? `${rows.length} stud${rows.length === 1 ? 'y' : 'ies'}` : `${shown.length} of ${rows.length} studies`;
    more.unobserve(sentinel);
    rendered = 0;
    if (rows.length === 0) {
      list.replaceChildren(el('p', { class: 'empty-note' }, 'No studies yet. Open the sample or import DICOM files or folders.'));
      return;
    }
    if (shown.length === 0) {
      list.replaceChildren(el('p', { class: 'empty-note' }, 'No study matches the search and filters.'));
      return;
    }
    list.replaceChildren();
    appendRows();
  }

  function appendRows(): void {
    const next = shown.slice(rendered, rendered + ROWS_PER_STEP);
    rendered += next.length;
    sentinel.remove();
    list.append(...next.map(renderStudy));
    if (rendered < shown.length) {
      list.append(sentinel);
      more.observe(sentinel);
    }
    setSelected(selected);
  }

  function renderStudy(row: StudyRow): HTMLElement {
    const { patient, study } = row;
    const details = [patient.patientId && `ID ${patient.patientId}`, patient.sex, patient.birthDate && formatDicomDate(patient.birthDate)].filter(Boolean);
    const when = [formatDicomDate(study.studyDate), study.accessionNumber && `Acc ${study.accessionNumber}`, row.modalities.join('/')].filter(Boolean).join(' · ');
    const actions = el('div', { class: 'study-actions' });
    const links = seriesLinkTexts(study.series);
    if (options.onForget) {
      const forget = el('button', { type: 'button', class: 'study-action', 'data-action': 'forget', title: 'Remove from the list; the files stay where they are' }, 'Forget');
      forget.addEventListener('click', () => {
        if (confirm(`Forget "${study.description || 'this study'}" of ${formatPersonName(patient.patientName)}? The files stay on disk; importing them again brings it back.`)) options.onForget!(study);
      });
      actions.append(forget);
    }
    if (options.onDelete) {
      const remove = el('button', { type: 'button', class: 'study-action study-action-danger', 'data-action': 'delete', title: 'Delete the copies this app stored (retrieved files, exported segmentations)' }, 'Delete');
      remove.addEventListener('click', () => {
        if (confirm(`Delete the copies of "${study.description || 'this study'}" that this app stored (retrieved from PACS, exported segmentations)? Files you imported from your own folders are only forgotten, never deleted.`)) options.onDelete!(study);
      });
      actions.append(remove);
    }
    return el(
      'div',
      { class: 'study', 'data-study-uid': study.studyInstanceUid, 'data-patient-key': patient.patientKey },
      el(
        'div',
        { class: 'patient-header' },
        el('span', { class: 'patient-name' }, formatPersonName(patient.patientName)),
        el('span', { class: 'patient-details' }, details.join(' · ')),
      ),
      el(
        'div',
        { class: 'study-header' },
        el('span', { class: 'study-description' }, study.description || 'Study without description'),
        el('span', { class: 'study-date' }, when),
        actions,
      ),
      el('ul', { class: 'series-list' }, ...study.series.map((series) => el('li', {}, renderSeries(series, links.get(series.seriesKey))))),
    );
  }

  function renderSeries(series: SeriesSummary, links: SeriesLinkText | undefined): HTMLElement {
    const openable = series.kind === 'image' && series.sliceCount > 0;
    const warnings = series.geometry?.warnings ?? [];
    const text = el(
      'div',
      { class: 'series-text' },
      el(
        'div',
        { class: 'series-line' },
        el('span', { class: 'badge badge-modality' }, series.modality || '?'),
        series.seriesNumber !== null && el('span', { class: 'series-number' }, `#${series.seriesNumber}`),
        !openable && el('span', { class: 'badge badge-kind' }, series.kind === 'image' ? 'empty' : series.kind),
      ),
      el('div', { class: 'series-description' }, series.description || '(no description)'),
      el(
        'div',
        { class: 'series-meta' },
        series.kind === 'image' ? `${series.sliceCount} slice${series.sliceCount === 1 ? '' : 's'}` : `${series.instanceCount} object${series.instanceCount === 1 ? '' : 's'}`,
        series.geometry && series.geometry.rows > 0 && ` · ${series.geometry.columns}×${series.geometry.rows}`,
      ),
      links &&
        (links.chain || links.source || links.replacedBy) &&
        el(
          'div',
          { class: 'series-links', 'data-testid': 'series-links' },
          links.chain && el('span', { 'data-link': 'chain' }, links.chain),
          links.source && el('span', { 'data-link': 'source' }, links.source),
          links.replacedBy && el('span', { 'data-link': 'replaced-by' }, links.replacedBy),
        ),
      warnings.length > 0 &&
        el(
          'div',
          { class: 'series-warnings' },
          ...warnings.map((w) => el('span', { class: 'badge badge-warning', title: w.message, 'data-warning': w.code }, warningLabels[w.code])),
        ),
    );
    const attributes = {
      class: `series-item${openable ? '' : ' series-item-disabled'}`,
      'data-series-key': series.seriesKey,
      'data-kind': series.kind,
      title: openable ? `Open ${series.description || series.modality}` : `${series.kind} object: listed, not viewable as images`,
    };
    if (!openable) {
      return el('div', { ...attributes, 'aria-disabled': 'true' }, el('div', { class: 'series-thumbnail series-thumbnail-none' }, series.kind), text);
    }
    const button = el('button', { ...attributes, type: 'button' }, options.thumbnails.canvasFor(series), text);
    button.addEventListener('click', () => options.onOpenSeries(series));
    return button;
  }

  function setSelected(seriesKey: string | null): void {
    selected = seriesKey;
    for (const item of list.querySelectorAll<HTMLElement>('.series-item')) {
      item.classList.toggle('selected', item.dataset['seriesKey'] === seriesKey);
      if (item.dataset['seriesKey'] === seriesKey) item.setAttribute('aria-current', 'true');
      else item.removeAttribute('aria-current');
    }
  }

  function showNotice(message: string): void {
    const dismiss = el('button', { type: 'button', class: 'study-action' }, 'Dismiss');
    dismiss.addEventListener('click', () => (notice.hidden = true));
    notice.replaceChildren(el('span', {}, message), dismiss);
    notice.hidden = false;
  }

  return { element, render, setSelected, showNotice };
}
