// Window/level presets in Hounsfield units, the values radiology departments and OHIF use.
export type WindowPreset = { id: string; label: string; windowCenter: number; windowWidth: number; hotkey: string };

export const ctWindowPresets: readonly WindowPreset[] = [
  { id: 'brain', label: 'Brain', windowCenter: 40, windowWidth: 80, hotkey: '1' },
  { id: 'subdural', label: 'Subdural', windowCenter: 75, windowWidth: 215, hotkey: '2' },
  { id: 'stroke', label: 'Stroke', windowCenter: 40, windowWidth: 40, hotkey: '3' },
  { id: 'lung', label: 'Lung', windowCenter: -600, windowWidth: 1500, hotkey: '4' },
  { id: 'mediastinum', label: 'Mediastinum', windowCenter: 50, windowWidth: 350, hotkey: '5' },
  { id: 'soft-tissue', label: 'Abdomen', windowCenter: 40, windowWidth: 400, hotkey: '6' },
  { id: 'liver', label: 'Liver', windowCenter: 60, windowWidth: 160, hotkey: '7' },
  { id: 'bone', label: 'Bone', windowCenter: 400, windowWidth: 1800, hotkey: '8' },
];

/** 3D rendering presets: Cornerstone's transfer functions by name, or maximum intensity projection. */
export const volumePresets = [
  { id: 'CT-Bone', label: 'Bone' },
  { id: 'CT-Soft-Tissue', label: 'Soft tissue' },
  { id: 'CT-Lung', label: 'Lung' },
  { id: 'MIP', label: 'MIP' },
  // The CT's rendering off: only the segments' surfaces, as Slicer's 3D view shows them (inside the body they are hidden otherwise).
  { id: 'Segments', label: 'Segments' },
] as const;
export type VolumePresetId = (typeof volumePresets)[number]['id'];
