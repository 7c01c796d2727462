// Thick slabs in the axial, sagittal and coronal planes: each screen pixel shows the
// maximum (MIP), minimum (MinIP) or mean of the voxels along the view direction within
// the slab, centred on the plane. Cornerstone renders them (VolumeViewport.setBlendMode +
// setSlabThickness); this module holds the choices, the hotkey and the limits.

export type SlabMode = 'off' | 'mip' | 'minip' | 'average';

export const slabModes: ReadonlyArray<{ id: SlabMode; label: string; title: string }> = [
  { id: 'off', label: 'Slab off', title: 'The plain slice' },
  { id: 'mip', label: 'MIP', title: 'Maximum intensity projection over the slab (vessels, nodules, bone)' },
  { id: 'minip', label: 'MinIP', title: 'Minimum intensity projection over the slab (airways, emphysema)' },
  { id: 'average', label: 'Average', title: 'Mean over the slab (a thick slice: less noise)' },
];

/** Cycles off → MIP → MinIP → average → off. */
export const SLAB_HOTKEY = 'm';
/** What the thickness field starts at, in mm: about a radiologist's usual 10 mm MIP. */
export const DEFAULT_SLAB_MM = 10;
/** Past this the slab is most of a body: a typing slip, not a choice. */
export const MAX_SLAB_MM = 500;

export function nextSlabMode(mode: SlabMode): SlabMode {
  const index = slabModes.findIndex((entry) => entry.id === mode);
  return slabModes[(index + 1) % slabModes.length]?.id ?? 'off';
}

/** The thickness typed into the field, in mm, or why it cannot be used. 0 shows the plain slice. */
export function parseSlabThickness(text: string): { ok: true; mm: number } | { ok: false; reason: string } {
  const mm = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(mm)) return { ok: false, reason: `"${text}" is not a number of millimetres` };
  if (mm < 0) return { ok: false, reason: `a slab cannot be thinner than 0 mm (${mm})` };
  if (mm > MAX_SLAB_MM) return { ok: false, reason: `a slab of ${mm} mm is thicker than ${MAX_SLAB_MM} mm` };
  return { ok: true, mm };
}
