// The host sends masks as 8-bit grey PNGs (255 inside): decode them to one byte a pixel.
import type { MaskResult } from '../../../electron/common/contract-inference.ts';

export async function decodeMask(mask: MaskResult): Promise<Uint8Array> {
  const binary = atob(mask.png);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  if (bitmap.width !== mask.width || bitmap.height !== mask.height) {
    throw new Error(`the mask PNG is ${bitmap.width}×${bitmap.height}, the answer says ${mask.width}×${mask.height}`);
  }
  const canvas = new OffscreenCanvas(mask.width, mask.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot decode masks (no 2D canvas)');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, mask.width, mask.height).data;
  const out = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4]! > 127 ? 1 : 0;
  return out;
}
