// Pure: InstanceRecord[] → patients › studies › series › slices. Duplicated SOP
// Instance UIDs keep the first file; a series whose slices differ in size or
// orientation is split into parts "uid", "uid#2", … (largest part first).
import type { FileProblem, GeometryWarning, PatientSummary, SeriesLinks, SeriesSummary, StudySummary } from '../../common/dicom-model.ts';
import type { FileOutcome, HostSeries, HostSlice, SeriesInstance } from './import-types.ts';
import { isStackable, type InstanceRecord, type Orientation } from './instance-record.ts';
import { orderSlices, type SliceInput } from './slice-geometry.ts';

/** Two orientations are the same when no direction cosine differs by more than this. */
export const ORIENTATION_TOLERANCE = 1e-3;

export interface BuiltIndex {
  patients: PatientSummary[];
  /** In the order of the patients tree. */
  series: HostSeries[];
  duplicates: FileProblem[];
  /** One outcome per record, in record order (duplicates as problems). */
  outcomes: FileOutcome[];
}

interface Slice extends SliceInput {
  record: InstanceRecord;
}

interface Part {
  studyInstanceUid: string;
  /** Insertion-ordered and unique: a multi-frame instance may feed several parts. */
  records: Set<InstanceRecord>;
  /** Null for kinds that are not stacked. */
  slices: Slice[] | null;
  size: string | null;
  orientationGroup: number | null;
}

export function buildIndex(records: readonly InstanceRecord[]): BuiltIndex {
  const outcomes: FileOutcome[] = [];
  const duplicates: FileProblem[] = [];
  const firstBySop = new Map<string, InstanceRecord>();
  const bySeries = new Map<string, InstanceRecord[]>();
  const seriesKeyByPath = new Map<string, string>();

  for (const record of records) {
    if (record.kind === 'DICOMDIR') continue;
    const first = firstBySop.get(record.sopInstanceUid);
    if (first) {
      duplicates.push({
        path: record.path,
        reason: 'duplicate-instance',
        detail: `Same SOP Instance UID (${record.sopInstanceUid}) as ${first.path}, which is the one indexed.`,
      });
      continue;
    }
    firstBySop.set(record.sopInstanceUid, record);
    const group = bySeries.get(record.seriesInstanceUid);
    if (group) group.push(record);
    else bySeries.set(record.seriesInstanceUid, [record]);
  }

  const allSeries: HostSeries[] = [];
  for (const [uid, group] of bySeries) {
    for (const series of buildSeries(uid, group)) {
      allSeries.push(series);
      for (const instance of series.instances) if (!seriesKeyByPath.has(instance.path)) seriesKeyByPath.set(instance.path, series.summary.seriesKey);
    }
  }

  const duplicateByPath = new Map(duplicates.map((d) => [d.path, d]));
  for (const record of records) {
    const duplicate = duplicateByPath.get(record.path);
    if (duplicate) {
      outcomes.push({ path: record.path, outcome: 'problem', reason: duplicate.reason, detail: duplicate.detail });
    } else if (record.kind === 'DICOMDIR') {
      outcomes.push({ path: record.path, outcome: 'non-image', seriesKey: null, kind: 'DICOMDIR' });
    } else if (isStackable(record)) {
      outcomes.push({ path: record.path, outcome: 'instance', seriesKey: seriesKeyByPath.get(record.path)!, sopInstanceUid: record.sopInstanceUid, frames: record.numberOfFrames });
    } else {
      outcomes.push({ path: record.path, outcome: 'non-image', seriesKey: seriesKeyByPath.get(record.path)!, kind: record.kind });
    }
  }

  const { patients, series } = buildTree(allSeries, firstBySop);
  return { patients, series, duplicates, outcomes };
}

function buildSeries(uid: string, records: InstanceRecord[]): HostSeries[] {
  const parts = partition(records);
  parts.sort(
    (a, b) =>
      Number(b.slices !== null) - Number(a.slices !== null) ||
      (b.slices?.length ?? b.records.size) - (a.slices?.length ?? a.records.size),
  );
  const split = parts.length > 1;
  const imageParts = parts.filter((p) => p.slices !== null);
  const sizes = new Set(imageParts.map((p) => p.size));
  const orientations = new Set(imageParts.map((p) => p.orientationGroup));
  return parts.map((part, index) => {
    const seriesKey = index === 0 ? uid : `${uid}#${index + 1}`;
    const splitWarnings: GeometryWarning[] = [];
    if (part.slices && sizes.size > 1) {
      splitWarnings.push({
        code: 'mixed-size',
        message: `Series ${uid} mixes image sizes (${[...sizes].join(', ')}); this part holds the ${part.size} images (part ${index + 1} of ${parts.length}).`,
      });
    }
    if (part.slices && orientations.size > 1) {
      splitWarnings.push({
        code: 'mixed-orientation',
        message: `Series ${uid} mixes ${orientations.size} slice orientations; this part holds one of them (part ${index + 1} of ${parts.length}).`,
      });
    }
    return toHostSeries(part, seriesKey, split ? uid : null, splitWarnings);
  });
}

/** Splits by study (a reused series UID), kind, and for stacked slices by size and orientation. */
function partition(records: InstanceRecord[]): Part[] {
  const parts = new Map<string, Part>();
  const orientationGroups: Orientation[] = [];
  const orientationGroupOf = (orientation: Orientation | null): number => {
    if (!orientation) return -1;
    const found = orientationGroups.findIndex((o) => o.every((v, i) => Math.abs(v - orientation[i]!) <= ORIENTATION_TOLERANCE));
    if (found >= 0) return found;
    orientationGroups.push(orientation);
    return orientationGroups.length - 1;
  };
  const partFor = (key: string, make: () => Part) => {
    let part = parts.get(key);
    if (!part) parts.set(key, (part = make()));
    return part;
  };
  for (const record of records) {
    if (!isStackable(record)) {
      const part = partFor(`${record.studyInstanceUid}|${record.kind}`, () => ({ studyInstanceUid: record.studyInstanceUid, records: new Set(), slices: null, size: null, orientationGroup: null }));
      part.records.add(record);
      continue;
    }
    const size = `${record.rows}×${record.columns}`;
    for (const slice of slicesOf(record)) {
      const group = orientationGroupOf(slice.orientation);
      const part = partFor(`${record.studyInstanceUid}|${record.kind}|${size}|${group}`, () => ({
        studyInstanceUid: record.studyInstanceUid,
        records: new Set(),
        slices: [],
        size,
        orientationGroup: group,
      }));
      part.records.add(record);
      part.slices!.push(slice);
    }
  }
  return [...parts.values()];
}

/** One slice per frame; frames without their own geometry take the instance's. */
function slicesOf(record: InstanceRecord): Slice[] {
  const slices: Slice[] = [];
  const multiFrame = record.numberOfFrames > 1;
  for (let index = 0; index < record.numberOfFrames; index++) {
    const own = record.frames?.[index];
    slices.push({
      record,
      path: record.path,
      instanceNumber: record.instanceNumber,
      frame: multiFrame ? index + 1 : null,
      // A multi-frame instance's top-level position is not where its other frames are.
      position: own?.position ?? (multiFrame ? null : record.imagePositionPatient),
      orientation: own?.orientation ?? record.imageOrientationPatient,
      pixelSpacing: own?.pixelSpacing ?? record.pixelSpacing,
    });
  }
  return slices;
}

function toHostSeries(part: Part, seriesKey: string, splitFrom: string | null, splitWarnings: GeometryWarning[]): HostSeries {
  const records = [...part.records];
  const first = records[0]!;
  let slices: HostSlice[] = [];
  let instances: SeriesInstance[];
  let geometry: SeriesSummary['geometry'] = null;
  if (part.slices) {
    const { ordered, geometry: measured } = orderSlices(part.slices, {
      rows: first.rows ?? 0,
      columns: first.columns ?? 0,
      frameOfReferenceUid: records.find((r) => r.frameOfReferenceUid)?.frameOfReferenceUid ?? null,
    });
    geometry = { ...measured, warnings: [...splitWarnings, ...measured.warnings] };
    slices = ordered.map((s) => ({
      fileKey: s.record.fileKey,
      sopInstanceUid: s.record.sopInstanceUid,
      instanceNumber: s.instanceNumber,
      frame: s.frame,
      position: s.position,
      path: s.path,
    }));
    const seen = new Set<InstanceRecord>();
    instances = [];
    for (const s of ordered) {
      if (seen.has(s.record)) continue;
      seen.add(s.record);
      instances.push(instanceOf(s.record));
    }
  } else {
    instances = records
      .sort((a, b) => (a.instanceNumber ?? Number.MAX_SAFE_INTEGER) - (b.instanceNumber ?? Number.MAX_SAFE_INTEGER) || (a.path < b.path ? -1 : 1))
      .map(instanceOf);
  }
  return {
    summary: {
      seriesKey,
      seriesInstanceUid: first.seriesInstanceUid,
      studyInstanceUid: part.studyInstanceUid,
      seriesNumber: first.seriesNumber,
      modality: first.modality,
      description: first.seriesDescription,
      kind: first.kind,
      sopClassUid: first.sopClassUid,
      instanceCount: records.length,
      sliceCount: slices.length,
      geometry,
      splitFrom,
      ...seriesLinks(records),
    },
    patient: { patientId: first.patientId, patientName: first.patientName },
    slices,
    instances,
  };
}

function seriesLinks(records: readonly InstanceRecord[]): { links?: SeriesLinks } {
  const linked = records.flatMap((r) => (r.links ? [r.links] : []));
  if (linked.length === 0) return {};
  const uniqueRefs = (refs: Array<{ sopInstanceUid: string; seriesInstanceUid: string }>) => [...new Map(refs.map((r) => [r.sopInstanceUid, r])).values()];
  return {
    links: {
      sourceSeries: [...new Set(linked.flatMap((l) => l.sourceSeries))],
      documents: uniqueRefs(linked.flatMap((l) => l.documents)),
      supersedes: uniqueRefs(linked.flatMap((l) => l.supersedes)),
      predecessors: uniqueRefs(linked.flatMap((l) => l.predecessors)),
    },
  };
}

function instanceOf(record: InstanceRecord): SeriesInstance {
  return { path: record.path, fileKey: record.fileKey, sopInstanceUid: record.sopInstanceUid, instanceNumber: record.instanceNumber, kind: record.kind };
}

export function patientKeyOf(record: Pick<InstanceRecord, 'patientId' | 'patientName'>): string {
  if (record.patientId) return record.patientId;
  return record.patientName ? `name:${record.patientName}` : 'unidentified';
}

/** Groups series under studies and patients; sorted so the tree reads the same every time. */
function buildTree(allSeries: HostSeries[], firstBySop: Map<string, InstanceRecord>): { patients: PatientSummary[]; series: HostSeries[] } {
  const recordOfSeries = (s: HostSeries) => firstBySop.get(s.instances[0]!.sopInstanceUid)!;
  const studies = new Map<string, { record: InstanceRecord; series: HostSeries[] }>();
  for (const series of allSeries) {
    const key = series.summary.studyInstanceUid;
    const study = studies.get(key);
    if (study) study.series.push(series);
    else studies.set(key, { record: recordOfSeries(series), series: [series] });
  }
  const patients = new Map<string, { record: InstanceRecord; studies: { record: InstanceRecord; series: HostSeries[] }[] }>();
  for (const study of studies.values()) {
    const key = patientKeyOf(study.record);
    const patient = patients.get(key);
    if (patient) patient.studies.push(study);
    else patients.set(key, { record: study.record, studies: [study] });
  }

  const ordered: HostSeries[] = [];
  const summaries: PatientSummary[] = [...patients.entries()]
    .sort(([ka, a], [kb, b]) => compareText(a.record.patientName, b.record.patientName) || compareText(ka, kb))
    .map(([patientKey, patient]) => ({
      patientKey,
      patientId: patient.record.patientId,
      patientName: patient.record.patientName,
      birthDate: patient.record.birthDate,
      sex: patient.record.sex,
      studies: patient.studies
        .sort((a, b) => compareText(a.record.studyDate + a.record.studyTime, b.record.studyDate + b.record.studyTime) || compareText(a.record.studyInstanceUid, b.record.studyInstanceUid))
        .map((study): StudySummary => {
          const series = study.series.sort(compareSeries);
          ordered.push(...series);
          return {
            studyInstanceUid: study.record.studyInstanceUid,
            studyDate: study.record.studyDate,
            studyTime: study.record.studyTime,
            description: study.record.studyDescription,
            accessionNumber: study.record.accessionNumber,
            series: series.map((s) => s.summary),
          };
        }),
    }));
  return { patients: summaries, series: ordered };
}

function compareSeries(a: HostSeries, b: HostSeries): number {
  const na = a.summary.seriesNumber ?? Number.MAX_SAFE_INTEGER;
  const nb = b.summary.seriesNumber ?? Number.MAX_SAFE_INTEGER;
  return na - nb || a.summary.seriesKey.localeCompare(b.summary.seriesKey, 'en', { numeric: true });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
