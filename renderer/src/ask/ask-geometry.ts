// Image pixels ↔ screen points for the ask layer, and the box editing arithmetic.
// The viewport may be panned, zoomed, flipped or rotated: the mapping is whatever
// affine map takes three pixel centres to where the viewport draws them, so it
// follows the camera without knowing about it. Pure: no DOM, no Cornerstone.

export type Point = { x: number; y: number };
/** [x0, y0, x1, y1]: inclusive pixel corners (x = column, y = row), as the host contract has it. */
export type PixelBox = [number, number, number, number];

/** screen = origin + column·alongColumn + row·alongRow (pixel centres at integer coordinates). */
export type ImageToScreen = { origin: Point; alongColumn: Point; alongRow: Point };

export function affineFromSamples(p00: Point, p10: Point, p01: Point): ImageToScreen {
  return {
    origin: p00,
    alongColumn: { x: p10.x - p00.x, y: p10.y - p00.y },
    alongRow: { x: p01.x - p00.x, y: p01.y - p00.y },
  };
}

export function imageToScreen(map: ImageToScreen, column: number, row: number): Point {
  return {
    x: map.origin.x + column * map.alongColumn.x + row * map.alongRow.x,
    y: map.origin.y + column * map.alongColumn.y + row * map.alongRow.y,
  };
}

/** The inverse map; null when the viewport shows the image degenerate (zero size). */
export function screenToImage(map: ImageToScreen, point: Point): Point | null {
  const { alongColumn: a, alongRow: b } = map;
  const det = a.x * b.y - a.y * b.x;
  if (Math.abs(det) < 1e-12) return null;
  const dx = point.x - map.origin.x;
  const dy = point.y - map.origin.y;
  return { x: (dx * b.y - dy * b.x) / det, y: (a.x * dy - a.y * dx) / det };
}

/** Screen pixels per image pixel (along columns). */
export function magnification(map: ImageToScreen): number {
  return Math.hypot(map.alongColumn.x, map.alongColumn.y);
}

/** The four corners of a box's outline (pixel edges, not centres), in screen space, clockwise from top-left. */
export function boxOutline(map: ImageToScreen, box: PixelBox): Point[] {
  const [x0, y0, x1, y1] = box;
  return [
    imageToScreen(map, x0 - 0.5, y0 - 0.5),
    imageToScreen(map, x1 + 0.5, y0 - 0.5),
    imageToScreen(map, x1 + 0.5, y1 + 0.5),
    imageToScreen(map, x0 - 0.5, y1 + 0.5),
  ];
}

export type BoxHandle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w' | 'move';
export const RESIZE_HANDLES: readonly Exclude<BoxHandle, 'move'>[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

/** Where each handle sits, in image coordinates (pixel-edge based). */
export function handlePosition(box: PixelBox, handle: Exclude<BoxHandle, 'move'>): Point {
  const left = box[0] - 0.5;
  const right = box[2] + 0.5;
  const top = box[1] - 0.5;
  const bottom = box[3] + 0.5;
  const midX = (left + right) / 2;
  const midY = (top + bottom) / 2;
  const x = handle.includes('w') ? left : handle.includes('e') ? right : midX;
  const y = handle.startsWith('n') ? top : handle.startsWith('s') ? bottom : midY;
  return { x, y };
}

/** The handle under a screen point: a corner or edge marker within `tolerance` screen pixels, else inside the box = move. */
export function hitHandle(map: ImageToScreen, box: PixelBox, screen: Point, tolerance = 8): BoxHandle | null {
  let best: { handle: BoxHandle; distance: number } | null = null;
  for (const handle of RESIZE_HANDLES) {
    const at = handlePosition(box, handle);
    const p = imageToScreen(map, at.x, at.y);
    const distance = Math.hypot(p.x - screen.x, p.y - screen.y);
    if (distance <= tolerance && (!best || distance < best.distance)) best = { handle, distance };
  }
  if (best) return best.handle;
  const image = screenToImage(map, screen);
  if (image && image.x >= box[0] - 0.5 && image.x <= box[2] + 0.5 && image.y >= box[1] - 0.5 && image.y <= box[3] + 0.5) return 'move';
  return null;
}

/**
 * The box after dragging a handle by (dx, dy) image pixels: whole pixels, corners in
 * order, inside the image, at least one pixel. A move keeps the size.
 */
export function dragBox(box: PixelBox, handle: BoxHandle, dx: number, dy: number, width: number, height: number): PixelBox {
  let [x0, y0, x1, y1] = box;
  const ix = Math.round(dx);
  const iy = Math.round(dy);
  if (handle === 'move') {
    const mx = Math.min(Math.max(ix, -x0), width - 1 - x1);
    const my = Math.min(Math.max(iy, -y0), height - 1 - y1);
    return [x0 + mx, y0 + my, x1 + mx, y1 + my];
  }
  if (handle.includes('w')) x0 += ix;
  if (handle.includes('e')) x1 += ix;
  if (handle.startsWith('n')) y0 += iy;
  if (handle.startsWith('s')) y1 += iy;
  return normalizeBox([x0, y0, x1, y1], width, height);
}

/** A box spanned by two image points (a fresh drag), in whole pixels inside the image. */
export function boxFromCorners(a: Point, b: Point, width: number, height: number): PixelBox {
  return normalizeBox([Math.round(a.x), Math.round(a.y), Math.round(b.x), Math.round(b.y)], width, height);
}

export function normalizeBox(box: PixelBox, width: number, height: number): PixelBox {
  const clampX = (v: number) => Math.min(Math.max(Math.round(v), 0), width - 1);
  const clampY = (v: number) => Math.min(Math.max(Math.round(v), 0), height - 1);
  const xa = clampX(box[0]);
  const xb = clampX(box[2]);
  const ya = clampY(box[1]);
  const yb = clampY(box[3]);
  return [Math.min(xa, xb), Math.min(ya, yb), Math.max(xa, xb), Math.max(ya, yb)];
}
