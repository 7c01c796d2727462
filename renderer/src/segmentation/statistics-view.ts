// The statistics table: voxels and volume of every segment at every change, and the
// intensity statistics (HU on CT) once the image values have been read. Counted in the
// effects worker: a pass over a 512×512×500 labelmap is too long for the page.
import { clear, el } from '../ui/dom.ts';
import type { EditorContext } from './editor-context.ts';
import { messageOf } from './error-text.ts';
import { EffectCancelledError } from './effects-worker-client.ts';
import type { SegmentStatistics } from './segment-statistics.ts';
import type { SegmentationModel } from './segmentation-model.ts';

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

  /** Counts run in the effects worker; only the newest request's answer is shown. */
  let request = 0;
  function render(): void {
    const model = context.model();
    const asked = ++request;
    if (!model) {
      clear(body);
      return;
    }
    const segments = model.segments.map((s) => s.number);
    // Nothing to count: copying a large series' empty labelmap to the worker would cost the
    // page a long task (a 512×512×500 series opens with one) for an empty table.
    if (segments.length === 0) {
      clear(body);
      return;
    }
    const intensities = valuesFor === model.seriesKey ? values : null;
    context.effects
      .statistics(model.labelmap, model, segments, intensities ? { key: model.seriesKey, values: intensities } : null)
      .then((stats) => {
        if (asked === request && context.model() === model) show(model, stats, intensities !== null);
      })
      .catch((error: unknown) => {
        // A cancelled effect takes the statistics queued behind it along: count again.
        if (error instanceof EffectCancelledError) schedule();
        else if (asked === request) context.report(`Statistics failed: ${messageOf(error)}`, 'error');
      });
  }

  function show(model: SegmentationModel, stats: SegmentStatistics[], withValues: boolean): void {
    clear(body);
    unit.textContent = withValues ? (context.detail()?.series.modality === 'CT' ? ' (HU)' : ' (modality units)') : '';
    const format = (value: number | null, digits = 1) => (value === null ? '–' : value.toFixed(digits));
    model.segments.forEach((segment, i) => {
      const s = stats[i];
      if (!s || s.segment !== segment.number) return;
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
