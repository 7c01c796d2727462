// Build-time fix for @cornerstonejs/dicom-image-loader 5.14.0's JavaScript JPEG decoder
// (codecs/jpeg.js), which decodes 12-bit JPEG about 15 values too bright; the fix itself
// and why are in electron/common/jpeg12-level-shift.ts (the host's slice worker applies
// the same one). The e2e test transfer-syntaxes.test.ts holds JPGExtended.dcm against
// DCMTK's decode.
import type { Plugin } from 'vite';
import { patchJpeg12LevelShift } from '../electron/common/jpeg12-level-shift.ts';

const TARGET = /@cornerstonejs[\\/]dicom-image-loader[\\/]dist[\\/]esm[\\/]codecs[\\/]jpeg\.js$/;

export function jpeg12LevelShiftFix(): Plugin {
  return {
    name: 'medreasoner:cornerstone-jpeg12-level-shift',
    enforce: 'pre',
    transform(code, id) {
      if (!TARGET.test(id.split('?')[0] ?? id)) return null;
      const patched = patchJpeg12LevelShift(code);
      if (patched === null) {
        this.error(
          `${id}: the 12-bit level-shift code this build patches was not found. Check whether the Cornerstone upgrade fixed it (then remove electron/common/jpeg12-level-shift.ts and its uses) or moved it.`,
        );
      }
      return { code: patched, map: null };
    },
  };
}
