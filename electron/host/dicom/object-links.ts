// What a SEG or SR refers to, read from the header's reference sequences: the rule the
// SEG reader (seg.info's supersedes) and the index (the study database's object_links)
// share, so the two can never disagree about which SEG a new version replaces.
import type { DataSet } from 'dicom-parser';
import type { ObjectKind } from '../../common/dicom-model.ts';
import { readString } from './dataset-values.ts';
import { objectKindFor } from './object-kinds.ts';

export interface InstanceRef {
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

export interface ReferencedSeries {
  seriesInstanceUid: string;
  instanceUids: string[];
}

/** Plain data, kept in the InstanceRecord (it crosses the worker boundary and is stored as JSON). */
export interface ObjectLinks {
  /** Series the object was derived from or measures (not the SEGs it names). */
  sourceSeries: string[];
  /** SOP Instance UIDs of the source instances, where the object lists them. */
  sourceInstances: string[];
  /** SR: the SEGs it reports on. */
  documents: InstanceRef[];
  /** SEG: the earlier version(s) it replaces. */
  supersedes: InstanceRef[];
  /** SR: the report(s) it replaces (Predecessor Documents). */
  predecessors: InstanceRef[];
}

const isSegClass = (sopClassUid: string) => objectKindFor(sopClassUid, false, null, null) === 'SEG';

/**
 * A SEG's Common Instance Reference (ReferencedSeriesSequence): a referenced instance of a
 * Segmentation SOP class is the SEG this one supersedes; everything else is its source. A
 * series item that names only a superseded SEG is not a source series.
 */
export function segReferencedSeries(dataSet: DataSet): { referencedSeries: ReferencedSeries[]; supersedes: InstanceRef[] } {
  const referencedSeries: ReferencedSeries[] = [];
  const supersedes: InstanceRef[] = [];
  for (const entry of dataSet.elements['x00081115']?.items ?? []) {
    const item = entry.dataSet!;
    const seriesInstanceUid = readString(item, 'x0020000e');
    const instanceUids: string[] = [];
    for (const i of item.elements['x0008114a']?.items ?? []) {
      const uid = readString(i.dataSet!, 'x00081155');
      if (!uid) continue;
      if (isSegClass(readString(i.dataSet!, 'x00081150'))) supersedes.push({ sopInstanceUid: uid, seriesInstanceUid });
      else instanceUids.push(uid);
    }
    if (instanceUids.length > 0 || !supersedes.some((s) => s.seriesInstanceUid === seriesInstanceUid)) referencedSeries.push({ seriesInstanceUid, instanceUids });
  }
  return { referencedSeries, supersedes };
}

/** Hierarchical SOP Instance Reference Macro items (study → series → ReferencedSOPSequence). */
function hierarchicalRefs(dataSet: DataSet, tag: string): Array<InstanceRef & { sopClassUid: string }> {
  const refs: Array<InstanceRef & { sopClassUid: string }> = [];
  for (const study of dataSet.elements[tag]?.items ?? []) {
    for (const series of study.dataSet?.elements['x00081115']?.items ?? []) {
      const seriesInstanceUid = readString(series.dataSet!, 'x0020000e');
      for (const sop of series.dataSet!.elements['x00081199']?.items ?? []) {
        const sopInstanceUid = readString(sop.dataSet!, 'x00081155');
        if (sopInstanceUid) refs.push({ sopInstanceUid, seriesInstanceUid, sopClassUid: readString(sop.dataSet!, 'x00081150') });
      }
    }
  }
  return refs;
}

const LINKED_KINDS = new Set<ObjectKind>(['SEG', 'SR', 'KO', 'PR', 'RTSTRUCT']);

/** Null for images and objects that refer to nothing: only these few classes pay for reading sequences. */
export function objectLinks(dataSet: DataSet, kind: ObjectKind): ObjectLinks | null {
  if (!LINKED_KINDS.has(kind)) return null;
  const links: ObjectLinks = { sourceSeries: [], sourceInstances: [], documents: [], supersedes: [], predecessors: [] };
  if (kind === 'SEG') {
    const { referencedSeries, supersedes } = segReferencedSeries(dataSet);
    for (const s of referencedSeries) {
      if (s.seriesInstanceUid) links.sourceSeries.push(s.seriesInstanceUid);
      links.sourceInstances.push(...s.instanceUids);
    }
    links.supersedes = supersedes;
  } else {
    // SR and KO list their evidence here; PR and RTSTRUCT (and some SRs) use the series-level sequence.
    const evidence = hierarchicalRefs(dataSet, 'x0040a375');
    for (const ref of evidence) {
      if (isSegClass(ref.sopClassUid)) links.documents.push({ sopInstanceUid: ref.sopInstanceUid, seriesInstanceUid: ref.seriesInstanceUid });
      else {
        links.sourceInstances.push(ref.sopInstanceUid);
        if (ref.seriesInstanceUid) links.sourceSeries.push(ref.seriesInstanceUid);
      }
    }
    for (const series of dataSet.elements['x00081115']?.items ?? []) {
      const uid = readString(series.dataSet!, 'x0020000e');
      if (uid) links.sourceSeries.push(uid);
    }
    links.predecessors = hierarchicalRefs(dataSet, 'x0040a360').map(({ sopInstanceUid, seriesInstanceUid }) => ({ sopInstanceUid, seriesInstanceUid }));
  }
  links.sourceSeries = [...new Set(links.sourceSeries)];
  links.sourceInstances = [...new Set(links.sourceInstances)];
  return links;
}
