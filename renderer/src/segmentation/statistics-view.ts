// The statistics table: voxels and volume of every segment at every change, and the
// intensity statistics (HU on CT) once the image values have been read.
import { clear, el } from '../ui/dom.ts';
import type { EditorContext } from './editor-context.ts';
import { messageOf } from './error-text.ts';
import { segmentStatistics } from './segment-statistics.ts';

export function createStatisticsView(context: EditorContext): { element: HTMLElement; render(): void } {
  const body = el('tbody', {});
  const unit = el('span', {}, '');
  const table = el(
    'table',
    { class: 'seg-stats', 'data-testid': 'segment-statistics' },
    el('thead', {}, el('tr', {}, ...['Segment', 'Voxels', 'mL', 'Mean', 'SD', 'Min', 'Max'].map((h) => el('th', {}, h)))),
    body,
  );
  const compute = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-stats-intensities' }, 'Intensity statistics');
  /** The series the intensities were read for: they show from then on. */
  let valuesFor: string | null = null;
  let values: Float32Array | null = null;

  compute.addEventListener('click', () => {
    const model = context.model();
    if (!model) return;
    context
      .intensities()
      .then((loaded) => {
        values = loaded;
        valuesFor = model.seriesKey;
        context.report('Statistics include the image values.');
        render();
      })
      .catch((error: unknown) => context.report(`Could not read the image values: ${messageOf(error)}`, 'error'));
  });

  // A full pass over a large series takes a moment: count once the edits pause.
  let timer: ReturnType<typeof setTimeout> | null = null;
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      render();
    }, 150);
  }

  function render(): void {
    const model = context.model();
    clear(body);
    if (!model) return;
    const intensities = valuesFor === model.seriesKey ? values : null;
    unit.textContent = intensities ? (context.detail()?.series.modality === 'CT' ? ' (HU)' : ' (modality units)') : '';
    const stats = segmentStatistics(model.labelmap, model, model.segments.map((s) => s.number), intensities);
    const format = (value: number | null, digits = 1) => (value === null ? '–' : value.toFixed(digits));
    model.segments.forEach((segment, i) => {
      const s = stats[i]!;
      body.append(
        el(
          'tr',
          { 'data-testid': `segment-stats-${segment.number}`, 'data-voxels': s.voxels },
          el('td', {}, segment.label),
          el('td', {}, s.voxels.toLocaleString('en')),
          el('td', {}, s.volumeMl.toFixed(1)),
          el('td', {}, format(s.mean)),
          el('td', {}, format(s.sd)),
          el('td', {}, format(s.min, 0)),
          el('td', {}, format(s.max, 0)),
        ),
      );
    });
  }

  const element = el('section', { class: 'seg-section' }, el('div', { class: 'seg-subtitle' }, 'Statistics', unit, ' ', compute), el('div', { class: 'seg-stats-wrap' }, table));
  return { element, render: schedule };
}
