// Build-time fix for @cornerstonejs/dicom-image-loader 5.14.0's JavaScript JPEG decoder
// (codecs/jpeg.js), which decodes 12-bit JPEG (Extended, 1.2.840.10008.1.2.4.51) about
// 15 values too bright: it scales the 8-bit level shift and rounding term (2056 =
// 128 × 16 + 8) by 4095/255 instead of shifting by 2048 × 16 + 8. pydicom's reference
// values for JPGExtended.dcm (arr[420, 140] = 244, arr[230, 120] = 95) and DCMTK's
// dcmdjpeg agree with each other; the unpatched decoder returns 259 and 109. For 8-bit
// images the replacement computes exactly what the original did.
// The e2e test transfer-syntaxes.test.ts holds JPGExtended.dcm against DCMTK's decode.
import type { Plugin } from 'vite';

const TARGET = /@cornerstonejs[\\/]dicom-image-loader[\\/]dist[\\/]esm[\\/]codecs[\\/]jpeg\.js$/;

const BROKEN = /q\s*=\s*q\s*<=\s*-2056\s*\/\s*component\.bitConversion\s*\?\s*0\s*:\s*q\s*>=\s*2024\s*\/\s*component\.bitConversion\s*\?\s*255\s*\/\s*component\.bitConversion\s*:\s*\(q\s*\+\s*2056\s*\/\s*component\.bitConversion\)\s*>>\s*4\s*;/;

const HELPER = `
function medreasonerJpegLevelShift(q, component) {
    // q is the IDCT output in fixed point x16; the level shift is 2^(precision - 1).
    var maxValue = Math.round(255 / component.bitConversion);
    var offset = (maxValue + 1) * 8 + 8;
    return q <= -offset ? 0 : q >= maxValue * 16 - offset ? maxValue : (q + offset) >> 4;
}
`;

export function jpeg12LevelShiftFix(): Plugin {
  return {
    name: 'medreasoner:cornerstone-jpeg12-level-shift',
    enforce: 'pre',
    transform(code, id) {
      if (!TARGET.test(id.split('?')[0] ?? id)) return null;
      if (!BROKEN.test(code)) {
        this.error(
          `${id}: the 12-bit level-shift code this build patches was not found. Check whether the Cornerstone upgrade fixed it (then remove renderer/jpeg12-level-shift-fix.ts) or moved it.`,
        );
      }
      return { code: code.replace(BROKEN, 'q = medreasonerJpegLevelShift(q, component);') + HELPER, map: null };
    },
  };
}
