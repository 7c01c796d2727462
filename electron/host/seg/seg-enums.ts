// Every DICOM code string the SEG and SR writers use, as named constants with their
// union types (erasable syntax: `as const` objects, not TypeScript enums). A value that
// is not in one of these tables cannot reach a data set.

export const SegmentationType = {
  BINARY: 'BINARY',
  LABELMAP: 'LABELMAP',
} as const;
export type SegmentationType = (typeof SegmentationType)[keyof typeof SegmentationType];

export const SegmentAlgorithmType = {
  AUTOMATIC: 'AUTOMATIC',
  SEMIAUTOMATIC: 'SEMIAUTOMATIC',
  MANUAL: 'MANUAL',
} as const;
export type SegmentAlgorithmType = (typeof SegmentAlgorithmType)[keyof typeof SegmentAlgorithmType];

/** Where a segment came from; decides its SegmentAlgorithmType (issue 7). */
export const ProvenanceSource = {
  manual: 'manual',
  ai: 'ai',
  aiEdited: 'ai-edited',
  /** Computed by a segmenter from the user's own prompts (box, points): not the model's own answer. */
  interactive: 'interactive',
} as const;
export type ProvenanceSource = (typeof ProvenanceSource)[keyof typeof ProvenanceSource];

/** AUTOMATIC for an AI mask accepted as it came; SEMIAUTOMATIC once edited, or when the user's prompts drove it; MANUAL otherwise. */
export const ALGORITHM_TYPE_FOR_SOURCE: Readonly<Record<ProvenanceSource, SegmentAlgorithmType>> = {
  manual: SegmentAlgorithmType.MANUAL,
  ai: SegmentAlgorithmType.AUTOMATIC,
  'ai-edited': SegmentAlgorithmType.SEMIAUTOMATIC,
  interactive: SegmentAlgorithmType.SEMIAUTOMATIC,
};

export const SopClass = {
  segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
  labelMapSegmentation: '1.2.840.10008.5.1.4.1.1.66.7',
  comprehensiveSr: '1.2.840.10008.5.1.4.1.1.88.33',
} as const;

export const SOP_CLASS_FOR_TYPE: Readonly<Record<SegmentationType, string>> = {
  BINARY: SopClass.segmentation,
  LABELMAP: SopClass.labelMapSegmentation,
};

export const TransferSyntax = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  rleLossless: '1.2.840.10008.1.2.5',
} as const;

export const SegmentsOverlap = { YES: 'YES', NO: 'NO', UNDEFINED: 'UNDEFINED' } as const;
export type SegmentsOverlap = (typeof SegmentsOverlap)[keyof typeof SegmentsOverlap];

export const PhotometricInterpretation = { MONOCHROME2: 'MONOCHROME2' } as const;

/** SR value types (PS3.3 C.17.3.2.1) used by the reasoning report. */
export const ValueType = {
  CONTAINER: 'CONTAINER',
  TEXT: 'TEXT',
  CODE: 'CODE',
  UIDREF: 'UIDREF',
  IMAGE: 'IMAGE',
  SCOORD: 'SCOORD',
  NUM: 'NUM',
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** SR relationship types (PS3.3 C.17.3.2.4). */
export const RelationshipType = {
  CONTAINS: 'CONTAINS',
  HAS_OBS_CONTEXT: 'HAS OBS CONTEXT',
  HAS_CONCEPT_MOD: 'HAS CONCEPT MOD',
  SELECTED_FROM: 'SELECTED FROM',
  INFERRED_FROM: 'INFERRED FROM',
} as const;
export type RelationshipType = (typeof RelationshipType)[keyof typeof RelationshipType];

export const GraphicType = { POINT: 'POINT', POLYLINE: 'POLYLINE', MULTIPOINT: 'MULTIPOINT' } as const;
export type GraphicType = (typeof GraphicType)[keyof typeof GraphicType];

export const ContinuityOfContent = { SEPARATE: 'SEPARATE', CONTINUOUS: 'CONTINUOUS' } as const;
export const CompletionFlag = { PARTIAL: 'PARTIAL', COMPLETE: 'COMPLETE' } as const;
export const VerificationFlag = { UNVERIFIED: 'UNVERIFIED', VERIFIED: 'VERIFIED' } as const;

/** Prompt kinds an AI segment may record (points and boxes on one source image). */
export const PromptKind = { point: 'point', box: 'box' } as const;
export type PromptKind = (typeof PromptKind)[keyof typeof PromptKind];
export const PointLabel = { positive: 'positive', negative: 'negative' } as const;
export type PointLabel = (typeof PointLabel)[keyof typeof PointLabel];
