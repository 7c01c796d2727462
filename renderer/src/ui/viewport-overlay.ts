// The text in the corners of the viewport: who, what, which slice, which window.
import type { ViewerState } from '../cornerstone/stack-viewer.ts';
import { el, formatPersonName } from './dom.ts';

export function createViewportOverlay(): { element: HTMLDivElement; render(state: ViewerState): void } {
  const patient = el('div', { class: 'overlay-line overlay-strong', 'data-testid': 'overlay-patient' });
  const series = el('div', { class: 'overlay-line', 'data-testid': 'overlay-series' });
  const modality = el('div', { class: 'overlay-line overlay-muted', 'data-testid': 'overlay-modality' });
  const slice = el('div', { class: 'overlay-line', 'data-testid': 'overlay-slice' });
  const windowLevel = el('div', { class: 'overlay-line', 'data-testid': 'overlay-wl' });
  const message = el('div', { class: 'overlay-message', 'data-testid': 'overlay-message' });

  const element = el(
    'div',
    { class: 'viewport-overlay' },
    el('div', { class: 'overlay-corner overlay-top-left' }, patient),
    el('div', { class: 'overlay-corner overlay-top-right' }, series, modality),
    el('div', { class: 'overlay-corner overlay-bottom-left' }, slice),
    el('div', { class: 'overlay-corner overlay-bottom-right' }, windowLevel),
    message,
  );

  function render(state: ViewerState): void {
    const shown = state.seriesKey !== null;
    patient.textContent = shown ? formatPersonName(state.patientName) : '';
    series.textContent = shown ? state.seriesDescription || '(no description)' : '';
    modality.textContent = shown ? state.modality : '';
    slice.textContent = shown && state.imageCount > 0 ? `Im ${state.imageIndex + 1} / ${state.imageCount}` : '';
    windowLevel.textContent =
      shown && state.windowCenter !== null && state.windowWidth !== null
        ? `W ${formatWindowValue(state.windowWidth)} L ${formatWindowValue(state.windowCenter)}`
        : '';
    if (state.error) {
      message.textContent = `Cannot show this image: ${state.error}`;
      message.dataset['kind'] = 'error';
    } else if (shown && state.renderedImageId === null) {
      message.textContent = 'Loading…';
      message.dataset['kind'] = 'loading';
    } else if (!shown) {
      message.textContent = 'Choose a series in the study browser';
      message.dataset['kind'] = 'empty';
    } else {
      message.textContent = '';
      delete message.dataset['kind'];
    }
  }

  return { element, render };
}

/** Whole numbers stay whole; fractional windows (PET SUV, MR after scaling) keep two decimals. */
export function formatWindowValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) >= 100 ? 0 : 2);
}
