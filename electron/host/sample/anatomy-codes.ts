// SNOMED CT concepts for the sample's structures, as DICOM coded entries
// (CodingSchemeDesignator "SCT"). They live in one table so the ground truth,
// a later DICOM-SEG export and any report name structures the same way, and so
// a wrong code is fixed in one place. Only concepts whose identifiers are
// certain are listed; the sample's structures map onto them in label-table.ts.

export interface CodedConcept {
  /** CodeValue (0008,0100). */
  readonly value: string;
  /** CodingSchemeDesignator (0008,0102). */
  readonly scheme: 'SCT';
  /** CodeMeaning (0008,0104). */
  readonly meaning: string;
}

function sct(value: string, meaning: string): CodedConcept {
  return { value, scheme: 'SCT', meaning };
}

/** Segmented Property Category codes (DICOM CID 7150). */
export const CATEGORY = {
  anatomicalStructure: sct('123037004', 'Anatomical Structure'),
  morphologicallyAbnormalStructure: sct('49755003', 'Morphologically Abnormal Structure'),
} as const;

/** Anatomic structures (DICOM CID 7153 and neighbours). */
export const ANATOMY = {
  entireBody: sct('38266002', 'Entire body'),
  lung: sct('39607008', 'Lung'),
  leftLung: sct('44029006', 'Left lung'),
  rightLung: sct('3341006', 'Right lung'),
  liver: sct('10200004', 'Liver'),
  spleen: sct('78961009', 'Spleen'),
  kidney: sct('64033007', 'Kidney'),
  leftKidney: sct('18639004', 'Left kidney'),
  rightKidney: sct('9846003', 'Right kidney'),
  vertebralColumn: sct('421060004', 'Vertebral column'),
  aorta: sct('15825003', 'Aorta'),
} as const;

/** Morphologically abnormal structures (DICOM CID 7159). */
export const MORPHOLOGY = {
  mass: sct('4147007', 'Mass'),
  nodule: sct('27925004', 'Nodule'),
  cyst: sct('441457006', 'Cyst'),
} as const;
