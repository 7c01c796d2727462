// Coded concepts for segments and for the reasoning SR, as named constants (never
// strings typed in place), and the searchable pick list of common organs and
// findings. The sample's SNOMED CT table (electron/host/sample/anatomy-codes.ts) is
// reused where it overlaps, so a structure has one code everywhere in the app.
// Identifiers added here were checked against the DICOM master list that Slicer
// uses (QIICR dcmqi doc/segContexts/SegmentationCategoryTypeModifier-DICOM-Master.json).
import { ANATOMY, CATEGORY as SAMPLE_CATEGORY, MORPHOLOGY } from '../sample/anatomy-codes.ts';

/** A DICOM coded entry: CodeValue (SH), CodingSchemeDesignator (SH), CodeMeaning (LO). */
export interface Code {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

/** Why a code is refused, or null when it can be written as a Code Sequence item. */
export function codeProblem(code: Code | undefined | null): string | null {
  if (!code || typeof code !== 'object') return 'is missing';
  if (typeof code.value !== 'string' || code.value.trim() === '') return 'has an empty CodeValue';
  if (code.value.length > 16) return `has a CodeValue longer than 16 characters ("${code.value}")`;
  if (typeof code.scheme !== 'string' || !/^[A-Z0-9_.-]{1,16}$/i.test(code.scheme)) return `has an invalid CodingSchemeDesignator ("${String(code.scheme)}")`;
  if (typeof code.meaning !== 'string' || code.meaning.trim() === '') return 'has an empty CodeMeaning';
  if (code.meaning.length > 64) return `has a CodeMeaning longer than 64 characters ("${code.meaning.slice(0, 20)}…")`;
  if (/[\\\n\r]/.test(code.value + code.meaning)) return 'contains a backslash or line break';
  return null;
}

function coded(value: string, scheme: string, meaning: string): Code {
  const result = Object.freeze({ value, scheme, meaning });
  const problem = codeProblem(result);
  if (problem) throw new Error(`code table: ${scheme} ${value} ${problem}`);
  return result;
}
const sct = (value: string, meaning: string) => coded(value, 'SCT', meaning);
const dcm = (value: string, meaning: string) => coded(value, 'DCM', meaning);

/** Segmented Property Category (DICOM CID 7150). */
export const CATEGORY = {
  ...SAMPLE_CATEGORY,
  tissue: sct('85756007', 'Tissue'),
  bodySubstance: sct('91720002', 'Body Substance'),
  physicalObject: sct('260787004', 'Physical object'),
} as const;

/** Anatomic structures: the sample's, plus common organs of CT reading. */
export const STRUCTURE = {
  ...ANATOMY,
  heart: sct('80891009', 'Heart'),
  brain: sct('12738006', 'Brain'),
  spinalCord: sct('2748008', 'Spinal cord'),
  trachea: sct('44567001', 'Trachea'),
  esophagus: sct('32849002', 'Esophagus'),
  stomach: sct('69695003', 'Stomach'),
  duodenum: sct('38848004', 'Duodenum'),
  smallIntestine: sct('30315005', 'Small Intestine'),
  colon: sct('71854001', 'Colon'),
  rectum: sct('34402009', 'Rectum'),
  gallbladder: sct('28231008', 'Gallbladder'),
  pancreas: sct('15776009', 'Pancreas'),
  adrenalGland: sct('23451007', 'Adrenal gland'),
  bladder: sct('89837001', 'Bladder'),
  prostate: sct('41216001', 'Prostate'),
  uterus: sct('35039007', 'Uterus'),
  thyroid: sct('69748006', 'Thyroid'),
  breast: sct('76752008', 'Breast'),
  pulmonaryArtery: sct('81040000', 'Pulmonary artery'),
  inferiorVenaCava: sct('64131007', 'Inferior vena cava'),
  portalVein: sct('32764006', 'Portal vein'),
  vertebra: sct('51282000', 'Vertebra'),
  rib: sct('113197003', 'Rib'),
  sternum: sct('56873002', 'Sternum'),
  pelvis: sct('12921003', 'Pelvis'),
  femur: sct('71341001', 'Femur'),
  lymphNode: sct('59441001', 'Lymph node'),
} as const;

/** Tissues (types under the Tissue category). */
export const TISSUE = {
  bone: sct('272673000', 'Bone'),
  muscle: sct('71616004', 'Muscle'),
  bodyFat: sct('248300009', 'Body fat'),
  skin: sct('39937001', 'Skin'),
} as const;

/** Morphologically altered structures (DICOM CID 7159): the sample's, plus common findings. */
export const FINDING = {
  ...MORPHOLOGY,
  neoplasm: sct('108369006', 'Neoplasm'),
  edema: sct('79654002', 'Edema'),
  hemorrhage: sct('50960005', 'Hemorrhage'),
  abscess: sct('44132006', 'Abscess'),
  necrosis: sct('6574001', 'Necrosis'),
  inflammation: sct('23583003', 'Inflammation'),
  bloodClot: sct('75753009', 'Blood clot'),
  embolus: sct('55584005', 'Embolus'),
} as const;

/** DICOM (DCM) concepts the SEG and SR writers need. */
export const DCM = {
  segmentation: dcm('113076', 'Segmentation'),
  sourceImageForProcessing: dcm('121322', 'Source image for image processing operation'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUniqueIdentifier: dcm('112040', 'Tracking Unique Identifier'),
  referencedSegment: dcm('121191', 'Referenced Segment'),
  sourceSeriesForSegmentation: dcm('121232', 'Source series for segmentation'),
  finding: dcm('121071', 'Finding'),
  algorithmName: dcm('111001', 'Algorithm Name'),
  algorithmVersion: dcm('111003', 'Algorithm Version'),
  algorithmParameters: dcm('111002', 'Algorithm Parameters'),
  // TID 1500 Measurement Report and its observation context (TID 1001, 1004).
  imagingMeasurementReport: dcm('126000', 'Imaging Measurement Report'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  languageOfContent: dcm('121049', 'Language of Content Item and Descendants'),
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  deviceObserverManufacturer: dcm('121014', 'Device Observer Manufacturer'),
  procedureReported: dcm('121058', 'Procedure reported'),
  imageRegion: dcm('111030', 'Image Region'),
} as const;

/** SNOMED CT concepts of the measurement report. */
export const SCT = {
  imagingProcedure: sct('363679005', 'Imaging procedure'),
  /** The IMAGE a region is selected from (TID 1410, as highdicom writes it). */
  source: sct('260753009', 'Source'),
  volume: sct('118565006', 'Volume'),
  mean: sct('373098007', 'Mean'),
} as const;

/** Units (UCUM) of the report's measurements. */
export const UCUM = {
  cubicMillimeter: coded('mm3', 'UCUM', 'cubic millimeter'),
  hounsfieldUnit: coded("[hnsf'U]", 'UCUM', 'Hounsfield unit'),
} as const;

export const LANGUAGE_EN_US = coded('en-US', 'RFC5646', 'English (United States)');

/** LOINC: the report's document title. */
export const LN = {
  diagnosticImagingReport: coded('18748-4', 'LN', 'Diagnostic imaging report'),
} as const;

/**
 * This app's private coding scheme (designators starting with 99 are private, PS3.16
 * 8.2): no standard concept names a free-text question, a reasoning trace or a prompt.
 */
export const PRIVATE_SCHEME = {
  designator: '99MEDR',
  name: 'MedReasoner private concepts',
  responsibleOrganization: 'MedReasoner Workstation',
} as const;
const medr = (value: string, meaning: string) => coded(value, PRIVATE_SCHEME.designator, meaning);

export const MEDR = {
  aiSegment: medr('AI-SEGMENT', 'AI segment'),
  question: medr('QUESTION', 'Clinical question'),
  reasoning: medr('REASONING', 'Reasoning trace'),
  answer: medr('ANSWER', 'Model answer'),
  provenance: medr('PROVENANCE', 'Segment provenance'),
  positivePoint: medr('PROMPT-POINT-POS', 'Positive point prompt'),
  negativePoint: medr('PROMPT-POINT-NEG', 'Negative point prompt'),
  boxPrompt: medr('PROMPT-BOX', 'Box prompt'),
  model: medr('MODEL', 'Model'),
  /** Stands in for a missing or unusable code in a SEG written elsewhere (reported as a warning). */
  uncoded: medr('UNCODED', 'Uncoded structure'),
} as const;

/** One row of the segment pick list: what the segments panel offers to choose from. */
export interface TermEntry {
  /** Stable key for the UI, e.g. "liver". */
  readonly id: string;
  readonly category: Code;
  readonly type: Code;
  /** Where a finding lies, when the entry is organ-specific (AnatomicRegionSequence). */
  readonly anatomicRegion?: Code;
}

function entries(category: Code, table: Record<string, Code>): TermEntry[] {
  return Object.entries(table).map(([id, type]) => Object.freeze({ id, category, type }));
}

/** Common organs, tissues and findings, in the order a pick list shows them. */
export const TERMS: readonly TermEntry[] = Object.freeze([
  ...entries(CATEGORY.anatomicalStructure, STRUCTURE),
  ...entries(CATEGORY.tissue, TISSUE),
  ...entries(CATEGORY.morphologicallyAbnormalStructure, FINDING),
]);

/**
 * Pick-list search: every word of the query must start a word of the meaning, or
 * match the id or the code value exactly. Results keep TERMS order, best first
 * (a meaning that starts with the query ranks above one that only contains it).
 */
export function searchTerms(query: string, limit = 20): TermEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return TERMS.slice(0, limit);
  const scored: Array<{ entry: TermEntry; score: number; order: number }> = [];
  TERMS.forEach((entry, order) => {
    const meaning = entry.type.meaning.toLowerCase();
    const meaningWords = meaning.split(/[\s,()-]+/);
    const matches = words.every(
      (w) => meaningWords.some((m) => m.startsWith(w)) || entry.id.toLowerCase() === w || entry.type.value === w,
    );
    if (!matches) return;
    const score = meaning.startsWith(words.join(' ')) ? 0 : 1;
    scored.push({ entry, score, order });
  });
  scored.sort((a, b) => a.score - b.score || a.order - b.order);
  return scored.slice(0, limit).map((s) => s.entry);
}

/** The entry whose type code is this one, if it is in the table. */
export function termForType(type: Code): TermEntry | undefined {
  return TERMS.find((t) => t.type.value === type.value && t.type.scheme === type.scheme);
}

export function sameCode(a: Code, b: Code): boolean {
  return a.value === b.value && a.scheme === b.scheme;
}
