// The reasoning SR: a Comprehensive SR in the SEG's study and its own series that, for
// each AI segment, records the question, the reasoning, the raw answer, the prompts as
// SCOORD on the source image, the models, and a reference to the segment in the SEG.
// Checked with dciodvfy (zero errors) and read back with pydicom.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { SopClass } from '../../electron/host/seg/seg-enums.ts';
import { encodeSegBytes } from '../../electron/host/seg/seg-writer.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { encodeReasoningSr } from '../../electron/host/seg/sr-writer.ts';
import { dciodvfy, runPydicom, tempDir, writeOddSeries, type OddSeries } from './seg-fixtures.ts';

const scratch = tempDir('seg-sr');
let odd: OddSeries;
beforeAll(async () => {
  odd = await writeOddSeries(path.join(scratch.path, 'odd'));
});
afterAll(() => scratch.remove());

interface Node {
  relationship: string | null;
  valueType: string;
  concept: [string, string, string];
  text?: string;
  uid?: string;
  code?: [string, string];
  graphicType?: string;
  graphicData?: number[];
  refs?: Array<{ cls: string; uid: string; segments: number[] | null }>;
  children: Node[];
}

const PYDICOM_SR_SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import pydicom
args = json.load(sys.stdin)
ds = pydicom.dcmread(args["path"])
def many(v):
    return [int(x) for x in v] if hasattr(v, "__iter__") else [int(v)]
def node(item, rel):
    c = item.ConceptNameCodeSequence[0]
    out = {"relationship": rel, "valueType": str(item.ValueType), "concept": [str(c.CodeValue), str(c.CodingSchemeDesignator), str(c.CodeMeaning)], "children": []}
    if "TextValue" in item: out["text"] = str(item.TextValue)
    if "UID" in item: out["uid"] = str(item.UID)
    if "ConceptCodeSequence" in item: out["code"] = [str(item.ConceptCodeSequence[0].CodeValue), str(item.ConceptCodeSequence[0].CodingSchemeDesignator)]
    if "GraphicType" in item:
        out["graphicType"] = str(item.GraphicType)
        out["graphicData"] = [float(v) for v in item.GraphicData]
    if "ReferencedSOPSequence" in item:
        out["refs"] = [{"cls": str(r.ReferencedSOPClassUID), "uid": str(r.ReferencedSOPInstanceUID),
                        "segments": many(r.ReferencedSegmentNumber) if "ReferencedSegmentNumber" in r else None} for r in item.ReferencedSOPSequence]
    for child in item.get("ContentSequence", []):
        out["children"].append(node(child, str(child.RelationshipType)))
    return out
evidence = []
for study in ds.CurrentRequestedProcedureEvidenceSequence:
    for series in study.ReferencedSeriesSequence:
        evidence.append({"study": str(study.StudyInstanceUID), "series": str(series.SeriesInstanceUID),
                         "instances": [str(r.ReferencedSOPInstanceUID) for r in series.ReferencedSOPSequence]})
print(json.dumps({"sopClassUid": str(ds.SOPClassUID), "modality": str(ds.Modality), "study": str(ds.StudyInstanceUID),
                  "series": str(ds.SeriesInstanceUID), "charset": str(ds.SpecificCharacterSet), "root": node(ds, None), "evidence": evidence,
                  "privateScheme": str(ds.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator)}))
`;

describe('reasoning SR', () => {
  const reasoning = 'Step 1: the liver is the large organ under the right hemidiaphragm.\nStep 2: a round 2 cm hypodense focus — likely a cyst (Hounsfield ≈ 5).';
  let seg: ReturnType<typeof encodeSegBytes>['seg'];
  let read: { sopClassUid: string; modality: string; study: string; series: string; charset: string; root: Node; evidence: Array<{ study: string; series: string; instances: string[] }>; privateScheme: string };
  let srFile: string;

  beforeAll(() => {
    const { source } = odd;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    labelmap.fill(1, source.pixelsPerSlice * 1, source.pixelsPerSlice * 1 + 20);
    labelmap.fill(2, source.pixelsPerSlice * 3 + 5, source.pixelsPerSlice * 3 + 9);
    labelmap.fill(3, source.pixelsPerSlice * 4, source.pixelsPerSlice * 4 + 3);
    const segmentation = new Segmentation({
      source,
      labelmap,
      segments: [
        {
          number: 1,
          label: 'Liver',
          color: [221, 130, 101],
          category: CATEGORY.anatomicalStructure,
          type: STRUCTURE.liver,
          provenance: {
            source: 'ai-edited',
            question: 'Is there a focal liver lesion?',
            reasoning,
            answer: '{"answer":"yes","box":[1,1,6.5,5]}',
            prompts: [
              { kind: 'box', sliceIndex: 1, x0: 1, y0: 1, x1: 6.5, y1: 5 },
              { kind: 'point', sliceIndex: 1, x: 3.5, y: 2.5, label: 'positive' },
              { kind: 'point', sliceIndex: 3, x: 10, y: 6, label: 'negative' },
            ],
            models: [
              { name: 'MedGemma', version: '4b-it' },
              { name: 'MedSAM', version: '1.0' },
            ],
          },
        },
        { number: 2, label: 'Manual note', color: [0, 255, 0], category: CATEGORY.anatomicalStructure, type: STRUCTURE.spleen, provenance: { source: 'manual' } },
        {
          number: 3,
          label: 'Nodule',
          color: [0, 220, 255],
          category: CATEGORY.morphologicallyAbnormalStructure,
          type: FINDING.nodule,
          provenance: { source: 'ai', question: 'Any nodule?', models: [{ name: 'MedSAM', version: '1.0' }] },
        },
      ],
    });
    const encoded = encodeSegBytes(segmentation);
    seg = encoded.seg;
    const segFile = path.join(scratch.path, 'seg.dcm');
    writeFileSync(segFile, encoded.bytes);
    const sr = encodeReasoningSr(segmentation, seg);
    srFile = path.join(scratch.path, 'sr.dcm');
    writeFileSync(srFile, sr.bytes);
    read = runPydicom(PYDICOM_SR_SCRIPT, { path: srFile });
  });

  it('passes dciodvfy with zero errors (warnings only for the private coding scheme)', () => {
    const result = dciodvfy(srFile);
    expect(result.output).toContain('ComprehensiveSR');
    expect(result.errors).toEqual([]);
    // The source series has an empty StudyID (Type 2), copied as is: dciodvfy notes DICOMDIR would want one.
    const other = result.warnings.filter((w) => !w.includes('<99MEDR>') && !w.includes('needed to build DICOMDIR - Study ID'));
    expect(other).toEqual([]);
  });

  it('is a Comprehensive SR in the SEG study, in its own series, with the SEG as evidence', () => {
    expect(read.sopClassUid).toBe(SopClass.comprehensiveSr);
    expect(read.modality).toBe('SR');
    expect(read.study).toBe(odd.source.patientStudy.studyInstanceUid);
    expect(read.series).not.toBe(seg.seriesInstanceUid);
    expect(read.charset).toBe('ISO_IR 192');
    expect(read.privateScheme).toBe('99MEDR');
    const segEvidence = read.evidence.find((e) => e.series === seg.seriesInstanceUid)!;
    expect(segEvidence).toEqual({ study: odd.source.patientStudy.studyInstanceUid, series: seg.seriesInstanceUid, instances: [seg.sopInstanceUid] });
    // The prompts' source images are evidence too.
    const sourceEvidence = read.evidence.find((e) => e.series === odd.source.seriesInstanceUid)!;
    expect(new Set(sourceEvidence.instances)).toEqual(new Set([odd.source.slices[1]!.sopInstanceUid, odd.source.slices[3]!.sopInstanceUid]));
  });

  it('reports the AI segments only, each with question, reasoning, answer, models and a reference to its segment', () => {
    const groups = read.root.children;
    expect(groups.map((g) => g.children.find((c) => c.concept[0] === '112039')?.text)).toEqual(['Liver', 'Nodule']);
    const liver = groups[0]!;
    const byConcept = (code: string) => liver.children.filter((c) => c.concept[0] === code);
    expect(byConcept('QUESTION')[0]!.text).toBe('Is there a focal liver lesion?');
    expect(byConcept('REASONING')[0]!.text).toBe(reasoning);
    expect(byConcept('ANSWER')[0]!.text).toBe('{"answer":"yes","box":[1,1,6.5,5]}');
    expect(byConcept('PROVENANCE')[0]!.text).toBe('ai-edited');
    expect(byConcept('121071')[0]!.code).toEqual(['10200004', 'SCT']);
    expect(byConcept('121232')[0]!.uid).toBe(odd.source.seriesInstanceUid);
    expect(byConcept('121191')[0]!.refs).toEqual([{ cls: SopClass.segmentation, uid: seg.sopInstanceUid, segments: [1] }]);
    const models = byConcept('MODEL').map((m) => m.children.map((c) => [c.concept[0], c.text]));
    expect(models).toEqual([
      [['111001', 'MedGemma'], ['111003', '4b-it']],
      [['111001', 'MedSAM'], ['111003', '1.0']],
    ]);
    const nodule = groups[1]!;
    expect(nodule.children.find((c) => c.concept[0] === '121191')!.refs![0]!.segments).toEqual([3]);
    expect(nodule.children.some((c) => c.concept[0] === 'REASONING')).toBe(false);
  });

  it('stores the prompts as SCOORD selected from the source image', () => {
    const prompts = read.root.children[0]!.children.filter((c) => c.valueType === 'SCOORD');
    expect(prompts.map((p) => [p.concept[0], p.graphicType, p.graphicData])).toEqual([
      ['PROMPT-BOX', 'POLYLINE', [1, 1, 6.5, 1, 6.5, 5, 1, 5, 1, 1]],
      ['PROMPT-POINT-POS', 'POINT', [3.5, 2.5]],
      ['PROMPT-POINT-NEG', 'POINT', [10, 6]],
    ]);
    const images = prompts.map((p) => p.children.map((c) => [c.relationship, c.valueType, c.refs![0]!.uid]));
    expect(images).toEqual([
      [['SELECTED FROM', 'IMAGE', odd.source.slices[1]!.sopInstanceUid]],
      [['SELECTED FROM', 'IMAGE', odd.source.slices[1]!.sopInstanceUid]],
      [['SELECTED FROM', 'IMAGE', odd.source.slices[3]!.sopInstanceUid]],
    ]);
  });

  it('refuses a report without AI segments', () => {
    const { source } = odd;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount).fill(1, 0, 5);
    const manual = new Segmentation({
      source,
      labelmap,
      segments: [{ number: 1, label: 'Liver', color: [1, 2, 3], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } }],
    });
    const { seg: manualSeg } = encodeSegBytes(manual);
    expect(() => encodeReasoningSr(manual, manualSeg)).toThrow(
      'Invalid reasoning SR: no segment came from a model (provenance ai or ai-edited): the reasoning SR reports AI segments only',
    );
  });
});
