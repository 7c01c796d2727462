// SOP class → what the index does with the object. Only 'image' (and RTDOSE grids, see
// isStackable) become slices; everything else is listed under its kind.
import type { ObjectKind } from '../../common/dicom-model.ts';

export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

const STORAGE = '1.2.840.10008.5.1.4.1.1.';

/**
 * RTDOSE keeps its own kind even though it carries pixels: a dose grid is not anatomy,
 * and a viewer must not offer it as if it were. It still gets geometry and one slice per
 * frame (see series-builder) so an overlay can place it. RT Ion Plan (.481.8) is an RTPLAN.
 */
export function objectKindFor(sopClassUid: string, hasPixelData: boolean, rows: number | null, columns: number | null): ObjectKind {
  if (sopClassUid === MEDIA_STORAGE_DIRECTORY) return 'DICOMDIR';
  if (sopClassUid.startsWith(STORAGE)) {
    const rest = sopClassUid.slice(STORAGE.length);
    // Segmentation and Label Map Segmentation (Sup 243): both are SEGs, not slices to view.
    if (rest === '66.4' || rest === '66.7') return 'SEG';
    if (rest === '88.59') return 'KO';
    if (rest.startsWith('88.')) return 'SR';
    if (rest === '481.3') return 'RTSTRUCT';
    if (rest === '481.5' || rest === '481.8') return 'RTPLAN';
    if (rest === '481.2') return 'RTDOSE';
    if (rest.startsWith('11.')) return 'PR';
    if (rest.startsWith('9.')) return 'ECG';
  }
  if (hasPixelData && rows !== null && columns !== null) return 'image';
  return 'OTHER';
}

/** Image storage SOP classes (PS3.4 B.5): objects of these classes must carry pixels. */
const IMAGE_STORAGE_CLASSES = new Set(
  [
    '1', '1.1', '1.1.1', '1.2', '1.2.1', '1.3', '1.3.1', // CR, DX, MG, IO
    '2', '2.1', '2.2', // CT, Enhanced CT, Legacy Converted Enhanced CT
    '3.1', '6.1', '6.2', // US multi-frame, US, Enhanced US Volume
    '4', '4.1', '4.3', '4.4', // MR, Enhanced MR, Enhanced MR Color, Legacy Converted Enhanced MR
    '7', '7.1', '7.2', '7.3', '7.4', // Secondary Capture (single and multi-frame)
    '12.1', '12.1.1', '12.2', '12.2.1', '13.1.1', '13.1.2', '13.1.3', '13.1.4', '13.1.5', // XA, RF, 3D X-ray, tomosynthesis
    '20', '128', '128.1', '130', // NM, PET, Legacy Converted Enhanced PET, Enhanced PET
    '481.1', // RT Image
    '77.1.1', '77.1.1.1', '77.1.2', '77.1.2.1', '77.1.3', '77.1.4', '77.1.4.1', '77.1.5.1', '77.1.5.2', '77.1.5.4', '77.1.6', // VL, ophthalmic
  ].map((suffix) => `${STORAGE}${suffix}`),
);

export function isImageStorageClass(sopClassUid: string): boolean {
  return IMAGE_STORAGE_CLASSES.has(sopClassUid);
}
