// Viewport layouts in the manner of 3D Slicer and OHIF. 1×1 is the stack view (the
// series exactly as acquired, any series); the others show the series as a volume.
export type LayoutId = '1x1' | '1x2' | '1x3' | '2x2';
export type PaneId = 'axial' | 'sagittal' | 'coronal' | 'volume3d';

export const layouts: ReadonlyArray<{ id: LayoutId; label: string; title: string; hotkey: string; panes: readonly PaneId[] }> = [
  { id: '1x1', label: '1×1', title: 'One view: the series as acquired', hotkey: 'Alt+1', panes: [] },
  { id: '1x2', label: '1×2', title: 'Axial and sagittal', hotkey: 'Alt+2', panes: ['axial', 'sagittal'] },
  { id: '1x3', label: '1×3', title: 'Axial, sagittal and coronal', hotkey: 'Alt+3', panes: ['axial', 'sagittal', 'coronal'] },
  { id: '2x2', label: '2×2', title: 'Axial, sagittal, coronal and 3D', hotkey: 'Alt+4', panes: ['axial', 'sagittal', 'coronal', 'volume3d'] },
];

export function panesOf(layout: LayoutId): readonly PaneId[] {
  return layouts.find((entry) => entry.id === layout)?.panes ?? [];
}

/** Slicer's colours: red axial, yellow sagittal, green coronal; reference lines take the colour of their plane. */
export const paneColors: Record<PaneId, string> = {
  axial: 'rgb(230, 60, 60)',
  sagittal: 'rgb(230, 210, 60)',
  coronal: 'rgb(60, 200, 90)',
  volume3d: 'rgb(120, 140, 230)',
};

export const paneLabels: Record<PaneId, string> = { axial: 'Axial', sagittal: 'Sagittal', coronal: 'Coronal', volume3d: '3D' };
