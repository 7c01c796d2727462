// The tool group of the main stack viewport: the mouse does what a radiologist expects
// from OHIF and most PACS viewers, with the same left-button tools as the planes
// (measurements included) minus the crosshairs, which need planes to link.
import {
  addTool,
  AngleTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  ProbeTool,
  RectangleROITool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import type { Types as ToolTypes } from '@cornerstonejs/tools';
import { measurementToolNames, setPrimaryTool, type PrimaryToolId } from '../viewer/mpr-tool-groups.ts';

const { MouseBindings, KeyboardBindings } = ToolEnums;

const STACK_TOOLS = [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool, AngleTool, EllipticalROITool, RectangleROITool, ProbeTool];

/**
 * Left drag: the chosen tool (window/level at first). Ctrl + left drag: window/level
 * whatever the left button does. Middle drag or shift + left drag: pan. Right drag:
 * zoom. Wheel: stack scroll (keys are handled by the viewer, they are not a Cornerstone tool).
 * Measurements stay visible and their handles draggable (passive) whichever tool is chosen.
 */
export function createStackToolGroup(toolGroupId: string, viewportId: string, renderingEngineId: string): ToolTypes.IToolGroup {
  for (const tool of STACK_TOOLS) addTool(tool);
  const existing = ToolGroupManager.getToolGroup(toolGroupId);
  if (existing) return existing;
  const toolGroup = ToolGroupManager.createToolGroup(toolGroupId);
  if (!toolGroup) throw new Error(`Cornerstone refused to create the tool group "${toolGroupId}"`);

  for (const tool of STACK_TOOLS) toolGroup.addTool(tool.toolName);
  toolGroup.setToolActive(PanTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Auxiliary }, { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift }],
  });
  toolGroup.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  toolGroup.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  toolGroup.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Ctrl }] });
  for (const name of measurementToolNames) toolGroup.setToolPassive(name);
  setPrimaryTool(toolGroup, 'window-level');

  toolGroup.addViewport(viewportId, renderingEngineId);
  return toolGroup;
}

/** What the left button does in the stack view: any tool of the planes but the crosshairs. */
export function setStackPrimaryTool(toolGroup: ToolTypes.IToolGroup, tool: PrimaryToolId): void {
  if (tool === 'crosshairs') throw new Error('the stack view has no crosshairs: they link the planes of a volume');
  setPrimaryTool(toolGroup, tool);
}
