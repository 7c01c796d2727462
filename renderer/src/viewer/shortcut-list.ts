// The keyboard shortcuts, close to OHIF's and Slicer's: one list, which the help panel shows
// and a test checks for keys that would do two things (the segment brush's keys included,
// brush-keys.ts). No DOM here.
import { brushKeys } from '../segmentation/brush-keys.ts';
import { layouts } from './layouts.ts';
import { primaryTools, segmentToolIds } from './mpr-tool-groups.ts';
import { ctWindowPresets } from './window-presets.ts';

export type ShortcutEntry = { keys: string; action: string };

export function shortcutList(): ShortcutEntry[] {
  return [
    { keys: '↑ ↓ ← →', action: 'Previous / next slice' },
    { keys: 'PgUp PgDn', action: 'Jump a tenth of the slices' },
    { keys: 'Home End', action: 'First / last slice' },
    { keys: 'Wheel', action: 'Scroll slices (3D: zoom)' },
    { keys: 'Left drag', action: 'Current tool (W/L, Scroll or a measurement; rotate in 3D)' },
    { keys: 'Ctrl + left drag', action: 'Window/level, whatever the current tool' },
    { keys: 'Middle / Shift + left drag', action: 'Pan' },
    { keys: 'Right drag', action: 'Zoom' },
    { keys: 'Double-click', action: 'Maximise the view / restore' },
    ...layouts.map((layout) => ({ keys: layout.hotkey, action: `Layout ${layout.label}: ${layout.title}` })),
    ...primaryTools.map((tool) => ({
      keys: tool.hotkey.toUpperCase(),
      action: segmentToolIds.includes(tool.id) ? `Tool: ${tool.label} in the planes (the segment editor's active segment)` : `Tool: ${tool.label}`,
    })),
    ...brushKeys.map((entry) => ({ keys: entry.keys.join(' / '), action: `${entry.action} (the segment editor's paint and erase, and the planes' paint, erase and threshold paint)` })),
    { keys: 'Ctrl+Z / Ctrl+Y', action: "Undo / redo the segment editor's last step (in any view)" },
    ...ctWindowPresets.map((preset) => ({ keys: preset.hotkey, action: `CT preset ${preset.label} (W ${preset.windowWidth} L ${preset.windowCenter})` })),
    { keys: '0', action: 'Automatic window (1st to 99th percentile of the values; for MR and other series without presets)' },
    { keys: 'K', action: 'Cine: play / pause the slices of the view (the plane under the mouse)' },
    { keys: '[ ]', action: 'Cine: slower / faster (frames per second)' },
    { keys: 'M', action: 'Thick slab in the planes: off → MIP → MinIP → average (thickness in mm beside the Slab control)' },
    { keys: 'I', action: 'Invert' },
    { keys: 'H / V', action: 'Flip horizontally / vertically' },
    { keys: 'R', action: 'Rotate 90° clockwise' },
    { keys: 'Space', action: 'Reset the view' },
    { keys: '?', action: 'This help' },
  ];
}
