// Words for what a study's SEG and SR series refer to, from SeriesSummary.links: a SEG's
// version in its chain ("v2, replaces v1 #102") and the series it was drawn on, an SR's
// SEG. Resolved within the study only: a reference to a series not listed is said plainly.
import type { SeriesSummary } from '../../../electron/common/dicom-model.ts';

export interface SeriesLinkText {
  /** SEG: "v2, replaces v1 (#102)"; SR: "documents SEG v1 (#102)". */
  chain: string | null;
  /** "on #3 CT synthetic": the source series. */
  source: string | null;
  /** SEG: "replaced by v2 (#104)" when a newer version is listed. */
  replacedBy: string | null;
}

const label = (s: SeriesSummary) => [s.seriesNumber !== null ? `#${s.seriesNumber}` : null, s.description || s.modality].filter(Boolean).join(' ');

export function seriesLinkTexts(series: readonly SeriesSummary[]): Map<string, SeriesLinkText> {
  const byUid = new Map<string, SeriesSummary>();
  for (const s of series) if (!byUid.has(s.seriesInstanceUid)) byUid.set(s.seriesInstanceUid, s);
  const versions = new Map<string, number>();
  // The version is the length of the supersedes chain within the study; a cycle (a broken writer) stops counting.
  const versionOf = (s: SeriesSummary, seen = new Set<string>()): number => {
    const known = versions.get(s.seriesKey);
    if (known !== undefined) return known;
    const previous = s.links?.supersedes[0] ? byUid.get(s.links.supersedes[0].seriesInstanceUid) : undefined;
    seen.add(s.seriesKey);
    const version = previous && !seen.has(previous.seriesKey) ? versionOf(previous, seen) + 1 : 1;
    versions.set(s.seriesKey, version);
    return version;
  };
  const segName = (uid: string) => {
    const s = byUid.get(uid);
    return s ? `v${versionOf(s)} (${label(s)})` : 'a SEG not in this study list';
  };
  const texts = new Map<string, SeriesLinkText>();
  for (const s of series) {
    const links = s.links;
    if (!links || (s.kind !== 'SEG' && s.kind !== 'SR')) continue;
    const sources = links.sourceSeries.map((uid) => byUid.get(uid)).filter((x): x is SeriesSummary => x !== undefined && x.kind === 'image');
    const source = sources.length > 0 ? `on ${sources.map(label).join(', ')}` : links.sourceSeries.length > 0 ? 'on a series not in this study list' : null;
    let chain: string | null = null;
    let replacedBy: string | null = null;
    if (s.kind === 'SEG') {
      const replaced = links.supersedes.map((r) => segName(r.seriesInstanceUid));
      const newer = series.filter((o) => o.kind === 'SEG' && o.links?.supersedes.some((r) => r.seriesInstanceUid === s.seriesInstanceUid));
      // A lone SEG has no version to tell; the first of a chain is "v1".
      if (replaced.length > 0) chain = `v${versionOf(s)}, replaces ${replaced.join(', ')}`;
      else if (newer.length > 0) chain = `v${versionOf(s)}`;
      if (newer.length > 0) replacedBy = `replaced by ${newer.map((o) => `v${versionOf(o)} (${label(o)})`).join(', ')}`;
    } else if (links.documents.length > 0) {
      chain = `documents SEG ${[...new Set(links.documents.map((d) => d.seriesInstanceUid))].map(segName).join(', ')}`;
    }
    texts.set(s.seriesKey, { chain, source, replacedBy });
  }
  return texts;
}
