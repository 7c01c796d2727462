// What every 2D view draws over its image besides the text corners: the patient
// direction each screen edge faces (A/P/R/L/S/I) and a scale bar in millimetres. Both
// are read from where the canvas maps in patient space, so they follow zoom, pan,
// flips and rotation.
import type { Types } from '@cornerstonejs/core';
import { el } from '../ui/dom.ts';
import { edgeLetters, scaleBarLength } from './view-geometry.ts';

type Side = 'left' | 'right' | 'top' | 'bottom';
/** What is needed of a stack or volume viewport. */
export type DecoratedViewport = Pick<Types.IStackViewport | Types.IVolumeViewport, 'canvas' | 'canvasToWorld' | 'getImageData'>;

export type ViewDecorations = {
  /** The nodes to place over the view (absolutely positioned in it). */
  nodes: HTMLElement[];
  /** `known` says what the image's header gives: without orientation or pixel spacing Cornerstone assumes defaults, and the markers or the bar would lie. */
  update(viewport: DecoratedViewport | null, known?: KnownGeometry): void;
};

export type KnownGeometry = { orientation: boolean; pixelSpacing: boolean };

/**
 * testIdPrefix names the elements: `${prefix}-marker-left`, `${prefix}-scalebar`… They
 * carry the overlay text's class (overlay-line): drawn over the image like the corner
 * text, they are not image pixels (the e2e pixel checks leave such boxes out).
 */
export function createViewDecorations(testIdPrefix: string): ViewDecorations {
  const markers = Object.fromEntries(
    (['left', 'right', 'top', 'bottom'] as const).map((side) => [side, el('div', { class: `orientation-marker orientation-${side} overlay-line`, 'data-testid': `${testIdPrefix}-marker-${side}` })]),
  ) as Record<Side, HTMLDivElement>;
  const line = el('div', { class: 'scale-bar-line', 'data-testid': `${testIdPrefix}-scalebar-line` });
  const label = el('div', { class: 'scale-bar-label', 'data-testid': `${testIdPrefix}-scalebar-label` });
  const scaleBar = el('div', { class: 'scale-bar overlay-line', 'data-testid': `${testIdPrefix}-scalebar`, hidden: true }, line, label);

  function clear(): void {
    for (const marker of Object.values(markers)) marker.textContent = '';
    scaleBar.hidden = true;
  }

  function update(viewport: DecoratedViewport | null, known: KnownGeometry = { orientation: true, pixelSpacing: true }): void {
    const canvas = viewport?.canvas;
    if (!viewport || !canvas || !viewport.getImageData()) return clear();
    const { width, height } = canvas.getBoundingClientRect();
    if (width < 2 || height < 2) return clear();
    const centre = viewport.canvasToWorld([width / 2, height / 2]);
    const along = (dx: number, dy: number): number[] => viewport.canvasToWorld([width / 2 + dx, height / 2 + dy]).map((value, axis) => value - (centre[axis] ?? 0));
    const rightward = along(100, 0);
    const downward = along(0, 100);
    const letters = edgeLetters(rightward, downward);
    for (const side of ['left', 'right', 'top', 'bottom'] as const) markers[side].textContent = known.orientation ? letters[side] : '';

    const mmPerPixel = Math.hypot(...rightward) / 100;
    const bar = known.pixelSpacing ? scaleBarLength(mmPerPixel, Math.min(200, width * 0.3)) : null;
    scaleBar.hidden = bar === null;
    if (!bar) return;
    line.style.width = `${bar.px}px`;
    label.textContent = `${bar.mm} mm`;
    scaleBar.dataset['mm'] = String(bar.mm);
    scaleBar.dataset['mmPerPixel'] = String(mmPerPixel);
  }

  return { nodes: [...Object.values(markers), scaleBar], update };
}
