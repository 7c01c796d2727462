// Editing in the axial, sagittal and coronal panes. Cornerstone3D's BrushTool (fill,
// erase, threshold strategies) and CircleScissorsTool paint the labelmap images that
// every pane shows (cornerstone-labelmap.ts), so a stroke appears in all of them as it
// is drawn. When the button comes up, the stroke is copied into the editor's document
// as one SegmentationModel.edit — one entry in the one undo history that the stack
// view's strokes and the effects share — keeping only the changes the editor's own
// rules allow (erase clears only the active segment; nothing overwrites a locked one);
// anything else is put back in the images.
import { ToolGroupManager, utilities as toolUtilities } from '@cornerstonejs/tools';
import type { Target } from './effect-grid.ts';
import type { CornerstoneLabelmap } from './cornerstone-labelmap.ts';
import type { BrushShape, ThresholdRange } from './segment-effects.ts';
import type { SegmentationModel } from './segmentation-model.ts';

/** What the planes' segment tools do (the toolbar's seg-* tool ids). */
export type PlaneToolId = 'seg-paint' | 'seg-erase' | 'seg-threshold' | 'seg-scissors';

export type PlaneEditingSettings = {
  radiusMm: number;
  shape: BrushShape;
  threshold: ThresholdRange;
  scissors: 'erase' | 'fill';
};

export type PlaneEditingOptions = {
  labelmap: CornerstoneLabelmap;
  model(): SegmentationModel | null;
  /** The active segment as the target, or null (after the editor said why). */
  target(model: SegmentationModel): Target | null;
  settings(): PlaneEditingSettings;
  report(text: string, kind?: 'info' | 'error'): void;
};

const TOOL_NAMES: Record<PlaneToolId, string> = {
  'seg-paint': 'MrPlanePaint',
  'seg-erase': 'MrPlaneErase',
  'seg-threshold': 'MrPlaneThresholdPaint',
  'seg-scissors': 'CircleScissor',
};

const LABELS: Record<PlaneToolId, string> = { 'seg-paint': 'Paint', 'seg-erase': 'Erase', 'seg-threshold': 'Threshold paint', 'seg-scissors': 'Scissors' };

export function isPlaneTool(id: string): id is PlaneToolId {
  return id in TOOL_NAMES;
}

export class PlaneEditing {
  private readonly options: PlaneEditingOptions;
  private toolGroupId: string | null = null;
  private stroke: { tool: PlaneToolId; pane: string } | null = null;

  constructor(options: PlaneEditingOptions) {
    this.options = options;
  }

  /**
   * Watches the panes' element: a left-button press there with a segment tool chosen
   * starts a stroke, and the release anywhere ends it.
   */
  attach(element: HTMLElement, toolGroupId: string, primaryTool: () => string): void {
    this.toolGroupId = toolGroupId;
    this.configure();
    // Capture: seen before Cornerstone's tools act on the press.
    element.addEventListener(
      'mousedown',
      (event) => {
        const tool = primaryTool();
        if (event.button !== 0 || event.shiftKey || event.ctrlKey || !isPlaneTool(tool)) return;
        const pane = (event.target as HTMLElement).closest<HTMLElement>('.volume-pane')?.dataset['pane'] ?? 'plane';
        const model = this.options.model();
        if (!model || !this.options.target(model)) return;
        this.configure();
        this.stroke = { tool, pane };
      },
      true,
    );
    document.addEventListener('mouseup', () => {
      if (!this.stroke) return;
      const stroke = this.stroke;
      this.stroke = null;
      // Cornerstone ends its stroke in its own mouseup listener: read the images after it.
      setTimeout(() => this.commit(stroke.tool, stroke.pane), 0);
    });
  }

  /** Brush radius, threshold and scissors mode, from the editor's settings. */
  configure(): void {
    const groupId = this.toolGroupId;
    if (!groupId) return;
    const settings = this.options.settings();
    for (const tool of ['seg-paint', 'seg-erase', 'seg-threshold'] as const) {
      toolUtilities.segmentation.setBrushSizeForToolGroup(groupId, settings.radiusMm, TOOL_NAMES[tool]);
    }
    toolUtilities.segmentation.setBrushThresholdForToolGroup(groupId, { range: [settings.threshold.low, settings.threshold.high], isDynamic: false, dynamicRadius: 0 });
    setStrategy(groupId, 'MrPlanePaint', settings.shape === '3d' ? 'FILL_INSIDE_SPHERE' : 'FILL_INSIDE_CIRCLE');
    setStrategy(groupId, 'MrPlaneErase', settings.shape === '3d' ? 'ERASE_INSIDE_SPHERE' : 'ERASE_INSIDE_CIRCLE');
    setStrategy(groupId, 'MrPlaneThresholdPaint', settings.shape === '3d' ? 'THRESHOLD_INSIDE_SPHERE' : 'THRESHOLD_INSIDE_CIRCLE');
    setStrategy(groupId, 'CircleScissor', settings.scissors === 'erase' ? 'ERASE_INSIDE' : 'FILL_INSIDE');
  }

  /** Copies what the stroke changed in the labelmap images into the model, as one undoable edit. */
  commit(tool: PlaneToolId, pane: string): number {
    const model = this.options.model();
    const labelmap = this.options.labelmap;
    if (!model || labelmap.attachedModel !== model) return 0;
    const target = this.options.target(model);
    const erasing = tool === 'seg-erase' || (tool === 'seg-scissors' && this.options.settings().scissors === 'erase');
    let rejected = 0;
    const n = model.sliceLength;
    const changed = model.edit(`${LABELS[tool]} (${pane})`, (values) => {
      for (let slice = 0; slice < model.dims.slices; slice++) {
        const painted = labelmap.sliceData(slice);
        if (!painted) continue;
        const offset = slice * n;
        for (let i = 0; i < n; i++) {
          const now = painted[i]!;
          const was = values[offset + i]!;
          if (now === was) continue;
          const allowed = target !== null && (erasing ? now === 0 && was === target.segment : now === target.segment && !target.locked.has(was));
          if (allowed) values[offset + i] = now;
          else rejected++;
        }
      }
    });
    // The images hold what the editor refused: give them the document's voxels back.
    if (rejected > 0) labelmap.syncSlices(0, model.dims.slices - 1);
    if (changed > 0) this.options.report(`${LABELS[tool]} in the ${pane} pane: ${changed.toLocaleString('en')} voxels changed.`);
    return changed;
  }
}

function setStrategy(toolGroupId: string, toolName: string, strategy: string): void {
  const group = ToolGroupManager.getToolGroup(toolGroupId);
  if (group?.hasTool(toolName) && group.getToolConfiguration(toolName, 'activeStrategy') !== strategy) group.setToolConfiguration(toolName, { activeStrategy: strategy });
}
