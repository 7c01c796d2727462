// The viewing area: the stack view (1×1) or the volume panes (1×2, 1×3, 2×2), the
// controls that choose between them and their tools (automatic window, cine), the
// measurements panel, the load progress and the keyboard. The stack view shows every
// series; a series that cannot form a volume stays there, with the reason on screen.
import { Enums, metaData } from '@cornerstonejs/core';
import type { SeriesDetail, SeriesSummary } from '../../../electron/common/dicom-model.ts';
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import type { VolumeViewState } from '../test-hook-types.ts';
import { el } from '../ui/dom.ts';
import { layouts, type LayoutId, type PaneId } from './layouts.ts';
import { createCineControls } from './cine.ts';
import { createMeasurementsPanel } from './measurements-panel.ts';
import { primaryTools, stackPrimaryToolIds, type PrimaryToolId } from './mpr-tool-groups.ts';

const measurementToolIds: readonly PrimaryToolId[] = ['length', 'angle', 'ellipse', 'rectangle', 'probe'];
import { createViewDecorations } from './view-decorations.ts';
import { loadPlan } from './load-plan.ts';
import { nextSlabMode, parseSlabThickness, SLAB_HOTKEY, slabModes, type SlabMode } from './slab.ts';
import { createHelpPanel, isTypingTarget } from './shortcuts.ts';
import { volumeEligibility } from './volume-eligibility.ts';
import type { VolumeViewer } from './volume-viewer.ts';
import { ctWindowPresets, volumePresets, type VolumePresetId } from './window-presets.ts';

export type ViewerWorkspace = {
  /** Goes above the views, beside the window presets. */
  controls: HTMLElement;
  /** Goes into the viewer area, after the stack view's frame. */
  element: HTMLElement;
  show(series: SeriesSummary, detail: SeriesDetail): Promise<void>;
  setLayout(layout: LayoutId): Promise<void>;
  setWindowLevel(windowCenter: number, windowWidth: number): void;
  resetView(): void;
};

export function createViewerWorkspace(options: {
  stack: StackViewer;
  stackFrame: HTMLElement;
  volume: VolumeViewer;
  onError(message: string): void;
  /** After every layout change (the app gives the planes the room of the panels that act on the 1×1 view). */
  onLayoutChange?(layout: LayoutId): void;
}): ViewerWorkspace {
  const { stack, stackFrame, volume, onError } = options;
  let layout: LayoutId = '1x1';
  let volumeReason: string | null = null;
  let shownSeries: SeriesSummary | null = null;
  let stackTool: PrimaryToolId = 'window-level';

  const layoutButtons = layouts.map((entry) => {
    const button = el('button', { type: 'button', class: 'button button-small', 'data-testid': `layout-${entry.id}`, title: `${entry.title} (${entry.hotkey})` }, entry.label);
    button.addEventListener('click', () => void setLayout(entry.id));
    return button;
  });
  const toolButtons = primaryTools.map((tool) => {
    const button = el('button', { type: 'button', class: 'button button-small', 'data-testid': `tool-${tool.id}`, title: `${tool.label} (${tool.hotkey.toUpperCase()})` }, tool.label);
    button.addEventListener('click', () => choosePrimaryTool(tool.id));
    return button;
  });
  const autoButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'window-auto', title: 'Automatic window from the image values, 1st to 99th percentile (0)' }, 'Auto W/L');
  autoButton.addEventListener('click', () => applyAutoWindow());
  const cine = createCineControls(cineTarget, onError);
  // The panel lists the measurements of the view in front: the stack's in 1×1, the planes' otherwise.
  const measurementsPanel = createMeasurementsPanel(
    {
      measurements: () => (layout === '1x1' ? stack.measurements() : volume.measurements()),
      removeMeasurement: (annotationUID) => (layout === '1x1' ? stack.removeMeasurement(annotationUID) : volume.removeMeasurement(annotationUID)),
    },
    { onRendered: () => render(volume.state) },
  );
  // Orientation markers and the scale bar of the stack view; the volume panes draw their own.
  const stackDecorations = createViewDecorations('viewport');
  (stackFrame.querySelector<HTMLElement>('.viewport-overlay') ?? stackFrame).append(...stackDecorations.nodes);
  stack.element.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
    const imageId = stack.state.seriesKey ? stack.state.imageId : null;
    if (!imageId) return stackDecorations.update(null);
    // Secondary captures and some ultrasound carry no orientation or spacing; Cornerstone's
    // providers then fill in defaults (and flag them, each in its own way).
    const plane = metaData.get('imagePlaneModule', imageId) as { rowCosines?: unknown; isDefaultValueSetForRowCosine?: boolean; usingDefaultValues?: boolean } | undefined;
    const calibrated = metaData.get('calibratedPixelSpacing', imageId) as { rowPixelSpacing?: number } | undefined;
    stackDecorations.update(stack.cornerstoneViewport, {
      orientation: Array.isArray(plane?.rowCosines) && plane?.isDefaultValueSetForRowCosine !== true,
      pixelSpacing: (calibrated?.rowPixelSpacing ?? 0) > 0 || plane?.usingDefaultValues === false,
    });
  });
  const transformButtons = (
    [
      ['invert', 'Invert', 'I'],
      ['flip-horizontal', 'Flip H', 'H'],
      ['flip-vertical', 'Flip V', 'V'],
      ['rotate', 'Rotate', 'R'],
    ] as const
  ).map(([id, label, key]) => {
    const button = el('button', { type: 'button', class: 'button button-small', 'data-testid': `transform-${id}`, title: `${label} (${key})` }, label);
    button.addEventListener('click', () => transform(id));
    return button;
  });
  const volumePresetButtons = volumePresets.map((preset) => {
    const button = el('button', { type: 'button', class: 'button button-small', 'data-testid': `vr-preset-${preset.id}`, title: `3D: ${preset.label}` }, preset.label);
    button.addEventListener('click', () => volume.setVolumePreset(preset.id as VolumePresetId));
    return button;
  });
  // Thick slab in the planes: the mode and the thickness in mm (slab.ts).
  const slabMode = el(
    'select',
    { class: 'button button-small', 'data-testid': 'slab-mode', title: `Thick slab in the planes (${SLAB_HOTKEY.toUpperCase()} cycles)`, 'aria-label': 'Slab mode' },
    ...slabModes.map((entry) => el('option', { value: entry.id, title: entry.title }, entry.label)),
  );
  const slabThickness = el('input', {
    type: 'number', class: 'slab-thickness', min: '0', step: '0.5', value: String(volume.state.slabThickness),
    'data-testid': 'slab-thickness', title: 'Slab thickness in mm (0: the plain slice)', 'aria-label': 'Slab thickness in mm',
  });
  slabMode.addEventListener('change', () => setSlab(slabMode.value as SlabMode));
  slabThickness.addEventListener('change', () => setSlab(volume.state.slabMode));
  const slabGroup = el('div', { class: 'toolbar-group', 'aria-label': 'Slab' }, slabMode, slabThickness, el('span', { class: 'toolbar-hint' }, 'mm'));
  const help = createHelpPanel();
  const helpButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'help-button', title: 'Keyboard shortcuts (?)' }, '?');
  helpButton.addEventListener('click', () => help.toggle());

  const toolsGroup = el('div', { class: 'toolbar-group', 'aria-label': 'Tools' }, ...toolButtons);
  const volumeGroup = el('div', { class: 'toolbar-group', 'aria-label': '3D presets' }, ...volumePresetButtons);
  const controls = el(
    'div',
    { class: 'viewer-controls' },
    el('div', { class: 'toolbar-group', 'aria-label': 'Layouts' }, ...layoutButtons),
    toolsGroup,
    el('div', { class: 'toolbar-group', 'aria-label': 'Orientation' }, ...transformButtons),
    el('div', { class: 'toolbar-group', 'aria-label': 'Window' }, autoButton),
    cine.element,
    slabGroup,
    volumeGroup,
    helpButton,
  );

  const progressBar = el('progress', { max: 1, value: 0 });
  const progressText = el('span', {});
  const progress = el('div', { class: 'volume-progress', 'data-testid': 'volume-progress', hidden: true }, progressBar, progressText);
  const message = el('div', { class: 'volume-message', 'data-testid': 'volume-message', hidden: true });
  const element = el('div', { class: 'viewer-workspace' }, volume.element, measurementsPanel.element, progress, message, help.element);

  volume.onChange((state) => render(state));

  function render(state: VolumeViewState): void {
    for (const [i, entry] of layouts.entries()) layoutButtons[i]?.classList.toggle('is-active', entry.id === layout);
    const volumeShown = layout !== '1x1';
    for (const [i, tool] of primaryTools.entries()) {
      const button = toolButtons[i];
      if (!button) continue;
      button.classList.toggle('is-active', tool.id === (volumeShown ? state.primaryTool : stackTool));
      // The crosshairs link planes: the stack view has none.
      button.hidden = !volumeShown && !stackPrimaryToolIds.includes(tool.id);
    }
    for (const [i, preset] of volumePresets.entries()) volumePresetButtons[i]?.classList.toggle('is-active', preset.id === state.volumePreset);
    // In 1×1 the panel takes room from the image only while measuring or with measurements to
    // show; it appears when the tool is chosen, not mid-drag, so the image does not move under the pointer.
    measurementsPanel.element.hidden = !volumeShown && !measurementToolIds.includes(stackTool) && measurementsPanel.count() === 0;
    volumeGroup.hidden = layout !== '2x2';
    slabGroup.hidden = !volumeShown;
    slabMode.value = state.slabMode;
    if (document.activeElement !== slabThickness) slabThickness.value = String(state.slabThickness);
    const loading = volumeShown && state.volumeId !== null && !state.loaded && state.totalFrames > 0;
    progress.hidden = !loading;
    progressBar.max = Math.max(1, state.totalFrames);
    progressBar.value = state.framesLoaded;
    progressText.textContent = `Loading volume: ${state.framesLoaded} / ${state.totalFrames} slices`;
    if (state.error && volumeShown) showMessage(`The volume could not be loaded: ${state.error}`);
  }

  function showMessage(text: string | null): void {
    message.hidden = text === null;
    message.textContent = text ?? '';
  }

  async function show(series: SeriesSummary, detail: SeriesDetail): Promise<void> {
    cine.stop();
    shownSeries = series;
    const eligibility = volumeEligibility(series);
    volumeReason = eligibility.ok ? null : eligibility.reason;
    showMessage(null);
    if (eligibility.ok) {
      // The volume streams behind the stack's first image (which the stack requests ahead of
      // everything else), nearest the stack's slice first; 'volume-first' keeps Cornerstone's
      // default order (load-plan.ts).
      const focusSlice = loadPlan() === 'volume-first' ? null : undefined;
      void volume.showSeries(detail, { focusSlice }).catch((error: unknown) => onError(`Could not build a volume: ${error instanceof Error ? error.message : String(error)}`));
    } else {
      volume.clear();
      if (layout !== '1x1') {
        await setLayout('1x1');
        showMessage(`This series cannot be shown as a volume (${volumeReason}): it is shown slice by slice.`);
      }
    }
    await stack.showSeries(detail);
  }

  async function setLayout(next: LayoutId): Promise<void> {
    if (next !== '1x1' && volumeReason !== null && shownSeries) {
      showMessage(`This series cannot be shown as a volume (${volumeReason}): it is shown slice by slice.`);
      next = '1x1';
    } else {
      showMessage(null);
    }
    cine.stop();
    layout = next;
    stackFrame.hidden = next !== '1x1';
    options.onLayoutChange?.(next);
    await volume.setLayout(next);
    render(volume.state);
    measurementsPanel.refresh();
  }

  function setWindowLevel(windowCenter: number, windowWidth: number): void {
    if (layout === '1x1') stack.setWindowLevel(windowCenter, windowWidth);
    else volume.setWindowLevel(windowCenter, windowWidth);
  }

  function choosePrimaryTool(tool: PrimaryToolId): void {
    if (layout !== '1x1') {
      volume.setPrimaryTool(tool);
    } else if (stackPrimaryToolIds.includes(tool)) {
      stackTool = tool;
      stack.setPrimaryTool(tool);
      render(volume.state);
    }
  }

  /** The slab `mode` at the thickness in the field; a thickness that cannot be used is reported and changes nothing. */
  function setSlab(mode: SlabMode): void {
    const thickness = parseSlabThickness(slabThickness.value);
    if (!thickness.ok) {
      onError(`Slab thickness: ${thickness.reason}.`);
      slabThickness.value = String(volume.state.slabThickness);
      slabMode.value = volume.state.slabMode;
      return;
    }
    volume.setSlab(mode, thickness.mm);
  }

  function applyAutoWindow(): void {
    const range = layout === '1x1' ? stack.applyAutoWindow() : volume.applyAutoWindow();
    if (!range) onError('There is no image to compute an automatic window from.');
  }

  /** Cine plays the stack view, or the plane under the mouse (the axial one from the 3D pane). */
  function cineTarget(): HTMLDivElement | null {
    if (layout === '1x1') return stack.state.seriesKey ? stack.element : null;
    return volume.planeElement(hoveredPane === 'volume3d' ? 'axial' : hoveredPane);
  }

  function resetView(): void {
    if (layout === '1x1') stack.resetView();
    else volume.reset();
  }

  function transform(change: 'invert' | 'flip-horizontal' | 'flip-vertical' | 'rotate'): void {
    if (layout === '1x1') stack.transform(change);
    else volume.transformPlanes(change);
  }

  let hoveredPane: PaneId = 'axial';
  volume.element.addEventListener('pointerover', (event) => {
    const cell = (event.target as HTMLElement).closest<HTMLElement>('.volume-pane');
    const pane = cell?.dataset['pane'] as PaneId | undefined;
    if (pane) hoveredPane = pane;
  });

  document.addEventListener('keydown', (event) => {
    if (isTypingTarget(event.target) || event.ctrlKey || event.metaKey) return;
    const layoutDigit = event.altKey && /^Digit([1-4])$/.exec(event.code);
    if (layoutDigit) {
      const entry = layouts[Number(layoutDigit[1]) - 1];
      if (entry) void setLayout(entry.id);
      event.preventDefault();
      return;
    }
    if (event.altKey) return;
    if (layout !== '1x1') {
      const page = Math.max(1, Math.round((volume.state.totalFrames || 10) / 10));
      const steps: Record<string, number> = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -page, PageDown: page };
      const step = steps[event.key];
      if (step !== undefined) {
        volume.scrollPane(hoveredPane === 'volume3d' ? 'axial' : hoveredPane, step);
        event.preventDefault();
        return;
      }
    }
    const preset = ctWindowPresets.find((entry) => entry.hotkey === event.key);
    const tool = primaryTools.find((entry) => entry.hotkey === event.key.toLowerCase());
    if (preset && stack.state.modality === 'CT') setWindowLevel(preset.windowCenter, preset.windowWidth);
    else if (tool && (layout !== '1x1' || stackPrimaryToolIds.includes(tool.id))) choosePrimaryTool(tool.id as PrimaryToolId);
    else if (event.key === '0') applyAutoWindow();
    else if (event.key.toLowerCase() === SLAB_HOTKEY && layout !== '1x1') setSlab(nextSlabMode(volume.state.slabMode));
    else if (event.key === 'k' || event.key === 'K') cine.toggle();
    else if (event.key === '[') cine.changeFps(-1);
    else if (event.key === ']') cine.changeFps(1);
    else if (event.key === 'i' || event.key === 'I') transform('invert');
    else if (event.key === 'h' || event.key === 'H') transform('flip-horizontal');
    else if (event.key === 'v' || event.key === 'V') transform('flip-vertical');
    else if (event.key === 'r' || event.key === 'R') transform('rotate');
    else if (event.key === ' ') resetView();
    else if (event.key === '?') help.toggle();
    else return;
    event.preventDefault();
  });

  render(volume.state);
  return { controls, element, show, setLayout, setWindowLevel, resetView };
}
