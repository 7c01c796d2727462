// The sample's label values and what each one means. Values are stable across
// generator versions: tests, benchmarks and exported segmentations refer to them.
import { ANATOMY, CATEGORY, MORPHOLOGY, type CodedConcept } from './anatomy-codes.ts';

export const LABEL = {
  background: 0,
  body: 1,
  lung_left: 2,
  lung_right: 3,
  liver: 4,
  spleen: 5,
  kidney_left: 6,
  kidney_right: 7,
  spine: 8,
  aorta: 9,
  liver_lesion: 10,
  lung_nodule: 11,
  kidney_cyst: 12,
} as const;

export type LabelName = Exclude<keyof typeof LABEL, 'background'>;

export interface LabelEntry {
  value: number;
  name: LabelName;
  /** Display colour, 0-255 sRGB. */
  color: [number, number, number];
  category: CodedConcept;
  /** What the structure is (DICOM SegmentedPropertyType). */
  type: CodedConcept;
  /** For lesions: the organ they lie in (DICOM AnatomicRegion). */
  anatomicRegion?: CodedConcept;
}

const anatomical = CATEGORY.anatomicalStructure;
const abnormal = CATEGORY.morphologicallyAbnormalStructure;

export const LABEL_TABLE: readonly LabelEntry[] = [
  { value: LABEL.body, name: 'body', color: [177, 122, 101], category: anatomical, type: ANATOMY.entireBody },
  { value: LABEL.lung_left, name: 'lung_left', color: [172, 138, 115], category: anatomical, type: ANATOMY.leftLung },
  { value: LABEL.lung_right, name: 'lung_right', color: [197, 165, 145], category: anatomical, type: ANATOMY.rightLung },
  { value: LABEL.liver, name: 'liver', color: [221, 130, 101], category: anatomical, type: ANATOMY.liver },
  { value: LABEL.spleen, name: 'spleen', color: [157, 108, 162], category: anatomical, type: ANATOMY.spleen },
  { value: LABEL.kidney_left, name: 'kidney_left', color: [185, 102, 83], category: anatomical, type: ANATOMY.leftKidney },
  { value: LABEL.kidney_right, name: 'kidney_right', color: [203, 112, 93], category: anatomical, type: ANATOMY.rightKidney },
  { value: LABEL.spine, name: 'spine', color: [241, 214, 145], category: anatomical, type: ANATOMY.vertebralColumn },
  { value: LABEL.aorta, name: 'aorta', color: [224, 97, 76], category: anatomical, type: ANATOMY.aorta },
  {
    value: LABEL.liver_lesion,
    name: 'liver_lesion',
    color: [255, 220, 0],
    category: abnormal,
    type: MORPHOLOGY.mass,
    anatomicRegion: ANATOMY.liver,
  },
  {
    value: LABEL.lung_nodule,
    name: 'lung_nodule',
    color: [0, 220, 255],
    category: abnormal,
    type: MORPHOLOGY.nodule,
    anatomicRegion: ANATOMY.rightLung,
  },
  {
    value: LABEL.kidney_cyst,
    name: 'kidney_cyst',
    color: [80, 255, 120],
    category: abnormal,
    type: MORPHOLOGY.cyst,
    anatomicRegion: ANATOMY.leftKidney,
  },
];
