// Tool groups of the volume panes. The three planes share one group, so crosshairs,
// scrolling and window/level act on all of them; the 3D pane has its own (rotate, zoom,
// pan). Which tool the left button drives is chosen in the toolbar.
import {
  addTool,
  AngleTool,
  BrushTool,
  CircleScissorsTool,
  CrosshairsTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  ProbeTool,
  RectangleROITool,
  StackScrollTool,
  ToolGroupManager,
  TrackballRotateTool,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import type { Types as ToolTypes } from '@cornerstonejs/tools';
import { paneColors, type PaneId } from './layouts.ts';

const { MouseBindings, KeyboardBindings } = ToolEnums;

export const PLANES_TOOL_GROUP_ID = 'mr-planes-tools';
export const VOLUME3D_TOOL_GROUP_ID = 'mr-3d-tools';

/** What the left mouse button does in the planes. */
export const primaryTools = [
  { id: 'crosshairs', label: 'Crosshairs', toolName: CrosshairsTool.toolName, hotkey: 'c' },
  { id: 'window-level', label: 'W/L', toolName: WindowLevelTool.toolName, hotkey: 'w' },
  { id: 'scroll', label: 'Scroll', toolName: StackScrollTool.toolName, hotkey: 's' },
  { id: 'length', label: 'Length', toolName: LengthTool.toolName, hotkey: 'l' },
  { id: 'angle', label: 'Angle', toolName: AngleTool.toolName, hotkey: 'a' },
  { id: 'ellipse', label: 'Ellipse', toolName: EllipticalROITool.toolName, hotkey: 'e' },
  { id: 'rectangle', label: 'Rectangle', toolName: RectangleROITool.toolName, hotkey: 'b' },
  { id: 'probe', label: 'Probe', toolName: ProbeTool.toolName, hotkey: 'p' },
  // The segment editor's tools in the planes: Cornerstone's brush and scissors on the labelmap all panes show.
  { id: 'seg-paint', label: 'Paint', toolName: 'MrPlanePaint', hotkey: 'd' },
  { id: 'seg-erase', label: 'Erase', toolName: 'MrPlaneErase', hotkey: 'x' },
  { id: 'seg-threshold', label: 'Threshold paint', toolName: 'MrPlaneThresholdPaint', hotkey: 't' },
  { id: 'seg-scissors', label: 'Scissors', toolName: CircleScissorsTool.toolName, hotkey: 'u' },
] as const;
export type PrimaryToolId = (typeof primaryTools)[number]['id'];

/** Left-button tools that edit the segment editor's labelmap in the planes. */
export const segmentToolIds: readonly PrimaryToolId[] = ['seg-paint', 'seg-erase', 'seg-threshold', 'seg-scissors'];

/**
 * The left-button tools of the stack view (1×1): all but the crosshairs, which link planes,
 * and the segment tools, which the segment editor's own panel offers there.
 */
export const stackPrimaryToolIds: readonly PrimaryToolId[] = primaryTools.map((tool) => tool.id).filter((id) => id !== 'crosshairs' && !segmentToolIds.includes(id));

/** Brush instances (one BrushTool class, one strategy each) of the planes' segment tools. */
const planeBrushes = [
  ['MrPlanePaint', 'FILL_INSIDE_CIRCLE'],
  ['MrPlaneErase', 'ERASE_INSIDE_CIRCLE'],
  ['MrPlaneThresholdPaint', 'THRESHOLD_INSIDE_CIRCLE'],
] as const;

export const measurementToolNames: readonly string[] = [LengthTool.toolName, AngleTool.toolName, EllipticalROITool.toolName, RectangleROITool.toolName, ProbeTool.toolName];

let registered = false;
function registerTools(): void {
  if (registered) return;
  for (const tool of [
    WindowLevelTool, PanTool, ZoomTool, StackScrollTool, CrosshairsTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, ProbeTool, TrackballRotateTool, BrushTool, CircleScissorsTool,
  ]) {
    // The stack view's group may have registered some of them already.
    try {
      addTool(tool);
    } catch {
      /* already registered */
    }
  }
  registered = true;
}

export function viewportIdOf(pane: PaneId): string {
  return `mr-pane-${pane}`;
}

export function createPlanesToolGroup(): ToolTypes.IToolGroup {
  registerTools();
  const existing = ToolGroupManager.getToolGroup(PLANES_TOOL_GROUP_ID);
  if (existing) return existing;
  const group = ToolGroupManager.createToolGroup(PLANES_TOOL_GROUP_ID);
  if (!group) throw new Error(`Cornerstone refused to create the tool group "${PLANES_TOOL_GROUP_ID}"`);
  for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, ProbeTool]) {
    group.addTool(tool.toolName);
  }
  const colorOfViewport = (viewportId: string): string => {
    const pane = (Object.keys(paneColors) as PaneId[]).find((id) => viewportIdOf(id) === viewportId);
    return pane ? paneColors[pane] : 'rgb(200, 200, 200)';
  };
  group.addTool(CrosshairsTool.toolName, {
    getReferenceLineColor: colorOfViewport,
    getReferenceLineControllable: () => true,
    getReferenceLineDraggableRotatable: () => true,
    getReferenceLineSlabThicknessControlsOn: () => false,
  });
  group.setToolActive(PanTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Auxiliary }, { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift }],
  });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  // Ctrl + left drag is window/level whatever the left button does.
  group.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Ctrl }] });
  for (const name of measurementToolNames) group.setToolPassive(name);
  for (const [name, strategy] of planeBrushes) group.addToolInstance(name, BrushTool.toolName, { activeStrategy: strategy });
  group.addTool(CircleScissorsTool.toolName, { activeStrategy: 'FILL_INSIDE' });
  for (const name of Object.keys(group.getToolInstances())) dropCornerstoneKeys(group, name);
  return group;
}

/** The keys a tool of `group` answers to by itself (Cornerstone's key actions); none once dropCornerstoneKeys has run. */
export function cornerstoneKeysOf(group: ToolTypes.IToolGroup, toolName: string): string[] {
  const tool = group.hasTool(toolName) ? (group.getToolInstance(toolName) as { configuration?: { actions?: Record<string, { bindings?: Array<{ key?: string }> }> } }) : undefined;
  return Object.values(tool?.configuration?.actions ?? {}).flatMap((action) => (action.bindings ?? []).flatMap((binding) => (binding.key === undefined ? [] : [binding.key])));
}

/**
 * Cornerstone's tools bring keys of their own, which the viewer's keys would run as well
 * (its keyboard events go to the active tools, and then on to the document): the brush's
 * i and e interpolate behind the document's back (and are Invert and Ellipse here), its
 * Enter and Escape accept and reject a preview the planes do not use, and Length's z and
 * y undo and redo Cornerstone's own history — which holds the planes' strokes too, so
 * Ctrl+Z would undo a stroke in the images besides the editor's step. Every key here is
 * the app's, listed once in the shortcuts help (shortcut-list.ts).
 */
function dropCornerstoneKeys(group: ToolTypes.IToolGroup, toolName: string): void {
  if (cornerstoneKeysOf(group, toolName).length > 0) group.setToolConfiguration(toolName, { actions: {} });
}

/** Makes `tool` the left-button tool; measurements stay visible and editable (passive). */
export function setPrimaryTool(group: ToolTypes.IToolGroup, tool: PrimaryToolId): void {
  const entry = primaryTools.find((candidate) => candidate.id === tool);
  if (!entry) throw new Error(`unknown tool "${tool}"`);
  // Passive drops the plain left-button binding and keeps the others, so W/L keeps
  // Ctrl + left drag and scrolling keeps the wheel (setToolActive would only add bindings).
  for (const candidate of primaryTools) {
    if (candidate.id === tool) continue;
    // A passive brush would still draw its cursor: the segment tools are off unless chosen (and absent from the stack's group).
    if (segmentToolIds.includes(candidate.id)) {
      if (group.hasTool(candidate.toolName)) group.setToolDisabled(candidate.toolName);
      continue;
    }
    // Passive crosshairs keep drawing the reference lines, and their handles stay draggable.
    if (candidate.toolName === CrosshairsTool.toolName && !(group.hasTool(CrosshairsTool.toolName) && group.getToolOptions(CrosshairsTool.toolName))) continue;
    group.setToolPassive(candidate.toolName);
  }
  // The stack view's group too (stack-tool-group.ts): no tool made the left button's goes with keys of its own.
  dropCornerstoneKeys(group, entry.toolName);
  const bindings =
    entry.toolName === WindowLevelTool.toolName
      ? [{ mouseButton: MouseBindings.Primary }, { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Ctrl }]
      : entry.toolName === StackScrollTool.toolName
        ? [{ mouseButton: MouseBindings.Primary }, { mouseButton: MouseBindings.Wheel }]
        : [{ mouseButton: MouseBindings.Primary }];
  group.setToolActive(entry.toolName, { bindings });
}

export function createVolume3DToolGroup(): ToolTypes.IToolGroup {
  registerTools();
  const existing = ToolGroupManager.getToolGroup(VOLUME3D_TOOL_GROUP_ID);
  if (existing) return existing;
  const group = ToolGroupManager.createToolGroup(VOLUME3D_TOOL_GROUP_ID);
  if (!group) throw new Error(`Cornerstone refused to create the tool group "${VOLUME3D_TOOL_GROUP_ID}"`);
  group.addTool(TrackballRotateTool.toolName);
  group.addTool(ZoomTool.toolName);
  group.addTool(PanTool.toolName);
  group.setToolActive(TrackballRotateTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }, { mouseButton: MouseBindings.Wheel }] });
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  return group;
}
