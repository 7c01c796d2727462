// Reads a reasoning report back (ours: TID 1500 as sr-writer.ts writes it) so an import
// restores what the SEG alone cannot carry: per segment the provenance, question,
// reasoning, raw answer, models and prompts. Keys are the SEG instance and segment
// number the TID 1411 group references; prompts join their segment by the shared
// Tracking Unique Identifier. Anything not ours (no 99MEDR provenance) is left alone.
// Parsed with the index's own parser, which decodes text by SpecificCharacterSet in
// nested items too (dcmjs 0.52 reads UTF-8 text inside sequences as Latin-1).
import type { DataSet } from 'dicom-parser';
import { parseHeader } from '../dicom/dataset-parser.ts';
import { readString, readText } from '../dicom/dataset-values.ts';
import { decoderLabelFor } from '../dicom/text-decoding.ts';
import { DCM, MEDR, SCT } from './codes.ts';
import { ProvenanceSource, SopClass } from './seg-enums.ts';
import type { ModelId } from './segment.ts';
import { SERVER_PARAMETER } from './sr-writer.ts';

export interface ReportedPrompt {
  kind: 'point' | 'box';
  label: 'positive' | 'negative' | null;
  /** SCOORD GraphicData: (x, y) pairs in the image's pixel space. */
  graphicData: number[];
  sopInstanceUid: string;
  frameNumber: number | null;
}

export interface ReportedSegment {
  segSopInstanceUid: string;
  segmentNumber: number;
  source: ProvenanceSource | null;
  question?: string;
  reasoning?: string;
  answer?: string;
  models: ModelId[];
  prompts: ReportedPrompt[];
}

export interface ParsedReport {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  /** Every SEG instance the report lists as evidence. */
  segInstanceUids: string[];
  segments: ReportedSegment[];
}

const TAG = {
  contentSequence: 'x0040a730',
  conceptName: 'x0040a043',
  conceptCode: 'x0040a168',
  textValue: 'x0040a160',
  uid: 'x0040a124',
  referencedSop: 'x00081199',
  referencedSopClass: 'x00081150',
  referencedSopInstance: 'x00081155',
  referencedFrame: 'x00081160',
  referencedSegment: 'x0062000b',
  graphicData: 'x00700022',
  evidence: 'x0040a375',
  referencedSeries: 'x00081115',
} as const;

const SOURCES = new Set<string>(Object.values(ProvenanceSource));
const items = (ds: DataSet | undefined, tag: string): DataSet[] => (ds?.elements[tag]?.items ?? []).map((i) => i.dataSet!).filter(Boolean);
const codeOf = (item: DataSet | undefined) => (item ? { value: readString(item, 'x00080100'), scheme: readString(item, 'x00080102') } : null);
const is = (item: DataSet, code: { value: string; scheme: string }) => {
  const c = codeOf(items(item, TAG.conceptName)[0]);
  return c !== null && c.value === code.value && c.scheme === code.scheme;
};

/** Null when the file is not a Comprehensive SR. */
export function parseReasoningSr(bytes: Uint8Array): ParsedReport | null {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dataSet: ds } = parseHeader(buffer, buffer.length);
  if (readString(ds, 'x00080060') !== 'SR' || readString(ds, 'x00080016') !== SopClass.comprehensiveSr) return null;
  const charset = decoderLabelFor(readString(ds, 'x00080005'));
  const text = (item: DataSet) => readText(item, TAG.textValue, charset);
  const segInstanceUids: string[] = [];
  for (const study of items(ds, TAG.evidence)) {
    for (const series of items(study, TAG.referencedSeries)) {
      for (const ref of items(series, TAG.referencedSop)) {
        const cls = readString(ref, TAG.referencedSopClass);
        if (cls === SopClass.segmentation || cls === SopClass.labelMapSegmentation) segInstanceUids.push(readString(ref, TAG.referencedSopInstance));
      }
    }
  }
  const measurements = items(ds, TAG.contentSequence).find((c) => is(c, DCM.imagingMeasurements));
  const groups = items(measurements, TAG.contentSequence).filter((c) => is(c, DCM.measurementGroup));
  const byTracking = new Map<string, ReportedSegment>();
  const segments: ReportedSegment[] = [];
  const prompts: Array<{ tracking: string; prompt: ReportedPrompt }> = [];
  for (const group of groups) {
    const children = items(group, TAG.contentSequence);
    const trackingItem = children.find((c) => is(c, DCM.trackingUniqueIdentifier));
    const tracking = trackingItem ? readString(trackingItem, TAG.uid) : '';
    const segmentRef = children.find((c) => is(c, DCM.referencedSegment));
    if (segmentRef) {
      const ref = items(segmentRef, TAG.referencedSop)[0];
      if (!ref) continue;
      const textOf = (code: { value: string; scheme: string }) => {
        const found = children.find((c) => is(c, code));
        return found === undefined ? undefined : text(found);
      };
      const source = textOf(MEDR.provenance);
      const segment: ReportedSegment = {
        segSopInstanceUid: readString(ref, TAG.referencedSopInstance),
        segmentNumber: ref.uint16(TAG.referencedSegment) ?? 0,
        source: source !== undefined && SOURCES.has(source) ? (source as ProvenanceSource) : null,
        models: children.filter((c) => is(c, MEDR.model)).map((c) => modelOf(items(c, TAG.contentSequence), text)),
        prompts: [],
      };
      for (const [field, code] of [['question', MEDR.question], ['reasoning', MEDR.reasoning], ['answer', MEDR.answer]] as const) {
        const value = textOf(code);
        if (value !== undefined) segment[field] = value;
      }
      segments.push(segment);
      if (tracking) byTracking.set(tracking, segment);
      continue;
    }
    const prompt = promptOf(children);
    if (prompt) prompts.push({ tracking, prompt });
  }
  for (const { tracking, prompt } of prompts) byTracking.get(tracking)?.prompts.push(prompt);
  return {
    sopInstanceUid: readString(ds, 'x00080018'),
    seriesInstanceUid: readString(ds, 'x0020000e'),
    studyInstanceUid: readString(ds, 'x0020000d'),
    segInstanceUids,
    segments,
  };
}

function modelOf(children: DataSet[], text: (item: DataSet) => string): ModelId {
  const textOf = (code: { value: string; scheme: string }) => children.filter((c) => is(c, code)).map(text);
  const model: ModelId = { name: textOf(DCM.algorithmName)[0] ?? '', version: textOf(DCM.algorithmVersion)[0] ?? '' };
  const server = textOf(DCM.algorithmParameters).find((p) => p.startsWith(SERVER_PARAMETER));
  if (server !== undefined) model.server = server.slice(SERVER_PARAMETER.length);
  return model;
}

function promptOf(children: DataSet[]): ReportedPrompt | null {
  const finding = children.find((c) => is(c, DCM.finding));
  const region = children.find((c) => is(c, DCM.imageRegion));
  if (!finding || !region) return null;
  const kindCode = codeOf(items(finding, TAG.conceptCode)[0]);
  const kindValue = kindCode && kindCode.scheme === MEDR.boxPrompt.scheme ? kindCode.value : '';
  const kind = kindValue === MEDR.boxPrompt.value ? 'box' : kindValue === MEDR.positivePoint.value || kindValue === MEDR.negativePoint.value ? 'point' : null;
  if (kind === null) return null;
  const imageItems = items(region, TAG.contentSequence);
  const image = imageItems.find((c) => is(c, SCT.source)) ?? imageItems[0];
  const ref = items(image, TAG.referencedSop)[0];
  if (!ref) return null;
  const element = region.elements[TAG.graphicData];
  const graphicData = element ? Array.from({ length: element.length / 4 }, (_, i) => region.float(TAG.graphicData, i)!) : [];
  const frameText = readString(ref, TAG.referencedFrame);
  return {
    kind,
    label: kind === 'box' ? null : kindValue === MEDR.positivePoint.value ? 'positive' : 'negative',
    graphicData,
    sopInstanceUid: readString(ref, TAG.referencedSopInstance),
    frameNumber: frameText === '' ? null : Number(frameText.split('\\')[0]),
  };
}
