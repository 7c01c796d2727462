// Every key in the shortcuts help does one thing: two features on one key means one of them
// never runs (the keydown handler takes the first match), or both run. That covers the
// segment brush's keys (brush-keys.ts), and the keys Cornerstone's tools would answer to
// by themselves — the planes' brush came with i and e (interpolation; Invert and Ellipse
// here) — which the tool groups drop, so only the listed keys act.
import { ToolGroupManager } from '@cornerstonejs/tools';
import { describe, expect, test } from 'vitest';
import { createStackToolGroup, setStackPrimaryTool } from '../../renderer/src/cornerstone/stack-tool-group.ts';
import { BRUSH_RADIUS_MM, brushKeyDirection, brushKeys, nextBrushRadius } from '../../renderer/src/segmentation/brush-keys.ts';
import { cornerstoneKeysOf, createPlanesToolGroup, primaryTools, setPrimaryTool, stackPrimaryToolIds } from '../../renderer/src/viewer/mpr-tool-groups.ts';
import { shortcutList, type ShortcutEntry } from '../../renderer/src/viewer/shortcut-list.ts';

/** The single keys an entry names: combined entries such as '↑ ↓ ← →' or 'Ctrl + left drag' name gestures, and ' + ' joins keys. */
function singleKeys({ keys }: ShortcutEntry): string[] {
  return keys
    .split(/\s*\/\s*|\s+/)
    .filter((k) => k.length === 1 && k !== '+')
    .map((k) => k.toLowerCase());
}

/** Every key of every tool instance in a group that Cornerstone would dispatch to the tool itself. */
function toolKeys(group: ReturnType<typeof createPlanesToolGroup>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(group.getToolInstances())) {
    const keys = cornerstoneKeysOf(group, name);
    if (keys.length > 0) out[name] = keys;
  }
  return out;
}

describe('viewer shortcuts', () => {
  test('no key is listed for two actions', () => {
    const seen = new Map<string, string>();
    for (const entry of shortcutList()) {
      for (const k of singleKeys(entry)) {
        expect(seen.get(k), `${k}: "${entry.action}" and "${seen.get(k)}"`).toBeUndefined();
        seen.set(k, entry.action);
      }
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  test("the brush's keys are in the help, and no other shortcut uses them", () => {
    const list = shortcutList();
    const otherKeys = new Map<string, string>();
    for (const entry of list) {
      if (brushKeys.some((brush) => entry.action.startsWith(brush.action))) continue;
      for (const k of singleKeys(entry)) otherKeys.set(k, entry.action);
    }
    for (const brush of brushKeys) {
      const listed = list.find((entry) => entry.action.startsWith(brush.action));
      expect(listed, `the help lists "${brush.action}"`).toBeDefined();
      for (const key of brush.keys) {
        expect(listed!.keys.split(' / '), `the help shows ${key} for "${brush.action}"`).toContain(key);
        expect(otherKeys.get(key.toLowerCase()), `${key}: "${brush.action}" and "${otherKeys.get(key.toLowerCase())}"`).toBeUndefined();
        expect(brushKeyDirection(key)).toBe(brush.direction);
      }
    }
    // The keys Cornerstone's brush brought are the viewer's, and not the brush's.
    expect(otherKeys.get('i')).toBe('Invert');
    expect(otherKeys.get('e')).toBe('Tool: Ellipse');
    for (const key of ['i', 'e', 'Enter', 'Escape']) expect(brushKeyDirection(key), key).toBeNull();
  });

  test('no tool of the planes answers to a key of its own, whichever tool the left button has', () => {
    const group = createPlanesToolGroup();
    expect(toolKeys(group)).toEqual({});
    for (const tool of primaryTools) {
      setPrimaryTool(group, tool.id);
      expect(toolKeys(group), `with ${tool.label} chosen`).toEqual({});
    }
  });

  test('no tool of the stack view answers to a key of its own once it has the left button', () => {
    const id = 'viewer-shortcuts-stack';
    try {
      createStackToolGroup(id, 'viewer-shortcuts-viewport', 'viewer-shortcuts-engine');
    } catch (error) {
      // Here there is no rendering engine for the group's viewport: the group itself is built by then.
      if (!/rendering engine/i.test(String(error))) throw error;
    }
    const group = ToolGroupManager.getToolGroup(id);
    if (!group) throw new Error('the stack tool group was not created');
    for (const id of stackPrimaryToolIds) {
      setStackPrimaryTool(group, id);
      const name = primaryTools.find((tool) => tool.id === id)!.toolName;
      expect(cornerstoneKeysOf(group, name), `${name} with the left button`).toEqual([]);
    }
  });

  test('a brush key steps the radius by a millimetre, within the slider’s range', () => {
    expect(nextBrushRadius(15, -1)).toBe(14);
    expect(nextBrushRadius(15, 1)).toBe(16);
    expect(nextBrushRadius(BRUSH_RADIUS_MM.min, -1)).toBe(BRUSH_RADIUS_MM.min);
    expect(nextBrushRadius(1, -1)).toBe(BRUSH_RADIUS_MM.min);
    expect(nextBrushRadius(BRUSH_RADIUS_MM.max, 1)).toBe(BRUSH_RADIUS_MM.max);
  });
});
