// The tool group of the main stack viewport: the mouse does what a radiologist expects
// from OHIF and most PACS viewers.
import {
  addTool,
  Enums as ToolEnums,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import type { Types as ToolTypes } from '@cornerstonejs/tools';

const { MouseBindings, KeyboardBindings } = ToolEnums;

let toolsRegistered = false;

function registerTools(): void {
  if (toolsRegistered) return;
  for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) addTool(tool);
  toolsRegistered = true;
}

/**
 * Left drag: window/level. Middle drag or shift + left drag: pan. Right drag: zoom.
 * Wheel: stack scroll (keys are handled by the viewer, they are not a Cornerstone tool).
 */
export function createStackToolGroup(toolGroupId: string, viewportId: string, renderingEngineId: string): ToolTypes.IToolGroup {
  registerTools();
  const existing = ToolGroupManager.getToolGroup(toolGroupId);
  if (existing) return existing;
  const toolGroup = ToolGroupManager.createToolGroup(toolGroupId);
  if (!toolGroup) throw new Error(`Cornerstone refused to create the tool group "${toolGroupId}"`);

  toolGroup.addTool(WindowLevelTool.toolName);
  toolGroup.addTool(PanTool.toolName);
  toolGroup.addTool(ZoomTool.toolName);
  toolGroup.addTool(StackScrollTool.toolName);

  toolGroup.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  toolGroup.setToolActive(PanTool.toolName, {
    bindings: [{ mouseButton: MouseBindings.Auxiliary }, { mouseButton: MouseBindings.Primary, modifierKey: KeyboardBindings.Shift }],
  });
  toolGroup.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  toolGroup.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });

  toolGroup.addViewport(viewportId, renderingEngineId);
  return toolGroup;
}

/** What the left button does in the stack view: window/level (the default) or drag-to-scroll. */
export function setStackPrimaryTool(toolGroup: ToolTypes.IToolGroup, tool: 'window-level' | 'scroll'): void {
  // Passive drops only the plain left-button binding: scrolling keeps the wheel.
  if (tool === 'scroll') {
    toolGroup.setToolPassive(WindowLevelTool.toolName);
    toolGroup.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  } else {
    toolGroup.setToolPassive(StackScrollTool.toolName);
    toolGroup.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  }
}
