// Editing in the axial, sagittal and coronal panes. Cornerstone3D's BrushTool (fill,
// erase, threshold strategies) and CircleScissorsTool paint the labelmap images that
// every pane shows (cornerstone-labelmap.ts), so a stroke appears in all of them as it
// is drawn. When the button comes up, the stroke is copied into the editor's document
// as one SegmentationModel.edit — one entry in the one undo history that the stack
// view's strokes and the effects share — keeping only the changes the editor's own
// rules allow (erase clears only the active segment; nothing overwrites a locked one);
// anything else is put back in the images. Only what the stroke touched is compared
// (stroke-tracker.ts finds it, stroke-commit.ts decides), so a mouse-up costs the size of
// the stroke, not of the series.
import { ToolGroupManager, utilities as toolUtilities } from '@cornerstonejs/tools';
import type { Target } from './effect-grid.ts';
import type { CornerstoneLabelmap } from './cornerstone-labelmap.ts';
import type { BrushShape, ThresholdRange } from './segment-effects.ts';
import type { SegmentationModel } from './segmentation-model.ts';
import { commitStroke, everySlice, type StrokeCommit } from './stroke-commit.ts';
import { StrokeTracker } from './stroke-tracker.ts';

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
  /** The ended stroke whose commit waits for Cornerstone to finish it. */
  private pending: { timer: ReturnType<typeof setTimeout>; run(): void } | null = null;
  private readonly tracker: StrokeTracker;
  /** What the last stroke's commit did (the test hook reports it). */
  lastCommit: (StrokeCommit & { label: string }) | null = null;

  constructor(options: PlaneEditingOptions) {
    this.options = options;
    this.tracker = new StrokeTracker(options.labelmap);
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
        // A press before the last stroke's commit ran: commit it now, before the tracker forgets what it wrote.
        this.flushPending();
        this.configure();
        this.tracker.begin(model.dims.slices);
        this.stroke = { tool, pane };
      },
      true,
    );
    document.addEventListener('mouseup', () => {
      if (!this.stroke) return;
      const stroke = this.stroke;
      this.stroke = null;
      // Cornerstone ends its stroke in its own mouseup listener: read the images after it.
      const run = () => {
        this.pending = null;
        this.commit(stroke.tool, stroke.pane);
      };
      this.pending = { timer: setTimeout(run, 0), run };
    });
  }

  private flushPending(): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.run();
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
    const touched = this.tracker.end();
    const model = this.options.model();
    const labelmap = this.options.labelmap;
    if (!model || labelmap.attachedModel !== model) return 0;
    const target = this.options.target(model);
    const erasing = tool === 'seg-erase' || (tool === 'seg-scissors' && this.options.settings().scissors === 'erase');
    const label = `${LABELS[tool]} (${pane})`;
    const result = commitStroke(model, label, touched ?? everySlice(model.dims), (slice) => labelmap.sliceData(slice), { target, erasing });
    this.lastCommit = { ...result, label };
    // The images hold what the editor refused: give them the document's voxels back.
    if (result.rejected > 0 && result.span) labelmap.syncSlices(result.span.firstSlice, result.span.lastSlice);
    if (result.changed > 0) this.options.report(`${LABELS[tool]} in the ${pane} pane: ${result.changed.toLocaleString('en')} voxels changed.`);
    return result.changed;
  }
}

function setStrategy(toolGroupId: string, toolName: string, strategy: string): void {
  const group = ToolGroupManager.getToolGroup(toolGroupId);
  if (group?.hasTool(toolName) && group.getToolConfiguration(toolName, 'activeStrategy') !== strategy) group.setToolConfiguration(toolName, { activeStrategy: strategy });
}
