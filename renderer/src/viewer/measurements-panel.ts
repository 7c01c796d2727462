// The measurements beside the views: every length, angle, ROI and probe with
// its values (length in mm, area in mm², mean and SD in the modality's unit), updated
// as the annotation is drawn, moved or recomputed, and removable one by one.
import { eventTarget } from '@cornerstonejs/core';
import { Enums as ToolEnums } from '@cornerstonejs/tools';
import type { MeasurementReport } from '../test-hook-types.ts';
import { el } from '../ui/dom.ts';

export type MeasurementSource = { measurements(): MeasurementReport[]; removeMeasurement(annotationUID: string): void };

const TOOL_LABELS: Record<string, string> = {
  Length: 'Length',
  Angle: 'Angle',
  EllipticalROI: 'Ellipse',
  RectangleROI: 'Rectangle',
  Probe: 'Probe',
};

/** Which statistics each tool shows, in order, with their labels and fallback units. */
const SHOWN_STATS: Array<{ key: string; label: string; unitKey?: string; unit?: string }> = [
  { key: 'length', label: 'Length', unitKey: 'unit', unit: 'mm' },
  { key: 'angle', label: 'Angle', unit: '°' },
  { key: 'area', label: 'Area', unitKey: 'areaUnit', unit: 'mm²' },
  { key: 'mean', label: 'Mean', unitKey: 'modalityUnit' },
  { key: 'stdDev', label: 'SD', unitKey: 'modalityUnit' },
  { key: 'min', label: 'Min', unitKey: 'modalityUnit' },
  { key: 'max', label: 'Max', unitKey: 'modalityUnit' },
  { key: 'value', label: 'Value', unitKey: 'modalityUnit' },
];

export function formatStat(value: number): string {
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(1);
}

export function createMeasurementsPanel(
  source: MeasurementSource,
  options: { onRendered?(count: number): void } = {},
): { element: HTMLElement; refresh(): void; count(): number } {
  const list = el('ol', { class: 'measurements-list', 'data-testid': 'measurements-list' });
  const empty = el('p', { class: 'measurements-empty' }, 'No measurements. Choose Length, Angle, Ellipse, Rectangle or Probe and draw on the image.');
  const element = el('aside', { class: 'measurements-panel', 'data-testid': 'measurements-panel', 'aria-label': 'Measurements' }, el('h2', {}, 'Measurements'), empty, list);

  let scheduled = false;
  let shown = 0;
  function refresh(): void {
    if (scheduled) return;
    scheduled = true;
    // Statistics arrive in bursts while a handle is dragged: one redraw per frame.
    requestAnimationFrame(() => {
      scheduled = false;
      render();
      options.onRendered?.(shown);
    });
  }

  function render(): void {
    const reports = source.measurements();
    shown = reports.length;
    empty.hidden = reports.length > 0;
    list.replaceChildren(...reports.map((report, index) => row(report, index)));
  }

  function row(report: MeasurementReport, index: number): HTMLElement {
    const values = SHOWN_STATS.filter((stat) => typeof report.stats[stat.key] === 'number' && Number.isFinite(report.stats[stat.key])).map((stat) => {
      const value = report.stats[stat.key] as number;
      const unit = (stat.unitKey ? report.units[stat.unitKey] : undefined) ?? stat.unit ?? '';
      return el(
        'div',
        { class: 'measurement-stat' },
        el('dt', {}, stat.label),
        el('dd', { 'data-testid': `measurement-${stat.key}`, 'data-value': String(value) }, `${formatStat(value)}${unit ? ` ${displayUnit(unit)}` : ''}`),
      );
    });
    const remove = el('button', { type: 'button', class: 'button button-small measurement-remove', 'data-testid': 'measurement-remove', title: 'Delete this measurement' }, '×');
    remove.addEventListener('click', () => {
      source.removeMeasurement(report.annotationUID);
      refresh();
    });
    return el(
      'li',
      { class: 'measurement-row', 'data-testid': 'measurement-row', 'data-tool': report.toolName, 'data-annotation-uid': report.annotationUID },
      el('div', { class: 'measurement-title' }, `${index + 1}. ${TOOL_LABELS[report.toolName] ?? report.toolName}`, remove),
      values.length > 0 ? el('dl', {}, ...values) : el('p', { class: 'measurements-empty' }, 'Computing…'),
    );
  }

  for (const event of [
    ToolEnums.Events.ANNOTATION_ADDED,
    ToolEnums.Events.ANNOTATION_COMPLETED,
    ToolEnums.Events.ANNOTATION_MODIFIED,
    ToolEnums.Events.ANNOTATION_REMOVED,
  ]) {
    eventTarget.addEventListener(event, refresh);
  }
  render();
  return { element, refresh, count: () => shown };
}

/** Cornerstone writes areas as "mm\u00b2" already; some versions spell it "mm2". */
function displayUnit(unit: string): string {
  return unit === 'mm2' ? 'mm²' : unit;
}
