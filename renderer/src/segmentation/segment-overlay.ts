// The segmentation drawn over the stack viewport, and the mouse while an editing tool
// is on. A canvas laid exactly over Cornerstone's, drawing the current slice of the
// labelmap through the image-to-canvas mapping of the viewport (so pan, zoom, flip and
// rotation follow). While paint, erase or scissors is on, the left button belongs to
// the tool: its mousedown never reaches Cornerstone's tools; the wheel, middle and right
// buttons still scroll, pan and zoom.
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import type { Voxel } from './effect-grid.ts';
import type { BrushShape } from './segment-effects.ts';
import type { SegmentationModel } from './segmentation-model.ts';

export type OverlayTool =
  | { kind: 'none' }
  | { kind: 'brush'; mode: 'paint' | 'erase'; radiusMm: number; shape: BrushShape }
  | { kind: 'scissors' };

export type OverlayCallbacks = {
  /** A finished brush stroke (voxel positions on one slice). */
  onStroke(points: Voxel[]): void;
  /** A finished scissors outline (image pixel coordinates) on a slice. */
  onPolygon(polygon: Array<{ column: number; row: number }>, slice: number): void;
};

type Affine = { a: number; b: number; c: number; d: number; e: number; f: number };

const FILL_ALPHA = 140;

export class SegmentOverlay {
  readonly canvas: HTMLCanvasElement;
  private readonly viewer: StackViewer;
  private readonly callbacks: OverlayCallbacks;
  private model: SegmentationModel | null = null;
  private tool: OverlayTool = { kind: 'none' };
  /** A slice mask drawn as a hatched preview (the threshold effect's). */
  private previewMask: { slice: number; mask: Uint8Array } | null = null;
  private pointer: { x: number; y: number } | null = null;
  private stroke: Voxel[] | null = null;
  private lasso: Array<{ column: number; row: number }> | null = null;
  private frame = 0;
  /** Off while Cornerstone's own segmentation rendering shows the labelmap. */
  private drawLabelmap = true;
  private readonly sliceImage = document.createElement('canvas');

  constructor(viewer: StackViewer, callbacks: OverlayCallbacks) {
    this.viewer = viewer;
    this.callbacks = callbacks;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'seg-overlay';
    this.canvas.dataset['testid'] = 'segmentation-overlay';
    viewer.element.append(this.canvas);
    viewer.onChange(() => this.requestDraw());
    this.listen();
  }

  setModel(model: SegmentationModel | null): void {
    this.model = model;
    this.previewMask = null;
    this.requestDraw();
  }

  setTool(tool: OverlayTool): void {
    this.tool = tool;
    this.stroke = null;
    this.lasso = null;
    this.canvas.classList.toggle('seg-overlay-active', tool.kind !== 'none');
    this.requestDraw();
  }

  setDrawLabelmap(draw: boolean): void {
    this.drawLabelmap = draw;
    this.requestDraw();
  }

  setPreviewMask(preview: { slice: number; mask: Uint8Array } | null): void {
    this.previewMask = preview;
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Image → canvas (CSS px) mapping of the slice on screen, from three projected points. */
  private affine(): Affine | null {
    const o = this.viewer.imagePointToCanvas(0, 0);
    const x = this.viewer.imagePointToCanvas(1, 0);
    const y = this.viewer.imagePointToCanvas(0, 1);
    if (!o || !x || !y) return null;
    return { a: x.x - o.x, b: x.y - o.y, c: y.x - o.x, d: y.y - o.y, e: o.x, f: o.y };
  }

  private toImage(x: number, y: number): { column: number; row: number } | null {
    const m = this.affine();
    if (!m) return null;
    const det = m.a * m.d - m.b * m.c;
    if (Math.abs(det) < 1e-12) return null;
    const dx = x - m.e;
    const dy = y - m.f;
    return { column: (m.d * dx - m.c * dy) / det, row: (-m.b * dx + m.a * dy) / det };
  }

  private alignToViewport(): { width: number; height: number } {
    const target = this.viewer.canvas.getBoundingClientRect();
    const parent = this.viewer.element.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    Object.assign(this.canvas.style, { left: `${target.left - parent.left}px`, top: `${target.top - parent.top}px`, width: `${target.width}px`, height: `${target.height}px` });
    const width = Math.max(1, Math.round(target.width * ratio));
    const height = Math.max(1, Math.round(target.height * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    return { width: target.width, height: target.height };
  }

  private draw(): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const state = this.viewer.state;
    if (!state.seriesKey) {
      context.clearRect(0, 0, this.canvas.width, this.canvas.height);
      return;
    }
    this.alignToViewport();
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const model = this.model;
    const m = this.affine();
    if (!model || model.seriesKey !== state.seriesKey || !m) return;
    const ratio = window.devicePixelRatio || 1;
    const slice = state.imageIndex;
    const { columns, rows } = model.dims;
    this.paintSliceImage(model, slice);
    context.setTransform(m.a * ratio, m.b * ratio, m.c * ratio, m.d * ratio, m.e * ratio, m.f * ratio);
    context.imageSmoothingEnabled = false;
    // Pixel (i, j) is centred on (i, j): its square starts half a pixel before.
    context.drawImage(this.sliceImage, -0.5, -0.5, columns, rows);
    const pixelScale = Math.hypot(m.a, m.b) || 1;
    if (this.stroke && this.tool.kind === 'brush') this.drawStroke(context, model, this.stroke, this.tool, pixelScale);
    if (this.lasso && this.lasso.length > 1) this.drawLasso(context, this.lasso, pixelScale);
    if (this.pointer && this.tool.kind === 'brush') {
      const at = this.toImage(this.pointer.x, this.pointer.y);
      if (at) this.drawBrush(context, model, at, this.tool.radiusMm, this.tool.mode === 'paint' ? '#ffe14d' : '#ff7a7a', pixelScale);
    }
  }

  private paintSliceImage(model: SegmentationModel, slice: number): void {
    const { columns, rows } = model.dims;
    if (this.sliceImage.width !== columns || this.sliceImage.height !== rows) {
      this.sliceImage.width = columns;
      this.sliceImage.height = rows;
    }
    const context = this.sliceImage.getContext('2d');
    if (!context) return;
    const colours = new Uint8ClampedArray(256 * 4);
    for (const segment of model.segments) {
      if (!segment.visible) continue;
      colours.set([...segment.color, FILL_ALPHA], segment.number * 4);
    }
    const image = context.createImageData(columns, rows);
    const offset = slice * columns * rows;
    const labels = model.labelmap;
    const preview = this.previewMask?.slice === slice ? this.previewMask.mask : null;
    for (let i = 0; i < columns * rows; i++) {
      const label = this.drawLabelmap ? labels[offset + i]! : 0;
      if (preview && preview[i]) {
        // The preview's voxels show in a light cyan, over whatever segment lies below.
        image.data.set([80, 220, 255, 140], i * 4);
      } else if (label !== 0) {
        image.data[i * 4] = colours[label * 4]!;
        image.data[i * 4 + 1] = colours[label * 4 + 1]!;
        image.data[i * 4 + 2] = colours[label * 4 + 2]!;
        image.data[i * 4 + 3] = colours[label * 4 + 3]!;
      }
    }
    context.putImageData(image, 0, 0);
  }

  private drawBrush(context: CanvasRenderingContext2D, model: SegmentationModel, at: { column: number; row: number }, radiusMm: number, colour: string, pixelScale: number): void {
    context.beginPath();
    context.ellipse(at.column, at.row, radiusMm / model.spacing.column, radiusMm / model.spacing.row, 0, 0, 2 * Math.PI);
    context.lineWidth = 1.5 / pixelScale;
    context.strokeStyle = colour;
    context.stroke();
  }

  private drawStroke(context: CanvasRenderingContext2D, model: SegmentationModel, stroke: Voxel[], tool: Extract<OverlayTool, { kind: 'brush' }>, pixelScale: number): void {
    const segment = model.activeSegment !== null ? model.segment(model.activeSegment) : undefined;
    const [r, g, b] = tool.mode === 'paint' && segment ? segment.color : [0, 0, 0];
    context.fillStyle = tool.mode === 'paint' ? `rgba(${r}, ${g}, ${b}, 0.45)` : 'rgba(0, 0, 0, 0.45)';
    for (const point of stroke) {
      context.beginPath();
      context.ellipse(point.column, point.row, tool.radiusMm / model.spacing.column, tool.radiusMm / model.spacing.row, 0, 0, 2 * Math.PI);
      context.fill();
    }
    void pixelScale;
  }

  private drawLasso(context: CanvasRenderingContext2D, lasso: Array<{ column: number; row: number }>, pixelScale: number): void {
    context.beginPath();
    lasso.forEach((p, i) => (i === 0 ? context.moveTo(p.column, p.row) : context.lineTo(p.column, p.row)));
    context.closePath();
    context.lineWidth = 1.5 / pixelScale;
    context.setLineDash([4 / pixelScale, 3 / pixelScale]);
    context.strokeStyle = '#ffe14d';
    context.stroke();
    context.setLineDash([]);
  }

  private listen(): void {
    const canvas = this.canvas;
    const position = (event: PointerEvent) => {
      const box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    };
    // Cornerstone's tools start a drag on mousedown at the viewport element: keep the left button's from reaching it.
    canvas.addEventListener('mousedown', (event) => {
      if (this.tool.kind !== 'none' && event.button === 0) event.stopPropagation();
    });
    canvas.addEventListener('pointerdown', (event) => {
      if (this.tool.kind === 'none' || event.button !== 0 || !this.model) return;
      event.stopPropagation();
      event.preventDefault();
      this.viewer.element.focus({ preventScroll: true });
      canvas.setPointerCapture(event.pointerId);
      const at = this.toImage(position(event).x, position(event).y);
      if (!at) return;
      const slice = this.viewer.state.imageIndex;
      if (this.tool.kind === 'brush') this.stroke = [{ ...at, slice }];
      else this.lasso = [at];
      this.requestDraw();
    });
    canvas.addEventListener('pointermove', (event) => {
      this.pointer = position(event);
      const at = this.toImage(this.pointer.x, this.pointer.y);
      if (at && this.stroke) this.stroke.push({ ...at, slice: this.stroke[0]!.slice });
      if (at && this.lasso) this.lasso.push(at);
      this.requestDraw();
    });
    const finish = (event: PointerEvent) => {
      if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
      const stroke = this.stroke;
      const lasso = this.lasso;
      this.stroke = null;
      this.lasso = null;
      if (stroke) this.callbacks.onStroke(stroke);
      if (lasso && lasso.length >= 3) this.callbacks.onPolygon(lasso, this.viewer.state.imageIndex);
      this.requestDraw();
    };
    canvas.addEventListener('pointerup', finish);
    canvas.addEventListener('pointercancel', finish);
    canvas.addEventListener('pointerleave', () => {
      this.pointer = null;
      this.requestDraw();
    });
  }
}
