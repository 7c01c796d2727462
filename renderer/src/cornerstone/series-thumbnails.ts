// Thumbnails for the study browser: the middle slice of each image series, drawn small
// by Cornerstone's own loadImageToCanvas. One at a time, so thumbnails never compete
// with the main viewport for the decoder workers more than necessary.
import { utilities } from '@cornerstonejs/core';
import type { HostApi } from '../../../electron/common/contract.ts';
import type { SeriesSummary } from '../../../electron/common/dicom-model.ts';
import type { SeriesDetails } from '../series-details.ts';
import { imageIdForSlice } from './image-ids.ts';

export class SeriesThumbnails {
  private readonly host: HostApi;
  private readonly details: SeriesDetails;
  /** Canvases survive re-renders of the study list: a drawn thumbnail is drawn once. */
  private readonly canvases = new Map<string, HTMLCanvasElement>();
  private queue: Promise<void> = Promise.resolve();

  constructor(host: HostApi, details: SeriesDetails) {
    this.host = host;
    this.details = details;
  }

  canvasFor(series: SeriesSummary): HTMLCanvasElement {
    const existing = this.canvases.get(series.seriesKey);
    if (existing) return existing;
    const canvas = document.createElement('canvas');
    canvas.className = 'series-thumbnail';
    canvas.width = 96;
    canvas.height = 96;
    canvas.dataset['state'] = 'loading';
    this.canvases.set(series.seriesKey, canvas);
    this.queue = this.queue.then(() => this.draw(series, canvas));
    return canvas;
  }

  /** Forget thumbnails of series the host re-indexed, so they are drawn again from the new files. */
  forget(seriesKeys: readonly string[]): void {
    for (const key of seriesKeys) this.canvases.delete(key);
  }

  private async draw(series: SeriesSummary, canvas: HTMLCanvasElement): Promise<void> {
    try {
      const detail = await this.details.get(series.seriesKey);
      const middle = detail.slices[Math.floor((detail.slices.length - 1) / 2)];
      if (!middle) throw new Error('the series has no slices');
      await utilities.loadImageToCanvas({ canvas, imageId: imageIdForSlice(this.host, middle), thumbnail: true });
      // loadImageToCanvas sizes the element in CSS pixels; the stylesheet decides instead.
      canvas.style.removeProperty('width');
      canvas.style.removeProperty('height');
      canvas.dataset['state'] = 'ready';
    } catch (error) {
      canvas.dataset['state'] = 'error';
      canvas.title = `No thumbnail: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
