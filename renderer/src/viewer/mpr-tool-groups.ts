// Tool groups of the volume panes. The three planes share one group, so crosshairs,
// scrolling and window/level act on all of them; the 3D pane has its own (rotate, zoom,
// pan). Which tool the left button drives is chosen in the toolbar.
import {
  addTool,
  AngleTool,
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
] as const;
export type PrimaryToolId = (typeof primaryTools)[number]['id'];

/** The left-button tools of the stack view (1×1): all but the crosshairs, which link planes. */
export const stackPrimaryToolIds: readonly PrimaryToolId[] = primaryTools.map((tool) => tool.id).filter((id) => id !== 'crosshairs');

export const measurementToolNames: readonly string[] = [LengthTool.toolName, AngleTool.toolName, EllipticalROITool.toolName, RectangleROITool.toolName, ProbeTool.toolName];

let registered = false;
function registerTools(): void {
  if (registered) return;
  for (const tool of [
    WindowLevelTool, PanTool, ZoomTool, StackScrollTool, CrosshairsTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, ProbeTool, TrackballRotateTool,
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
  return group;
}

/** Makes `tool` the left-button tool; measurements stay visible and editable (passive). */
export function setPrimaryTool(group: ToolTypes.IToolGroup, tool: PrimaryToolId): void {
  const entry = primaryTools.find((candidate) => candidate.id === tool);
  if (!entry) throw new Error(`unknown tool "${tool}"`);
  // Passive drops the plain left-button binding and keeps the others, so W/L keeps
  // Ctrl + left drag and scrolling keeps the wheel (setToolActive would only add bindings).
  for (const candidate of primaryTools) {
    if (candidate.id === tool) continue;
    // Passive crosshairs keep drawing the reference lines, and their handles stay draggable.
    if (candidate.toolName === CrosshairsTool.toolName && !(group.hasTool(CrosshairsTool.toolName) && group.getToolOptions(CrosshairsTool.toolName))) continue;
    group.setToolPassive(candidate.toolName);
  }
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
