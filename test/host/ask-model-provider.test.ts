// The ask panel's stand-in segmentation documents: one per series, sized from its geometry.
import { describe, expect, it } from 'vitest';
import type { SeriesDetail } from '../../electron/common/dicom-model.ts';
import { createModelProvider, modelForSeries } from '../../renderer/src/ask/model-provider.ts';

function detail(seriesKey: string, geometry: SeriesDetail['series']['geometry'], slices = 3): SeriesDetail {
  return {
    series: { seriesKey, seriesInstanceUid: seriesKey, studyInstanceUid: 'study', seriesNumber: 1, modality: 'CT', description: '', kind: 'image', sopClassUid: '', instanceCount: slices, sliceCount: slices, geometry, splitFrom: null },
    patient: { patientId: 'p', patientName: 'P' },
    slices: Array.from({ length: slices }, (_, i) => ({ fileKey: `f${i}`, sopInstanceUid: `u${i}`, instanceNumber: i + 1, frame: null, position: [0, 0, i * 2.5] })),
  };
}

const geometry = { rows: 4, columns: 5, pixelSpacing: [0.7, 0.8] as [number, number], orientation: null, normal: null, sliceSpacing: 2.5, frameOfReferenceUid: null, warnings: [] };

describe('model provider', () => {
  it('sizes the labelmap from the series: columns × rows × slices, spacing per axis', () => {
    const model = modelForSeries(detail('a', geometry))!;
    expect(model.dims).toEqual({ columns: 5, rows: 4, slices: 3 });
    expect(model.spacing).toEqual({ column: 0.8, row: 0.7, slice: 2.5 });
    expect(modelForSeries(detail('b', null))).toBeNull();
  });

  it('creates one document per series and hands the same one back', async () => {
    let asked = 0;
    const provider = createModelProvider({ get: async (key) => (asked++, detail(key, geometry)) });
    expect(provider.get('a')).toBeNull();
    const [first, again] = await Promise.all([provider.ensure('a'), provider.ensure('a')]);
    expect(first).toBe(again);
    expect(provider.get('a')).toBe(first);
    expect(asked).toBe(1);
    expect(await provider.ensure('b')).not.toBe(first);
    expect(provider.get(null)).toBeNull();
  });
});
