// The effect buttons and their options: mouse tools (paint, erase, scissors) and the
// effects applied to the active segment at once (threshold, islands, smoothing,
// margin, fill between slices, logical operations). Those run in the effects worker
// with a progress bar and Cancel; each application is one undoable step of the model.
import { clear, el } from '../ui/dom.ts';
import { BRUSH_RADIUS_MM, nextBrushRadius } from './brush-keys.ts';
import type { EditorContext } from './editor-context.ts';
import { messageOf } from './error-text.ts';
import type { EffectRunReport, EffectTestState } from '../test-hook-types.ts';
import type { Target } from './effect-grid.ts';
import { jobNeedsIntensities, type EffectJob } from './effect-job.ts';
import { EffectCancelledError } from './effects-worker-client.ts';
import type { PlaneEditingSettings } from './plane-editing.ts';
import { scissors, thresholdSliceMask, type BrushShape, type LogicalOperation } from './segment-effects.ts';
import type { Dimensionality, SmoothingMethod } from './segment-morphology.ts';
import { StaleResultError, type SegmentationModel } from './segmentation-model.ts';

type EffectName = 'threshold' | 'islands' | 'smoothing' | 'margin' | 'fill-between' | 'logical';

const EFFECTS: Array<[EffectName, string]> = [
  ['threshold', 'Threshold'],
  ['islands', 'Islands'],
  ['smoothing', 'Smoothing'],
  ['margin', 'Margin'],
  ['fill-between', 'Fill between slices'],
  ['logical', 'Logical operators'],
];

export type EffectsView = {
  element: HTMLElement;
  render(): void;
  applyScissors(polygon: Array<{ column: number; row: number }>, slice: number): void;
  effectState(): EffectTestState;
  /** What the planes' brush, threshold paint and scissors use: the same settings as here. */
  planeSettings(): PlaneEditingSettings;
  /** One brush key press (brush-keys.ts): the radius a step smaller or larger; returns the new radius in mm. */
  stepBrushRadius(direction: -1 | 1): number;
};

export function createEffectsView(context: EditorContext): EffectsView {
  const settings = {
    radiusMm: 5,
    shape: '2d' as BrushShape,
    scissorsRegion: 'inside' as 'inside' | 'outside',
    scissorsOperation: 'erase' as 'erase' | 'fill',
    scissorsExtent: 'slice' as 'slice' | 'volume',
  };

  const toolButton = (kind: 'paint' | 'erase' | 'scissors', text: string) => {
    const button = el('button', { class: 'button button-small seg-tool', type: 'button', 'data-testid': `segment-tool-${kind}`, 'aria-pressed': 'false' }, text);
    button.addEventListener('click', () => {
      const current = context.tool();
      const on = current.kind === 'brush' ? current.mode === kind : current.kind === kind;
      if (on) context.setTool({ kind: 'none' });
      else if (kind === 'scissors') context.setTool({ kind: 'scissors' });
      else context.setTool({ kind: 'brush', mode: kind, radiusMm: settings.radiusMm, shape: settings.shape });
    });
    return button;
  };
  const paint = toolButton('paint', 'Paint');
  const erase = toolButton('erase', 'Erase');
  const cut = toolButton('scissors', 'Scissors');

  const radius = el('input', { type: 'range', min: BRUSH_RADIUS_MM.min, max: BRUSH_RADIUS_MM.max, step: BRUSH_RADIUS_MM.sliderStep, value: settings.radiusMm, 'data-testid': 'segment-brush-radius', 'aria-label': 'Brush radius (mm)' });
  const radiusText = el('span', { class: 'seg-value', 'data-testid': 'segment-brush-radius-value' }, `${settings.radiusMm} mm`);
  const shape = select('segment-brush-shape', [['2d', '2D circle'], ['3d', '3D sphere']], settings.shape);
  const updateBrush = () => {
    settings.radiusMm = Number(radius.value);
    settings.shape = shape.value as BrushShape;
    radiusText.textContent = `${settings.radiusMm} mm`;
    const current = context.tool();
    if (current.kind === 'brush') context.setTool({ ...current, radiusMm: settings.radiusMm, shape: settings.shape });
  };
  radius.addEventListener('input', updateBrush);
  shape.addEventListener('change', updateBrush);
  const brushOptions = el('div', { class: 'seg-options', 'data-testid': 'segment-brush-options' }, el('label', {}, 'Size ', radius, radiusText), el('label', {}, 'Shape ', shape));

  const scissorsRegion = select('segment-scissors-region', [['inside', 'Inside'], ['outside', 'Outside']], settings.scissorsRegion);
  const scissorsOperation = select('segment-scissors-operation', [['erase', 'Erase'], ['fill', 'Fill']], settings.scissorsOperation);
  const scissorsExtent = select('segment-scissors-extent', [['slice', 'This slice'], ['volume', 'All slices']], settings.scissorsExtent);
  for (const input of [scissorsRegion, scissorsOperation, scissorsExtent]) {
    input.addEventListener('change', () => {
      settings.scissorsRegion = scissorsRegion.value as 'inside' | 'outside';
      settings.scissorsOperation = scissorsOperation.value as 'erase' | 'fill';
      settings.scissorsExtent = scissorsExtent.value as 'slice' | 'volume';
    });
  }
  const scissorsOptions = el('div', { class: 'seg-options', 'data-testid': 'segment-scissors-options' }, scissorsOperation, scissorsRegion, scissorsExtent, el('span', { class: 'seg-hint' }, 'Draw the outline with the left button.'));

  // Effects applied at once.
  const effect = select('segment-effect', EFFECTS, 'threshold');
  const low = number('segment-threshold-low', 100);
  const high = number('segment-threshold-high', 3000);
  const previewToggle = el('input', { type: 'checkbox', 'data-testid': 'segment-threshold-preview' });
  const islandsMode = select('segment-islands-mode', [['keep-largest', 'Keep largest island'], ['remove-small', 'Remove small islands']], 'keep-largest');
  const islandsMin = number('segment-islands-min', 100);
  const smoothingMethod = select('segment-smoothing-method', [['median', 'Median'], ['opening', 'Opening (remove extrusions)'], ['closing', 'Closing (fill holes)']], 'median');
  const smoothingKernel = number('segment-smoothing-kernel', 3);
  const smoothingDims = select('segment-smoothing-dims', [['2d', 'Each slice (2D)'], ['3d', 'Volume (3D)']], '3d');
  const marginMm = number('segment-margin-mm', 2);
  const marginDims = select('segment-margin-dims', [['3d', 'Volume (3D)'], ['2d', 'Each slice (2D)']], '3d');
  const logicalOp = select('segment-logical-op', [['union', 'Add (union)'], ['subtract', 'Subtract'], ['intersect', 'Intersect']], 'union');
  const logicalOther = el('select', { class: 'text-input', 'data-testid': 'segment-logical-other', 'aria-label': 'Other segment' });
  const apply = el('button', { class: 'button button-primary button-small', type: 'button', 'data-testid': 'segment-effect-apply' }, 'Apply');
  const cancel = el('button', { class: 'button button-small', type: 'button', 'data-testid': 'segment-effect-cancel', hidden: true }, 'Cancel');
  const progress = el('progress', { max: 1, value: 0, 'data-testid': 'segment-effect-progress', hidden: true });
  const progressText = el('span', { class: 'seg-hint', 'data-testid': 'segment-effect-progress-text' });
  /** The effect running in the worker, and how the last one ended (the test hook reports both). */
  let running: { label: string; progress: number | null; progressEvents: number } | null = null;
  let lastEffect: EffectRunReport | null = null;
  const effectOptions = el('div', { class: 'seg-options', 'data-testid': 'segment-effect-options' });

  const optionsFor: Record<EffectName, () => Array<Node | string>> = {
    threshold: () => [el('label', {}, 'From ', low), el('label', {}, 'to ', high), el('label', {}, previewToggle, ' Preview')],
    islands: () => [islandsMode, el('label', {}, 'Smaller than ', islandsMin, ' voxels')],
    smoothing: () => [smoothingMethod, el('label', {}, 'Kernel ', smoothingKernel, ' mm'), smoothingDims],
    margin: () => [el('label', {}, 'Grow by ', marginMm, ' mm (negative shrinks)'), marginDims],
    'fill-between': () => [el('span', { class: 'seg-hint' }, 'Paint the segment on a few slices, then fill the slices between them.')],
    logical: () => [
      logicalOp,
      el('label', {}, 'with ', logicalOther),
      // One labelmap holds one segment a voxel: segments never overlap.
      el('span', { class: 'seg-hint' }, 'Segments never overlap here: add moves the other segment’s voxels into this one; subtract and intersect act only where they would overlap.'),
    ],
  };

  /** The slice whose threshold preview is on screen, or null. */
  let previewShown: number | null = null;
  const showOptions = () => {
    clear(effectOptions);
    effectOptions.append(...optionsFor[effect.value as EffectName]());
    islandsMin.parentElement?.toggleAttribute('hidden', islandsMode.value !== 'remove-small');
    void updatePreview();
  };
  effect.addEventListener('change', showOptions);
  islandsMode.addEventListener('change', showOptions);
  for (const input of [low, high, previewToggle]) input.addEventListener('input', () => void updatePreview());
  context.viewer.onChange(() => {
    if (previewShown !== null && previewShown !== context.viewer.state.imageIndex) void updatePreview();
  });

  async function updatePreview(): Promise<void> {
    const model = context.model();
    if (!model || effect.value !== 'threshold' || !previewToggle.checked) {
      previewShown = null;
      context.overlay.setPreviewMask(null);
      return;
    }
    const range = { low: Number(low.value), high: Number(high.value) };
    if (!(range.low <= range.high)) return;
    try {
      const values = await context.intensities();
      const slice = context.viewer.state.imageIndex;
      previewShown = slice;
      context.overlay.setPreviewMask({ slice, mask: thresholdSliceMask(model, values, slice, range) });
      context.report('Threshold preview: the light cyan voxels would join the segment.');
    } catch (error) {
      context.report(`Threshold preview failed: ${messageOf(error)}`, 'error');
    }
  }

  apply.addEventListener('click', () => void applyEffect());
  cancel.addEventListener('click', () => context.effects.cancel());

  /** The job the options describe, with its undo label. */
  function jobFromOptions(name: EffectName, model: SegmentationModel, target: Target): { job: EffectJob; label: string } {
    if (name === 'threshold') {
      const range = { low: Number(low.value), high: Number(high.value) };
      if (!(range.low <= range.high)) throw new Error(`the range ${low.value}…${high.value} is empty`);
      return { job: { kind: 'threshold', range }, label: `Threshold ${range.low}…${range.high}` };
    }
    if (name === 'islands') {
      const options = islandsMode.value === 'keep-largest' ? ({ mode: 'keep-largest' } as const) : ({ mode: 'remove-small', minVoxels: Math.max(1, Math.round(Number(islandsMin.value))) } as const);
      return { job: { kind: 'islands', options }, label: islandsMode.value === 'keep-largest' ? 'Keep largest island' : 'Remove small islands' };
    }
    if (name === 'smoothing') {
      const method = smoothingMethod.value as SmoothingMethod;
      return { job: { kind: 'smoothing', method, kernelMm: Number(smoothingKernel.value), dimensionality: smoothingDims.value as Dimensionality }, label: `Smoothing (${method})` };
    }
    if (name === 'margin') {
      return { job: { kind: 'margin', marginMm: Number(marginMm.value), dimensionality: marginDims.value as Dimensionality }, label: `Margin ${marginMm.value} mm` };
    }
    if (name === 'fill-between') return { job: { kind: 'fill-between' }, label: 'Fill between slices' };
    const other = Number(logicalOther.value);
    if (!model.segment(other) || other === target.segment) throw new Error('choose another segment to combine with');
    return { job: { kind: 'logical', operation: logicalOp.value as LogicalOperation, other }, label: `${logicalOp.value} ${model.segment(other)!.label}` };
  }

  /**
   * Runs the effect in the worker on a copy of the labelmap, then applies the changed
   * slices as one undoable step, in one copy, unless the document changed meanwhile.
   */
  async function applyEffect(): Promise<void> {
    const model = context.model();
    if (!model) return context.report('Open a series first.', 'error');
    const target = context.target(model);
    if (!target) return;
    const name = effect.value as EffectName;
    const title = EFFECTS.find(([key]) => key === name)?.[1] ?? name;
    let progressEvents = 0;
    try {
      const { job, label } = jobFromOptions(name, model, target);
      running = { label, progress: 0, progressEvents: 0 };
      showRunning();
      const values = jobNeedsIntensities(job) ? { key: model.seriesKey, values: await context.intensities() } : null;
      const outcome = await context.track(
        context.effects.runEffect(job, { labelmap: model.labelmap, revision: model.changeRevision, grid: model }, { segment: target.segment, locked: [...target.locked] }, values, (fraction) => {
          progressEvents++;
          if (running) running = { ...running, progress: fraction, progressEvents };
          showRunning();
        }),
      );
      const applyStart = performance.now();
      const changed = outcome.change ? model.applySlices(label, outcome.change, outcome.revision) : 0;
      const applyMs = performance.now() - applyStart;
      lastEffect = { label, outcome: changed === 0 ? 'unchanged' : 'applied', progressEvents, workerMs: outcome.workerMs, copyMs: outcome.copyMs, applyMs };
      if (name === 'threshold') {
        previewToggle.checked = false;
        void updatePreview();
      }
      context.report(changed === 0 ? `${title}: nothing changed.` : `${title}: ${changed.toLocaleString('en')} voxels changed.`);
    } catch (error) {
      const cancelled = error instanceof EffectCancelledError;
      lastEffect = { label: running?.label ?? title, outcome: cancelled ? 'cancelled' : error instanceof StaleResultError ? 'stale' : 'failed', progressEvents, workerMs: null, copyMs: null, applyMs: null };
      if (cancelled) context.report(`${title} cancelled: the segmentation is as it was.`);
      else context.report(`${title} failed: ${messageOf(error)}`, 'error');
    } finally {
      running = null;
      showRunning();
    }
  }

  function showRunning(): void {
    apply.hidden = running !== null;
    cancel.hidden = running === null;
    progress.hidden = running === null;
    progress.value = running?.progress ?? 0;
    progressText.textContent = running ? `${running.label}: ${Math.round((running.progress ?? 0) * 100)} %` : '';
  }

  function applyScissors(polygon: Array<{ column: number; row: number }>, slice: number): void {
    const model = context.model();
    if (!model) return;
    const target = context.target(model);
    if (!target) return;
    const extent = settings.scissorsExtent === 'volume' ? ('volume' as const) : { slice };
    const changed = model.edit(
      'Scissors',
      (labelmap) => scissors(labelmap, model, { polygon, region: settings.scissorsRegion, operation: settings.scissorsOperation, extent }, target),
      extent === 'volume' ? {} : { firstSlice: slice, lastSlice: slice },
    );
    context.report(`Scissors: ${changed.toLocaleString('en')} voxels changed.`);
  }

  showOptions();
  const element = el(
    'section',
    { class: 'seg-section seg-effects', 'data-testid': 'segment-effects' },
    el('div', { class: 'seg-subtitle' }, 'Effects'),
    el('div', { class: 'button-row' }, paint, erase, cut),
    brushOptions,
    scissorsOptions,
    el('div', { class: 'button-row' }, effect, apply, cancel),
    el('div', { class: 'seg-progress' }, progress, progressText),
    effectOptions,
  );

  return {
    element,
    applyScissors,
    stepBrushRadius: (direction) => {
      radius.value = String(nextBrushRadius(settings.radiusMm, direction));
      updateBrush();
      // The planes' brushes take the radius at the next refresh, so their cursor shows it at once.
      context.refresh();
      return settings.radiusMm;
    },
    planeSettings: () => ({
      radiusMm: settings.radiusMm,
      shape: settings.shape,
      threshold: { low: Number(low.value), high: Number(high.value) },
      scissors: settings.scissorsOperation,
    }),
    effectState: () => ({ running: running ? { ...running } : null, last: lastEffect ? { ...lastEffect } : null }),
    render() {
      const model = context.model();
      const tool = context.tool();
      for (const [button, on] of [
        [paint, tool.kind === 'brush' && tool.mode === 'paint'],
        [erase, tool.kind === 'brush' && tool.mode === 'erase'],
        [cut, tool.kind === 'scissors'],
      ] as const) {
        button.setAttribute('aria-pressed', String(on));
        button.classList.toggle('seg-tool-on', on);
        button.disabled = !model;
      }
      brushOptions.hidden = tool.kind !== 'brush';
      scissorsOptions.hidden = tool.kind !== 'scissors';
      apply.disabled = !model || model.activeSegment === null || running !== null;
      const chosen = logicalOther.value;
      clear(logicalOther);
      for (const segment of model?.segments ?? []) {
        if (segment.number === model?.activeSegment) continue;
        logicalOther.append(el('option', { value: segment.number, selected: String(segment.number) === chosen }, segment.label));
      }
    },
  };
}

function select(testId: string, choices: ReadonlyArray<readonly [string, string]>, value: string): HTMLSelectElement {
  const element = el('select', { class: 'text-input', 'data-testid': testId });
  for (const [key, text] of choices) element.append(el('option', { value: key, selected: key === value }, text));
  return element;
}

function number(testId: string, value: number): HTMLInputElement {
  return el('input', { class: 'text-input seg-number', type: 'number', value, step: 'any', 'data-testid': testId });
}
