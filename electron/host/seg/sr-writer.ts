// The reasoning report as a TID 1500 Measurement Report (Comprehensive SR, in the SEG's
// study, its own series), so that viewers that read measurement reports (OHIF, Slicer's
// QuantitativeReporting, highdicom) show it. Per segment a model made:
//   - a TID 1411 volumetric ROI group: tracking identifier (the label) and UID, the
//     finding (the segment's type), the segmenting model as TID 4019 algorithm
//     identification, volume and mean HU as TID 1419 measurements, the segment in the
//     SEG, the source series, and in the app's private scheme (99MEDR) the provenance,
//     the question, the reasoning trace, the raw answer and every model in order;
//   - per prompt a TID 1410 planar ROI group on its source image, sharing the segment's
//     Tracking Unique Identifier (same finding); its tracking identifier is the one
//     Cornerstone's Probe / RectangleROI tools use, so OHIF draws the prompts.
// No standard concept names a free-text question or a reasoning trace: those stay in
// 99MEDR (declared in CodingSchemeIdentificationSequence).
import { DCM, LANGUAGE_EN_US, MEDR, PRIVATE_SCHEME, SCT, UCUM, type Code } from './codes.ts';
import type { NaturalDataset } from './dcmjs-module.ts';
import { codeItem, dicomDate, dicomTime, formatDecimalString, newUid } from './dicom-values.ts';
import { encodeWithDcmjs } from './part10.ts';
import {
  CompletionFlag,
  ContinuityOfContent,
  GraphicType,
  RelationshipType,
  SegmentAlgorithmType,
  SopClass,
  ValueType,
  VerificationFlag,
} from './seg-enums.ts';
import type { SegmentStatistics } from './segment-stats.ts';
import { DEFAULT_EQUIPMENT, type Equipment } from './seg-writer.ts';
import type { ModelId, Prompt, Segment } from './segment.ts';
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
  /** Per segment number; volume and mean HU become measurements. */
  statistics?: ReadonlyMap<number, SegmentStatistics>;
  /** The report this one replaces (a new version of the segmentation): Predecessor Documents. */
  predecessor?: { sopInstanceUid: string; seriesInstanceUid: string } | null;
}

export interface EncodedSr {
  bytes: Uint8Array;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** Segment numbers reported (the segments a model made). */
  segmentNumbers: number[];
}

/** Tracking identifiers of Cornerstone3D's tools: the adapters (OHIF) hydrate prompts from them. */
export const PROMPT_TRACKING_IDENTIFIER = {
  point: 'Cornerstone3DTools@^0.1.0:Probe',
  box: 'Cornerstone3DTools@^0.1.0:RectangleROI',
} as const;

type Item = NaturalDataset;

function contentItem(relationship: string, valueType: string, concept: Code, value: Item = {}): Item {
  return { RelationshipType: relationship, ValueType: valueType, ConceptNameCodeSequence: [codeItem(concept)], ...value };
}
const text = (relationship: string, concept: Code, value: string) => contentItem(relationship, ValueType.TEXT, concept, { TextValue: value });
const code = (relationship: string, concept: Code, value: Code) => contentItem(relationship, ValueType.CODE, concept, { ConceptCodeSequence: [codeItem(value)] });
const uidRef = (relationship: string, concept: Code, uid: string) => contentItem(relationship, ValueType.UIDREF, concept, { UID: uid });

function container(relationship: string | null, concept: Code, children: Item[], template?: string): Item {
  const item: Item = {
    ValueType: ValueType.CONTAINER,
    ConceptNameCodeSequence: [codeItem(concept)],
    ContinuityOfContent: ContinuityOfContent.SEPARATE,
    ContentSequence: children,
  };
  if (template !== undefined) item.ContentTemplateSequence = [{ MappingResource: 'DCMR', TemplateIdentifier: template }];
  if (relationship !== null) item.RelationshipType = relationship;
  return item;
}

/** TID 4019: name, version and, for a model that ran elsewhere, the server as a parameter. */
export function algorithmIdentification(model: ModelId): Item[] {
  const items = [text(RelationshipType.HAS_CONCEPT_MOD, DCM.algorithmName, model.name), text(RelationshipType.HAS_CONCEPT_MOD, DCM.algorithmVersion, model.version)];
  if (model.server !== undefined) items.push(text(RelationshipType.HAS_CONCEPT_MOD, DCM.algorithmParameters, `${SERVER_PARAMETER}${model.server}`));
  return items;
}
export const SERVER_PARAMETER = 'server=';

function measurement(concept: Code, value: number, unit: Code): Item {
  return contentItem(RelationshipType.CONTAINS, ValueType.NUM, concept, {
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: [codeItem(unit)], NumericValue: formatDecimalString(value) }],
  });
}

/** The segments the report covers: every one a model computed (AUTOMATIC or SEMIAUTOMATIC). */
export function reportedSegments(segmentation: Segmentation): Segment[] {
  return segmentation.segments.filter((s) => s.algorithmType !== SegmentAlgorithmType.MANUAL);
}

export function encodeReasoningSr(segmentation: Segmentation, seg: SegReference, options: SrWriteOptions = {}): EncodedSr {
  const problems = new Problems('reasoning SR');
  const segments = reportedSegments(segmentation);
  problems.check(segments.length > 0, 'no segment came from a model (provenance ai, ai-edited or interactive): the reasoning SR reports model segments only');
  problems.check(isLenientUid(seg.sopInstanceUid), `SEG SOPInstanceUID ${quoted(seg.sopInstanceUid)} is not a UID`);
  problems.check(seg.sopClassUid === SopClass.segmentation || seg.sopClassUid === SopClass.labelMapSegmentation, `${quoted(seg.sopClassUid)} is not a Segmentation SOP class`);
  const description = options.seriesDescription ?? 'AI reasoning report';
  const descriptionProblem = longStringProblem(description, { required: true });
  problems.check(descriptionProblem === null, () => `seriesDescription ${descriptionProblem}`);
  for (const [field, value] of [['seriesInstanceUid', options.seriesInstanceUid], ['sopInstanceUid', options.sopInstanceUid]] as const) {
    if (value !== undefined) problems.check(isStrictUid(value), `${field} ${quoted(value)} is not a valid UID`);
  }
  if (options.predecessor) problems.check(isLenientUid(options.predecessor.sopInstanceUid), `predecessor ${quoted(options.predecessor.sopInstanceUid)} is not a UID`);
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
  const groups = segments.flatMap((segment) => segmentGroups(segment, segmentation, seg, options.statistics?.get(segment.number), promptSlices));

  const sourceReferences = [...promptSlices].sort((a, b) => a - b).map((k) => {
    const slice = source.slices[k]!;
    return { ReferencedSOPClassUID: slice.sopClassUid, ReferencedSOPInstanceUID: slice.sopInstanceUid };
  });
  const uniqueSourceReferences = [...new Map(sourceReferences.map((r) => [r.ReferencedSOPInstanceUID, r])).values()];
  const evidenceSeries: Item[] = [
    { ReferencedSOPSequence: [{ ReferencedSOPClassUID: seg.sopClassUid, ReferencedSOPInstanceUID: seg.sopInstanceUid }], SeriesInstanceUID: seg.seriesInstanceUid },
  ];
  if (uniqueSourceReferences.length > 0) evidenceSeries.push({ ReferencedSOPSequence: uniqueSourceReferences, SeriesInstanceUID: source.seriesInstanceUid });

  const root: Item[] = [
    code(RelationshipType.HAS_CONCEPT_MOD, DCM.languageOfContent, LANGUAGE_EN_US),
    // TID 1001/1002/1004: the observer is this workstation, a device.
    code(RelationshipType.HAS_OBS_CONTEXT, DCM.observerType, DCM.device),
    uidRef(RelationshipType.HAS_OBS_CONTEXT, DCM.deviceObserverUid, deviceObserverUid(equipment)),
    text(RelationshipType.HAS_OBS_CONTEXT, DCM.deviceObserverName, equipment.modelName),
    text(RelationshipType.HAS_OBS_CONTEXT, DCM.deviceObserverManufacturer, equipment.manufacturer),
    code(RelationshipType.HAS_CONCEPT_MOD, DCM.procedureReported, SCT.imagingProcedure),
    container(RelationshipType.CONTAINS, DCM.imagingMeasurements, groups),
  ];

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
    ConceptNameCodeSequence: [codeItem(DCM.imagingMeasurementReport)],
    ContinuityOfContent: ContinuityOfContent.SEPARATE,
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    CompletionFlag: CompletionFlag.COMPLETE,
    VerificationFlag: VerificationFlag.UNVERIFIED,
    CurrentRequestedProcedureEvidenceSequence: [{ ReferencedSeriesSequence: evidenceSeries, StudyInstanceUID: ps.studyInstanceUid }],
    PerformedProcedureCodeSequence: [],
    ContentSequence: root,
  };
  if (options.predecessor) {
    dataset.PredecessorDocumentsSequence = [
      {
        ReferencedSeriesSequence: [
          {
            ReferencedSOPSequence: [{ ReferencedSOPClassUID: SopClass.comprehensiveSr, ReferencedSOPInstanceUID: options.predecessor.sopInstanceUid }],
            SeriesInstanceUID: options.predecessor.seriesInstanceUid,
          },
        ],
        StudyInstanceUID: ps.studyInstanceUid,
      },
    ];
  }
  return { bytes: encodeWithDcmjs(dataset), sopInstanceUid, seriesInstanceUid, segmentNumbers: segments.map((s) => s.number) };
}

/** One UID per equipment description, so every report of this workstation names the same observer. */
function deviceObserverUid(equipment: Equipment): string {
  let hash = 0n;
  for (const ch of `${equipment.manufacturer}\u0000${equipment.modelName}\u0000${equipment.deviceSerialNumber}`) hash = (hash * 131n + BigInt(ch.codePointAt(0)!)) % (1n << 120n);
  return `2.25.${hash.toString(10)}`;
}

function segmentGroups(segment: Segment, segmentation: Segmentation, seg: SegReference, stats: SegmentStatistics | undefined, promptSlices: Set<number>): Item[] {
  const p = segment.provenance;
  const trackingUid = newUid();
  const models = p.models ?? [];
  // The model that produced the mask is the last one (reasoning model first, segmenter last).
  const segmenter: ModelId | undefined = models.at(-1) ?? (segment.algorithmName !== null ? { name: segment.algorithmName, version: 'unknown' } : undefined);
  const children: Item[] = [
    text(RelationshipType.HAS_OBS_CONTEXT, DCM.trackingIdentifier, segment.label),
    uidRef(RelationshipType.HAS_OBS_CONTEXT, DCM.trackingUniqueIdentifier, trackingUid),
    code(RelationshipType.CONTAINS, DCM.finding, segment.type),
    ...(segmenter ? algorithmIdentification(segmenter) : []),
  ];
  if (stats) {
    children.push(measurement(SCT.volume, stats.volumeMm3, UCUM.cubicMillimeter));
    if (stats.meanHu !== null) children.push(measurement(SCT.mean, stats.meanHu, UCUM.hounsfieldUnit));
  }
  children.push(
    contentItem(RelationshipType.CONTAINS, ValueType.IMAGE, DCM.referencedSegment, {
      ReferencedSOPSequence: [
        { ReferencedSOPClassUID: seg.sopClassUid, ReferencedSOPInstanceUID: seg.sopInstanceUid, ReferencedSegmentNumber: [segment.number] },
      ],
    }),
    uidRef(RelationshipType.CONTAINS, DCM.sourceSeriesForSegmentation, segmentation.source.seriesInstanceUid),
    text(RelationshipType.CONTAINS, MEDR.provenance, p.source),
  );
  if (p.question !== undefined && p.question !== '') children.push(text(RelationshipType.CONTAINS, MEDR.question, p.question));
  if (p.reasoning !== undefined && p.reasoning !== '') children.push(text(RelationshipType.CONTAINS, MEDR.reasoning, p.reasoning));
  if (p.answer !== undefined && p.answer !== '') children.push(text(RelationshipType.CONTAINS, MEDR.answer, p.answer));
  for (const model of models) children.push(container(RelationshipType.CONTAINS, MEDR.model, algorithmIdentification(model)));
  const volumetric = container(RelationshipType.CONTAINS, DCM.measurementGroup, children, '1411');
  const planar = (p.prompts ?? []).map((prompt) => {
    promptSlices.add(prompt.sliceIndex);
    return promptGroup(prompt, trackingUid, segmentation);
  });
  return [volumetric, ...planar];
}

function promptGroup(prompt: Prompt, trackingUid: string, segmentation: Segmentation): Item {
  const slice = segmentation.source.slices[prompt.sliceIndex];
  if (!slice) throw new SegValidationError('reasoning SR', [`prompt on slice ${prompt.sliceIndex}, which the source does not have`]);
  const image: Item = { ReferencedSOPClassUID: slice.sopClassUid, ReferencedSOPInstanceUID: slice.sopInstanceUid };
  if (slice.frameNumber !== null) image.ReferencedFrameNumber = [slice.frameNumber];
  const selectedFrom = contentItem(RelationshipType.SELECTED_FROM, ValueType.IMAGE, SCT.source, { ReferencedSOPSequence: [image] });
  const fl = (v: number) => Number(formatDecimalString(v));
  let kind: Code;
  let region: Item;
  if (prompt.kind === 'point') {
    kind = prompt.label === 'positive' ? MEDR.positivePoint : MEDR.negativePoint;
    region = contentItem(RelationshipType.CONTAINS, ValueType.SCOORD, DCM.imageRegion, { GraphicData: [fl(prompt.x), fl(prompt.y)], GraphicType: GraphicType.POINT, ContentSequence: [selectedFrom] });
  } else {
    const { x0, y0, x1, y1 } = prompt;
    kind = MEDR.boxPrompt;
    region = contentItem(RelationshipType.CONTAINS, ValueType.SCOORD, DCM.imageRegion, {
      // A closed polyline: the first point repeated last (PS3.3 C.18.6.1.2).
      GraphicData: [x0, y0, x1, y0, x1, y1, x0, y1, x0, y0].map(fl),
      GraphicType: GraphicType.POLYLINE,
      ContentSequence: [selectedFrom],
    });
  }
  return container(
    RelationshipType.CONTAINS,
    DCM.measurementGroup,
    [
      text(RelationshipType.HAS_OBS_CONTEXT, DCM.trackingIdentifier, PROMPT_TRACKING_IDENTIFIER[prompt.kind]),
      uidRef(RelationshipType.HAS_OBS_CONTEXT, DCM.trackingUniqueIdentifier, trackingUid),
      code(RelationshipType.CONTAINS, DCM.finding, kind),
      region,
    ],
    '1410',
  );
}
