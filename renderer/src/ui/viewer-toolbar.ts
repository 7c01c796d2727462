// Above the viewport: window/level presets and a reset. Presets are in Hounsfield
// units, so they are offered for CT only; they act on whatever view is shown.
import type { ViewerState } from '../cornerstone/stack-viewer.ts';
import { ctWindowPresets } from '../viewer/window-presets.ts';
import { el } from './dom.ts';

export { ctWindowPresets };

export type WindowTarget = { setWindowLevel(windowCenter: number, windowWidth: number): void; resetView(): void };

export function createViewerToolbar(target: WindowTarget): { element: HTMLElement; render(state: ViewerState): void } {
  const presetButtons = ctWindowPresets.map((preset) => {
    const button = el(
      'button',
      { type: 'button', class: 'button button-small', 'data-testid': `preset-${preset.id}`, title: `W ${preset.windowWidth} L ${preset.windowCenter} (key ${preset.hotkey})` },
      preset.label,
    );
    button.addEventListener('click', () => target.setWindowLevel(preset.windowCenter, preset.windowWidth));
    return button;
  });
  const presets = el('div', { class: 'toolbar-group', 'aria-label': 'Window presets' }, ...presetButtons);
  const reset = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'reset-view', title: 'Reset window/level, zoom and pan (Space)' }, 'Reset');
  reset.addEventListener('click', () => target.resetView());
  const element = el('div', { class: 'viewer-toolbar' }, presets, reset);

  function render(state: ViewerState): void {
    const shown = state.seriesKey !== null;
    presets.hidden = !shown || state.modality !== 'CT';
    reset.disabled = !shown;
  }

  return { element, render };
}
