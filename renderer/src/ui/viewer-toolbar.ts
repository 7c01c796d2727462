// Above the viewport: window/level presets and a reset. Presets are in Hounsfield
// units, so they are offered for CT only.
import type { StackViewer, ViewerState } from '../cornerstone/stack-viewer.ts';
import { el } from './dom.ts';

export const ctWindowPresets = [
  { id: 'soft-tissue', label: 'Soft tissue', windowCenter: 40, windowWidth: 400 },
  { id: 'lung', label: 'Lung', windowCenter: -600, windowWidth: 1500 },
  { id: 'bone', label: 'Bone', windowCenter: 400, windowWidth: 1800 },
  { id: 'brain', label: 'Brain', windowCenter: 40, windowWidth: 80 },
] as const;

export function createViewerToolbar(viewer: StackViewer): { element: HTMLElement; render(state: ViewerState): void } {
  const presetButtons = ctWindowPresets.map((preset) => {
    const button = el(
      'button',
      { type: 'button', class: 'button button-small', 'data-testid': `preset-${preset.id}`, title: `W ${preset.windowWidth} L ${preset.windowCenter}` },
      preset.label,
    );
    button.addEventListener('click', () => viewer.setWindowLevel(preset.windowCenter, preset.windowWidth));
    return button;
  });
  const presets = el('div', { class: 'toolbar-group', 'aria-label': 'Window presets' }, ...presetButtons);
  const reset = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'reset-view', title: 'Reset window/level, zoom and pan' }, 'Reset');
  reset.addEventListener('click', () => viewer.resetView());
  const hint = el('span', { class: 'toolbar-hint' }, 'Left drag W/L · Middle or Shift+drag pan · Right drag zoom · Wheel or ↑↓ PgUp PgDn scroll');
  const element = el('div', { class: 'viewer-toolbar' }, presets, reset, hint);

  function render(state: ViewerState): void {
    const shown = state.seriesKey !== null;
    presets.hidden = !shown || state.modality !== 'CT';
    reset.disabled = !shown;
  }

  return { element, render };
}
