// The ask layer over the stack viewport: the answer's box and key points, the prompts,
// the mask preview (translucent) and the resident's drawn answer, on one canvas that is
// redrawn whenever the viewport draws, so it follows scroll, pan and zoom. In refine,
// draw (box) or brush mode the layer takes the mouse (the viewer's tools do not see those clicks);
// otherwise it lets everything through.
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import { affineFromSamples, boxFromCorners, boxOutline, dragBox, handlePosition, hitHandle, imageToScreen, RESIZE_HANDLES, screenToImage, type BoxHandle, type ImageToScreen, type PixelBox, type Point } from './ask-geometry.ts';
import type { PromptPoint } from './ask-prompts.ts';

export type OverlayMode = 'off' | 'refine' | 'draw' | 'brush';

export type OverlayContent = {
  sliceIndex: number;
  width: number;
  height: number;
  box: PixelBox | null;
  points: PromptPoint[];
  mask: Uint8Array | null;
  color: [number, number, number];
  /** The resident's own answer in teaching mode. */
  residentBox: PixelBox | null;
  /** The resident's painted answer (teaching mode, brush), and a count that changes whenever it is painted. */
  residentMask?: { mask: Uint8Array; version: number } | null;
};

export type OverlayCallbacks = {
  onBox(box: PixelBox): void;
  onPoint(point: { x: number; y: number }, negative: boolean): void;
  onResidentBox(box: PixelBox): void;
  /** A brush dab (from null) or stroke segment, in image pixels; erase with Shift or Alt held. */
  onBrush(from: Point | null, to: Point, erase: boolean): void;
};

/** Colours the e2e test looks for in screenshots. */
export const OVERLAY_COLORS = {
  box: 'rgb(255, 214, 0)',
  keyPoint: 'rgb(255, 0, 255)',
  positive: 'rgb(0, 230, 118)',
  negative: 'rgb(255, 64, 64)',
  resident: 'rgb(0, 229, 255)',
  maskAlpha: 0.45,
} as const;

const CLICK_SLOP = 4;

type Drag =
  | { kind: 'pending'; start: Point; startImage: Point; handle: BoxHandle | null; negative: boolean; moved: boolean }
  | { kind: 'handle'; start: Point; startImage: Point; handle: BoxHandle; original: PixelBox }
  | { kind: 'new-box'; startImage: Point }
  | { kind: 'brush'; last: Point; erase: boolean };

export class AskOverlay {
  readonly element: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly viewer: StackViewer;
  private readonly callbacks: OverlayCallbacks;
  private content: OverlayContent | null = null;
  private modeValue: OverlayMode = 'off';
  private maskImage: { source: Uint8Array; color: string; canvas: HTMLCanvasElement } | null = null;
  private residentImage: { source: Uint8Array; version: number; canvas: HTMLCanvasElement } | null = null;
  private drag: Drag | null = null;
  /** The box as it is being dragged (shown live, committed on release). */
  private draft: { box: PixelBox; resident: boolean } | null = null;
  private frame = 0;
  /** Where the pointer is over the image, for the brush's outline; and the brush radius in image pixels. */
  private hover: Point | null = null;
  private brushRadius = 1;

  constructor(viewer: StackViewer, callbacks: OverlayCallbacks) {
    this.viewer = viewer;
    this.callbacks = callbacks;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'ask-layer-canvas';
    this.element = document.createElement('div');
    this.element.className = 'ask-layer';
    this.element.dataset['testid'] = 'ask-layer';
    this.element.dataset['mode'] = 'off';
    this.element.append(this.canvas);
    // The viewport element fills its frame: the layer sits beside it, on top.
    (viewer.element.parentElement ?? viewer.element).append(this.element);
    viewer.onChange(() => this.scheduleDraw());
    new ResizeObserver(() => this.scheduleDraw()).observe(this.element);
    this.element.addEventListener('pointerdown', (event) => this.pointerDown(event));
    this.element.addEventListener('pointermove', (event) => this.pointerMove(event));
    this.element.addEventListener('pointerup', (event) => this.pointerUp(event));
    this.element.addEventListener('pointercancel', () => this.cancelDrag());
    this.element.addEventListener('pointerleave', () => {
      this.hover = null;
      if (this.modeValue === 'brush') this.scheduleDraw();
    });
    this.element.addEventListener('contextmenu', (event) => event.preventDefault());
    // The layer covers the image while it takes the mouse: the wheel still pages through slices.
    this.element.addEventListener('wheel', (event) => {
      event.preventDefault();
      if (event.deltaY !== 0) viewer.scrollBy(Math.sign(event.deltaY));
    }, { passive: false });
  }

  setBrushRadius(radius: number): void {
    this.brushRadius = radius;
    if (this.modeValue === 'brush') this.scheduleDraw();
  }

  get mode(): OverlayMode {
    return this.modeValue;
  }

  setMode(mode: OverlayMode): void {
    this.modeValue = mode;
    this.element.dataset['mode'] = mode;
    this.drag = null;
    this.draft = null;
    this.drawNow();
  }

  /** Draws at once: what the panel changed must be on screen before anything else happens. */
  setContent(content: OverlayContent | null): void {
    this.content = content;
    this.drawNow();
  }

  private drawNow(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.draw();
  }

  /** Image pixel → layer pixel mapping of the current slice, from where the viewport draws three pixel centres. */
  imageToLayer(): ImageToScreen | null {
    const rect = this.element.getBoundingClientRect();
    const a = this.viewer.imagePointToPage(0, 0);
    const b = this.viewer.imagePointToPage(1, 0);
    const c = this.viewer.imagePointToPage(0, 1);
    if (!a || !b || !c) return null;
    const local = (p: Point) => ({ x: p.x - rect.left, y: p.y - rect.top });
    return affineFromSamples(local(a), local(b), local(c));
  }

  private scheduleDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private visibleContent(): OverlayContent | null {
    const content = this.content;
    if (!content) return null;
    return this.viewer.state.imageIndex === content.sliceIndex ? content : null;
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.element.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width * dpr));
    const height = Math.max(1, Math.round(rect.height * dpr));
    // Setting the size resets the canvas: every pixel and all state, whatever was drawn before.
    this.canvas.width = width;
    this.canvas.height = height;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const content = this.visibleContent();
    const map = this.imageToLayer();
    this.element.dataset['drawn'] = content && map ? 'true' : 'false';
    if (!content || !map) return;

    const { origin: o, alongColumn: c, alongRow: r } = map;
    // Pixel (0, 0) covers [-0.5, 0.5]² around its centre.
    const imageTransform = () => ctx.setTransform(dpr * c.x, dpr * c.y, dpr * r.x, dpr * r.y, dpr * (o.x - 0.5 * (c.x + r.x)), dpr * (o.y - 0.5 * (c.y + r.y)));
    ctx.imageSmoothingEnabled = false;
    if (content.mask) {
      imageTransform();
      ctx.globalAlpha = OVERLAY_COLORS.maskAlpha;
      ctx.drawImage(this.maskCanvas(content), 0, 0);
      ctx.globalAlpha = 1;
    }
    if (content.residentMask) {
      imageTransform();
      ctx.globalAlpha = OVERLAY_COLORS.maskAlpha;
      ctx.drawImage(this.residentCanvas(content.width, content.height, content.residentMask), 0, 0);
      ctx.globalAlpha = 1;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

    const resident = this.draft?.resident ? this.draft.box : content.residentBox;
    if (resident) this.strokeBox(ctx, map, resident, OVERLAY_COLORS.resident, [6, 4]);
    const box = this.draft && !this.draft.resident ? this.draft.box : content.box;
    if (box) {
      this.strokeBox(ctx, map, box, OVERLAY_COLORS.box, []);
      if (this.modeValue === 'refine') {
        ctx.fillStyle = OVERLAY_COLORS.box;
        for (const handle of RESIZE_HANDLES) {
          const at = handlePosition(box, handle);
          const p = imageToScreen(map, at.x, at.y);
          ctx.fillRect(p.x - 3.5, p.y - 3.5, 7, 7);
        }
      }
    }
    if (this.modeValue === 'brush' && this.hover) {
      // The brush's reach, as a circle in image pixels (it is an ellipse on an anisotropic view).
      const centre = imageToScreen(map, this.hover.x, this.hover.y);
      const scale = Math.hypot(map.alongRow.x, map.alongRow.y);
      ctx.beginPath();
      ctx.arc(centre.x, centre.y, Math.max(1, this.brushRadius * scale), 0, Math.PI * 2);
      ctx.lineWidth = 1;
      ctx.strokeStyle = OVERLAY_COLORS.resident;
      ctx.stroke();
    }
    content.points.forEach((point) => {
      const p = imageToScreen(map, point.x, point.y);
      ctx.beginPath();
      ctx.arc(p.x, p.y, point.fromModel ? 6 : 5, 0, Math.PI * 2);
      ctx.fillStyle = point.fromModel ? OVERLAY_COLORS.keyPoint : point.label === 1 ? OVERLAY_COLORS.positive : OVERLAY_COLORS.negative;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
      ctx.stroke();
    });
  }

  private strokeBox(ctx: CanvasRenderingContext2D, map: ImageToScreen, box: PixelBox, color: string, dash: number[]): void {
    const corners = boxOutline(map, box);
    ctx.beginPath();
    corners.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
    ctx.closePath();
    ctx.setLineDash(dash);
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.stroke();
    ctx.setLineDash([]);
  }

  private maskCanvas(content: OverlayContent): HTMLCanvasElement {
    const color = content.color.join(',');
    if (this.maskImage && this.maskImage.source === content.mask && this.maskImage.color === color) return this.maskImage.canvas;
    // A plain canvas, not an OffscreenCanvas: Chromium (SwiftShader) was seen keeping an
    // OffscreenCanvas drawn with a transform on screen after the layer was cleared.
    const canvas = document.createElement('canvas');
    canvas.width = content.width;
    canvas.height = content.height;
    const ctx = canvas.getContext('2d')!;
    const image = ctx.createImageData(content.width, content.height);
    const [r, g, b] = content.color;
    const mask = content.mask!;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      image.data[i * 4] = r;
      image.data[i * 4 + 1] = g;
      image.data[i * 4 + 2] = b;
      image.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    this.maskImage = { source: mask, color, canvas };
    return canvas;
  }

  private residentCanvas(width: number, height: number, resident: { mask: Uint8Array; version: number }): HTMLCanvasElement {
    const cached = this.residentImage;
    if (cached && cached.source === resident.mask && cached.version === resident.version) return cached.canvas;
    const canvas = cached && cached.canvas.width === width && cached.canvas.height === height ? cached.canvas : document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d')!;
    const image = ctx.createImageData(width, height);
    const [r, g, b] = OVERLAY_COLORS.resident.match(/\d+/g)!.map(Number) as [number, number, number];
    resident.mask.forEach((v, i) => {
      if (!v) return;
      image.data[i * 4] = r;
      image.data[i * 4 + 1] = g;
      image.data[i * 4 + 2] = b;
      image.data[i * 4 + 3] = 255;
    });
    ctx.putImageData(image, 0, 0);
    this.residentImage = { source: resident.mask, version: resident.version, canvas };
    return canvas;
  }

  private localPoint(event: PointerEvent): Point {
    const rect = this.element.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  private pointerDown(event: PointerEvent): void {
    if (this.modeValue === 'off' || event.button !== 0) return;
    const content = this.visibleContent();
    const map = this.imageToLayer();
    if (!content || !map) return;
    const start = this.localPoint(event);
    const startImage = screenToImage(map, start);
    if (!startImage) return;
    event.preventDefault();
    this.element.setPointerCapture(event.pointerId);
    if (this.modeValue === 'draw') {
      this.drag = { kind: 'new-box', startImage };
      return;
    }
    if (this.modeValue === 'brush') {
      const erase = event.shiftKey || event.altKey;
      this.drag = { kind: 'brush', last: startImage, erase };
      this.callbacks.onBrush(null, startImage, erase);
      return;
    }
    const handle = content.box ? hitHandle(map, content.box, start) : null;
    if (handle && handle !== 'move' && content.box) {
      this.drag = { kind: 'handle', start, startImage, handle, original: content.box };
      return;
    }
    this.drag = { kind: 'pending', start, startImage, handle, negative: event.shiftKey || event.altKey, moved: false };
  }

  private pointerMove(event: PointerEvent): void {
    const drag = this.drag;
    const content = this.visibleContent();
    const map = this.imageToLayer();
    if (this.modeValue === 'brush' && map) {
      this.hover = screenToImage(map, this.localPoint(event));
      this.scheduleDraw();
    }
    if (!drag || !content || !map) return;
    const here = this.localPoint(event);
    const image = screenToImage(map, here);
    if (!image) return;
    if (drag.kind === 'brush') {
      this.callbacks.onBrush(drag.last, image, drag.erase);
      drag.last = image;
      return;
    }
    if (drag.kind === 'pending') {
      if (Math.hypot(here.x - drag.start.x, here.y - drag.start.y) < CLICK_SLOP) return;
      // A drag from inside the box moves it; from outside draws a new one.
      this.drag = drag.handle === 'move' && content.box
        ? { kind: 'handle', start: drag.start, startImage: drag.startImage, handle: 'move', original: content.box }
        : { kind: 'new-box', startImage: drag.startImage };
      return this.pointerMove(event);
    }
    const box = drag.kind === 'handle'
      ? dragBox(drag.original, drag.handle, image.x - drag.startImage.x, image.y - drag.startImage.y, content.width, content.height)
      : boxFromCorners(drag.startImage, image, content.width, content.height);
    this.draft = { box, resident: this.modeValue === 'draw' };
    this.scheduleDraw();
  }

  private pointerUp(event: PointerEvent): void {
    const drag = this.drag;
    const draft = this.draft;
    this.drag = null;
    this.draft = null;
    if (!drag) return;
    if (drag.kind === 'brush') {
      // Painted already, dab by dab.
    } else if (drag.kind === 'pending') {
      this.callbacks.onPoint({ x: Math.round(drag.startImage.x), y: Math.round(drag.startImage.y) }, drag.negative);
    } else if (draft) {
      if (draft.resident) this.callbacks.onResidentBox(draft.box);
      else this.callbacks.onBox(draft.box);
    }
    if (this.element.hasPointerCapture(event.pointerId)) this.element.releasePointerCapture(event.pointerId);
    this.scheduleDraw();
  }

  private cancelDrag(): void {
    this.drag = null;
    this.draft = null;
    this.scheduleDraw();
  }
}
