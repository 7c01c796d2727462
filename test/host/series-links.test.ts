// The study browser's words for a SEG's version chain and an SR's SEG (renderer/src/ui/series-links.ts).
import { describe, expect, test } from 'vitest';
import type { SeriesLinks, SeriesSummary } from '../../electron/common/dicom-model.ts';
import { seriesLinkTexts } from '../../renderer/src/ui/series-links.ts';

function series(uid: string, kind: SeriesSummary['kind'], seriesNumber: number, description: string, links?: Partial<SeriesLinks>): SeriesSummary {
  return {
    seriesKey: uid, seriesInstanceUid: uid, studyInstanceUid: 'st', seriesNumber, modality: kind === 'image' ? 'CT' : kind, description, kind,
    sopClassUid: '', instanceCount: 1, sliceCount: kind === 'image' ? 4 : 0, geometry: null, splitFrom: null,
    ...(links ? { links: { sourceSeries: [], documents: [], supersedes: [], predecessors: [], ...links } } : {}),
  };
}
const ref = (uid: string) => ({ sopInstanceUid: `${uid}.1`, seriesInstanceUid: uid });

describe('series links in the study browser', () => {
  const ct = series('ct', 'image', 3, 'Abdomen');
  const v1 = series('seg1', 'SEG', 101, 'Liver', { sourceSeries: ['ct'] });
  const v2 = series('seg2', 'SEG', 102, 'Liver', { sourceSeries: ['ct'], supersedes: [ref('seg1')] });
  const v3 = series('seg3', 'SEG', 104, 'Liver', { sourceSeries: ['ct'], supersedes: [ref('seg2')] });
  const sr = series('sr1', 'SR', 103, 'Report', { sourceSeries: ['ct'], documents: [ref('seg1')] });

  test('a chain of versions: each SEG says its version, what it replaces and what replaced it, and its source series', () => {
    const texts = seriesLinkTexts([ct, v3, sr, v1, v2]);
    expect(texts.get('seg1')).toEqual({ chain: 'v1', source: 'on #3 Abdomen', replacedBy: 'replaced by v2 (#102 Liver)' });
    expect(texts.get('seg2')).toEqual({ chain: 'v2, replaces v1 (#101 Liver)', source: 'on #3 Abdomen', replacedBy: 'replaced by v3 (#104 Liver)' });
    expect(texts.get('seg3')).toEqual({ chain: 'v3, replaces v2 (#102 Liver)', source: 'on #3 Abdomen', replacedBy: null });
    expect(texts.get('sr1')).toEqual({ chain: 'documents SEG v1 (#101 Liver)', source: 'on #3 Abdomen', replacedBy: null });
    expect(texts.has('ct')).toBe(false);
  });

  test('a lone SEG has no version; references outside the study are said plainly; a supersedes cycle ends', () => {
    const lone = seriesLinkTexts([ct, v1]);
    expect(lone.get('seg1')).toEqual({ chain: null, source: 'on #3 Abdomen', replacedBy: null });
    const orphan = seriesLinkTexts([series('seg9', 'SEG', 9, 'X', { sourceSeries: ['gone'], supersedes: [ref('old')] })]);
    expect(orphan.get('seg9')).toEqual({ chain: 'v1, replaces a SEG not in this study list', source: 'on a series not in this study list', replacedBy: null });
    const a = series('a', 'SEG', 1, 'A', { supersedes: [ref('b')] });
    const b = series('b', 'SEG', 2, 'B', { supersedes: [ref('a')] });
    const cycle = seriesLinkTexts([a, b]);
    expect(cycle.get('a')!.chain).toMatch(/^v\d, replaces v\d \(#2 B\)$/);
    expect(cycle.get('b')!.chain).toMatch(/^v\d, replaces v\d \(#1 A\)$/);
  });
});
