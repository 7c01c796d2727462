// The reasoning report: a Comprehensive SR (1.2.840.10008.5.1.4.1.1.88.33) in the
// SEG's study, in its own series, that records for each AI segment the question, the
// reasoning trace, the raw answer, the prompts (SCOORD on the source image), the
// models (name and version) and the segment in the SEG it produced. No standard
// template carries a free-text question or a reasoning trace, so those concepts are
// in the app's private scheme (99MEDR, declared in CodingSchemeIdentificationSequence);
// the structure borrows TID 1411's Tracking Identifier, Referenced Segment and
// Source series for segmentation items, so a TID 1500 reader finds familiar parts.
import { DCM, LN, MEDR, PRIVATE_SCHEME, type Code } from './codes.ts';
import type { NaturalDataset } from './dcmjs-module.ts';
import { codeItem, dicomDate, dicomTime, formatDecimalString, newUid } from './dicom-values.ts';
import { encodeWithDcmjs } from './part10.ts';
import {
  CompletionFlag,
  ContinuityOfContent,
  GraphicType,
  RelationshipType,
  SopClass,
  ValueType,
  VerificationFlag,
} from './seg-enums.ts';
import { DEFAULT_EQUIPMENT, type Equipment } from './seg-writer.ts';
import type { Prompt, Segment } from './segment.ts';
import type { Segmentation } from './segmentation.ts';
import { isLenientUid, isStrictUid, longStringProblem, Problems, quoted, SegValidationError } from './validation.ts';

/** The SEG instance the report points at. */
export interface SegReference {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
}

export interface SrWriteOptions {
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  equipment?: Partial<Equipment>;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  now?: Date;
}

export interface EncodedSr {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** Segment numbers reported (the AI segments). */
  segmentNumbers: number[];
}

type Item = NaturalDataset;

function contentItem(relationship: string, valueType: string, concept: Code, value: Item = {}): Item {
  return { RelationshipType: relationship, ValueType: valueType, ConceptNameCodeSequence: [codeItem(concept)], ...value };
}

const text = (concept: Code, value: string) => contentItem(RelationshipType.CONTAINS, ValueType.TEXT, concept, { TextValue: value });

function container(relationship: string | null, concept: Code, children: Item[]): Item {
  const item: Item = {
    ValueType: ValueType.CONTAINER,
    ConceptNameCodeSequence: [codeItem(concept)],
    ContinuityOfContent: ContinuityOfContent.SEPARATE,
    ContentSequence: children,
  };
  if (relationship !== null) item.RelationshipType = relationship;
  return item;
}

export function encodeReasoningSr(segmentation: Segmentation, seg: SegReference, options: SrWriteOptions = {}): EncodedSr {
  const problems = new Problems('reasoning SR');
  const aiSegments = segmentation.segments.filter((s) => s.isAi);
  problems.check(aiSegments.length > 0, 'no segment came from a model (provenance ai or ai-edited): the reasoning SR reports AI segments only');
  problems.check(isLenientUid(seg.sopInstanceUid), `SEG SOPInstanceUID ${quoted(seg.sopInstanceUid)} is not a UID`);
  problems.check(seg.sopClassUid === SopClass.segmentation || seg.sopClassUid === SopClass.labelMapSegmentation, `${quoted(seg.sopClassUid)} is not a Segmentation SOP class`);
  const description = options.seriesDescription ?? 'AI reasoning report';
  const descriptionProblem = longStringProblem(description, { required: true });
  problems.check(descriptionProblem === null, () => `seriesDescription ${descriptionProblem}`);
  for (const [field, value] of [['seriesInstanceUid', options.seriesInstanceUid], ['sopInstanceUid', options.sopInstanceUid]] as const) {
    if (value !== undefined) problems.check(isStrictUid(value), `${field} ${quoted(value)} is not a valid UID`);
  }
  const equipment = { ...DEFAULT_EQUIPMENT, ...options.equipment };
  for (const [field, value] of Object.entries(equipment)) {
    const problem = longStringProblem(value, { required: true });
    problems.check(problem === null, () => `equipment ${field} ${problem}`);
  }
  const now = options.now ?? new Date();
  problems.throwIfAny();

  const source = segmentation.source;
  const ps = source.patientStudy;
  const sopInstanceUid = options.sopInstanceUid ?? newUid();
  const seriesInstanceUid = options.seriesInstanceUid ?? newUid();
  const date = dicomDate(now);
  const time = dicomTime(now);

  const promptSlices = new Set<number>();
  const groups = aiSegments.map((segment) => segmentGroup(segment, segmentation, seg, promptSlices));

  const sourceReferences = [...promptSlices].sort((a, b) => a - b).map((k) => {
    const slice = source.slices[k]!;
    return { ReferencedSOPClassUID: slice.sopClassUid, ReferencedSOPInstanceUID: slice.sopInstanceUid };
  });
  const uniqueSourceReferences = [...new Map(sourceReferences.map((r) => [r.ReferencedSOPInstanceUID, r])).values()];
  const evidenceSeries: Item[] = [
    { ReferencedSOPSequence: [{ ReferencedSOPClassUID: seg.sopClassUid, ReferencedSOPInstanceUID: seg.sopInstanceUid }], SeriesInstanceUID: seg.seriesInstanceUid },
  ];
  if (uniqueSourceReferences.length > 0) evidenceSeries.push({ ReferencedSOPSequence: uniqueSourceReferences, SeriesInstanceUID: source.seriesInstanceUid });

  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SopClass.comprehensiveSr,
    SOPInstanceUID: sopInstanceUid,
    StudyDate: ps.studyDate,
    SeriesDate: date,
    ContentDate: date,
    StudyTime: ps.studyTime,
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: ps.accessionNumber,
    Modality: 'SR',
    Manufacturer: equipment.manufacturer,
    ReferringPhysicianName: ps.referringPhysicianName,
    CodingSchemeIdentificationSequence: [
      {
        CodingSchemeDesignator: PRIVATE_SCHEME.designator,
        CodingSchemeName: PRIVATE_SCHEME.name,
        CodingSchemeResponsibleOrganization: PRIVATE_SCHEME.responsibleOrganization,
      },
    ],
    StudyDescription: ps.studyDescription,
    SeriesDescription: description,
    ManufacturerModelName: equipment.modelName,
    ReferencedPerformedProcedureStepSequence: [],
    PatientName: ps.patientName,
    PatientID: ps.patientId,
    PatientBirthDate: ps.patientBirthDate,
    PatientSex: ps.patientSex,
    DeviceSerialNumber: equipment.deviceSerialNumber,
    SoftwareVersions: equipment.softwareVersions,
    StudyInstanceUID: ps.studyInstanceUid,
    SeriesInstanceUID: seriesInstanceUid,
    StudyID: ps.studyId,
    SeriesNumber: String(options.seriesNumber ?? 301),
    InstanceNumber: String(options.instanceNumber ?? 1),
    ValueType: ValueType.CONTAINER,
    ConceptNameCodeSequence: [codeItem(LN.diagnosticImagingReport)],
    ContinuityOfContent: ContinuityOfContent.SEPARATE,
    CompletionFlag: CompletionFlag.COMPLETE,
    VerificationFlag: VerificationFlag.UNVERIFIED,
    CurrentRequestedProcedureEvidenceSequence: [{ ReferencedSeriesSequence: evidenceSeries, StudyInstanceUID: ps.studyInstanceUid }],
    PerformedProcedureCodeSequence: [],
    ContentSequence: groups,
  };
  return { bytes: encodeWithDcmjs(dataset), sopInstanceUid, seriesInstanceUid, segmentNumbers: aiSegments.map((s) => s.number) };
}

function segmentGroup(segment: Segment, segmentation: Segmentation, seg: SegReference, promptSlices: Set<number>): Item {
  const p = segment.provenance;
  const children: Item[] = [
    text(DCM.trackingIdentifier, segment.label),
    contentItem(RelationshipType.CONTAINS, ValueType.UIDREF, DCM.trackingUniqueIdentifier, { UID: newUid() }),
    contentItem(RelationshipType.CONTAINS, ValueType.CODE, DCM.finding, { ConceptCodeSequence: [codeItem(segment.type)] }),
    contentItem(RelationshipType.CONTAINS, ValueType.IMAGE, DCM.referencedSegment, {
      ReferencedSOPSequence: [
        { ReferencedSOPClassUID: seg.sopClassUid, ReferencedSOPInstanceUID: seg.sopInstanceUid, ReferencedSegmentNumber: [segment.number] },
      ],
    }),
    contentItem(RelationshipType.CONTAINS, ValueType.UIDREF, DCM.sourceSeriesForSegmentation, { UID: segmentation.source.seriesInstanceUid }),
    text(MEDR.provenance, p.source),
  ];
  if (p.question !== undefined && p.question !== '') children.push(text(MEDR.question, p.question));
  if (p.reasoning !== undefined && p.reasoning !== '') children.push(text(MEDR.reasoning, p.reasoning));
  if (p.answer !== undefined && p.answer !== '') children.push(text(MEDR.answer, p.answer));
  for (const model of p.models ?? []) {
    children.push(container(RelationshipType.CONTAINS, MEDR.model, [text(DCM.algorithmName, model.name), text(DCM.algorithmVersion, model.version)]));
  }
  for (const prompt of p.prompts ?? []) {
    promptSlices.add(prompt.sliceIndex);
    children.push(promptItem(prompt, segmentation));
  }
  return container(RelationshipType.CONTAINS, MEDR.aiSegment, children);
}

function promptItem(prompt: Prompt, segmentation: Segmentation): Item {
  const slice = segmentation.source.slices[prompt.sliceIndex];
  if (!slice) throw new SegValidationError('reasoning SR', [`prompt on slice ${prompt.sliceIndex}, which the source does not have`]);
  const image: Item = { ReferencedSOPClassUID: slice.sopClassUid, ReferencedSOPInstanceUID: slice.sopInstanceUid };
  if (slice.frameNumber !== null) image.ReferencedFrameNumber = [slice.frameNumber];
  const selectedFrom = contentItem(RelationshipType.SELECTED_FROM, ValueType.IMAGE, DCM.sourceImageForProcessing, { ReferencedSOPSequence: [image] });
  const fl = (v: number) => Number(formatDecimalString(v));
  if (prompt.kind === 'point') {
    return contentItem(RelationshipType.CONTAINS, ValueType.SCOORD, prompt.label === 'positive' ? MEDR.positivePoint : MEDR.negativePoint, {
      GraphicData: [fl(prompt.x), fl(prompt.y)],
      GraphicType: GraphicType.POINT,
      ContentSequence: [selectedFrom],
    });
  }
  const { x0, y0, x1, y1 } = prompt;
  return contentItem(RelationshipType.CONTAINS, ValueType.SCOORD, MEDR.boxPrompt, {
    // A closed polyline: the first point repeated last (PS3.3 C.18.6.1.2).
    GraphicData: [x0, y0, x1, y0, x1, y1, x0, y1, x0, y0].map(fl),
    GraphicType: GraphicType.POLYLINE,
    ContentSequence: [selectedFrom],
  });
}
