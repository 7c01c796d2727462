// The fix for @cornerstonejs/dicom-image-loader 5.14.0's JavaScript JPEG decoder
// (codecs/jpeg.js), which decodes 12-bit JPEG (Extended, 1.2.840.10008.1.2.4.51) about
// 15 values too bright: it scales the 8-bit level shift and rounding term (2056 =
// 128 × 16 + 8) by 4095/255 instead of shifting by 2048 × 16 + 8. pydicom's reference
// values for JPGExtended.dcm (arr[420, 140] = 244, arr[230, 120] = 95) and DCMTK's
// dcmdjpeg agree with each other; the unpatched decoder returns 259 and 109. For 8-bit
// images the replacement computes exactly what the original did.
// Shared by the renderer's build (renderer/jpeg12-level-shift-fix.ts, a Vite transform)
// and the host, which loads the same decoder in its slice worker (pixel-codecs.ts): both
// must decode 12-bit JPEG to the same values.

const BROKEN = /q\s*=\s*q\s*<=\s*-2056\s*\/\s*component\.bitConversion\s*\?\s*0\s*:\s*q\s*>=\s*2024\s*\/\s*component\.bitConversion\s*\?\s*255\s*\/\s*component\.bitConversion\s*:\s*\(q\s*\+\s*2056\s*\/\s*component\.bitConversion\)\s*>>\s*4\s*;/;

const HELPER = `
function medreasonerJpegLevelShift(q, component) {
    // q is the IDCT output in fixed point x16; the level shift is 2^(precision - 1).
    var maxValue = Math.round(255 / component.bitConversion);
    var offset = (maxValue + 1) * 8 + 8;
    return q <= -offset ? 0 : q >= maxValue * 16 - offset ? maxValue : (q + offset) >> 4;
}
`;

/** jpeg.js's source with the level shift fixed; null when the code to fix is not there (an upgrade moved or fixed it). */
export function patchJpeg12LevelShift(code: string): string | null {
  if (!BROKEN.test(code)) return null;
  return code.replace(BROKEN, 'q = medreasonerJpegLevelShift(q, component);') + HELPER;
}
