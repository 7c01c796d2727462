// The left panel's list: patients → studies → series. Image series open in the
// viewport; other objects (SEG, SR, RT…) are listed so the user knows they arrived,
// but cannot be opened as a stack.
import type { GeometryWarningCode, PatientSummary, SeriesSummary, StudySummary } from '../../../electron/common/dicom-model.ts';
import type { SeriesThumbnails } from '../cornerstone/series-thumbnails.ts';
import { el, formatDicomDate, formatPersonName } from './dom.ts';

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
};

export function createStudyBrowser(options: {
  thumbnails: SeriesThumbnails;
  onOpenSeries(series: SeriesSummary): void;
}): StudyBrowser {
  const count = el('span', { class: 'panel-count', 'data-testid': 'series-count' });
  const list = el('div', { class: 'study-browser-list', 'data-testid': 'study-browser' });
  const element = el('section', { class: 'panel study-browser' }, el('h2', { class: 'panel-title' }, 'Studies ', count), list);
  let selected: string | null = null;

  function render(patients: readonly PatientSummary[]): void {
    const seriesTotal = patients.reduce((sum, p) => sum + p.studies.reduce((s, study) => s + study.series.length, 0), 0);
    count.textContent = seriesTotal > 0 ? `${seriesTotal} series` : '';
    if (patients.length === 0) {
      list.replaceChildren(el('p', { class: 'empty-note' }, 'No studies yet. Open the sample or import DICOM files or folders.'));
      return;
    }
    list.replaceChildren(...patients.map(renderPatient));
    setSelected(selected);
  }

  function renderPatient(patient: PatientSummary): HTMLElement {
    const details = [patient.patientId && `ID ${patient.patientId}`, patient.sex, patient.birthDate && formatDicomDate(patient.birthDate)].filter(Boolean);
    return el(
      'div',
      { class: 'patient', 'data-patient-key': patient.patientKey },
      el(
        'div',
        { class: 'patient-header' },
        el('span', { class: 'patient-name' }, formatPersonName(patient.patientName)),
        el('span', { class: 'patient-details' }, details.join(' · ')),
      ),
      ...patient.studies.map(renderStudy),
    );
  }

  function renderStudy(study: StudySummary): HTMLElement {
    const when = [formatDicomDate(study.studyDate), study.accessionNumber && `Acc ${study.accessionNumber}`].filter(Boolean).join(' · ');
    return el(
      'div',
      { class: 'study', 'data-study-uid': study.studyInstanceUid },
      el(
        'div',
        { class: 'study-header' },
        el('span', { class: 'study-description' }, study.description || 'Study without description'),
        el('span', { class: 'study-date' }, when),
      ),
      el('ul', { class: 'series-list' }, ...study.series.map((series) => el('li', {}, renderSeries(series)))),
    );
  }

  function renderSeries(series: SeriesSummary): HTMLElement {
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

  return { element, render, setSelected };
}
