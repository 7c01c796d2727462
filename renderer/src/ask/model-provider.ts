// One segmentation document per series for the ask panel to put answers into. A
// stand-in: the segment editor owns these documents in the full app, and the panel only
// needs `getModel()`. Pure (no DOM): the series detail comes from the host.
import type { SeriesDetail } from '../../../electron/common/dicom-model.ts';
import { SegmentationModel } from '../segmentation/segmentation-model.ts';

export type SeriesDetailSource = { get(seriesKey: string): Promise<SeriesDetail> };

export type ModelProvider = {
  /** The series' document, creating it from the series geometry on first use; null for a series without one. */
  ensure(seriesKey: string): Promise<SegmentationModel | null>;
  /** The document if it exists already (synchronous, for getModel()). */
  get(seriesKey: string | null): SegmentationModel | null;
};

export function createModelProvider(details: SeriesDetailSource): ModelProvider {
  const models = new Map<string, SegmentationModel | null>();
  const pending = new Map<string, Promise<SegmentationModel | null>>();
  return {
    get: (seriesKey) => (seriesKey ? (models.get(seriesKey) ?? null) : null),
    ensure(seriesKey) {
      if (models.has(seriesKey)) return Promise.resolve(models.get(seriesKey) ?? null);
      let promise = pending.get(seriesKey);
      if (!promise) {
        promise = details.get(seriesKey).then((detail) => {
          const model = modelForSeries(detail);
          models.set(seriesKey, model);
          pending.delete(seriesKey);
          return model;
        });
        promise.catch(() => pending.delete(seriesKey));
        pending.set(seriesKey, promise);
      }
      return promise;
    },
  };
}

/** A labelmap over the series' slices with its pixel and slice spacing (1 mm where the header has none). */
export function modelForSeries(detail: SeriesDetail): SegmentationModel | null {
  const geometry = detail.series.geometry;
  if (!geometry || geometry.columns < 1 || geometry.rows < 1 || detail.slices.length < 1) return null;
  const [rowSpacing, columnSpacing] = geometry.pixelSpacing ?? [1, 1];
  return new SegmentationModel(
    detail.series.seriesKey,
    { columns: geometry.columns, rows: geometry.rows, slices: detail.slices.length },
    { column: columnSpacing, row: rowSpacing, slice: geometry.sliceSpacing ?? 1 },
  );
}
