// The reasoning SR as a TID 1500 Measurement Report, judged by independent readers:
// dciodvfy (zero errors), pydicom (the content tree as stored), highdicom's srread (the
// TID 1500/1411/1410 groups it recognises, their measurements against the CT pixels it
// reads itself) and the Cornerstone adapters' MeasurementReport reader (what OHIF runs:
// the prompts hydrate as Probe and RectangleROI annotations at the right world points).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSlice } from '../../electron/host/inference/slice-pixels.ts';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { SopClass } from '../../electron/host/seg/seg-enums.ts';
import { encodeSegBytes } from '../../electron/host/seg/seg-writer.ts';
import { segmentStatistics } from '../../electron/host/seg/segment-stats.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { encodeReasoningSr } from '../../electron/host/seg/sr-writer.ts';
import { dciodvfy, runPydicom, tempDir, writeOddSeries, type OddSeries } from './seg-fixtures.ts';
import { cornerstoneReadMeasurementReport, peerImageId } from './seg-peer-adapters.ts';
import { runHighdicom } from './seg-highdicom.ts';

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
  template?: string;
  children: Node[];
}

const PYDICOM_SR_SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import pydicom
args = json.load(sys.stdin)
ds = pydicom.dcmread(args["path"])
def node(item, rel):
    c = item.ConceptNameCodeSequence[0]
    out = {"relationship": rel, "valueType": str(item.ValueType), "concept": [str(c.CodeValue), str(c.CodingSchemeDesignator), str(c.CodeMeaning)], "children": []}
    if "TextValue" in item: out["text"] = str(item.TextValue)
    if "UID" in item: out["uid"] = str(item.UID)
    if "ConceptCodeSequence" in item: out["code"] = [str(item.ConceptCodeSequence[0].CodeValue), str(item.ConceptCodeSequence[0].CodingSchemeDesignator)]
    if "ContentTemplateSequence" in item: out["template"] = str(item.ContentTemplateSequence[0].TemplateIdentifier)
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

/** highdicom's reading: srread, then the TID 1411 and TID 1410 groups of its MeasurementReport; mean HU from the CT files by pydicom. */
const HIGHDICOM_SR_SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pydicom, highdicom as hd
args = json.load(sys.stdin)
sr = hd.sr.srread(args["path"])
report = sr.content
assert isinstance(report, hd.sr.MeasurementReport), type(report)
def algorithm(group):
    names = [str(i.TextValue) for i in group[0].ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "111001" and i.RelationshipType == "HAS CONCEPT MOD"]
    versions = [str(i.TextValue) for i in group[0].ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "111003" and i.RelationshipType == "HAS CONCEPT MOD"]
    return [names, versions]
volumetric = []
for g in report.get_volumetric_roi_measurement_groups():
    seg = g.referenced_segment
    ref = seg[0].ReferencedSOPSequence[0]
    volumetric.append({
        "trackingIdentifier": g.tracking_identifier, "trackingUid": str(g.tracking_uid),
        "finding": [g.finding_type.value, g.finding_type.scheme_designator],
        "segmentNumber": int(ref.ReferencedSegmentNumber if not hasattr(ref.ReferencedSegmentNumber, "__iter__") else ref.ReferencedSegmentNumber[0]),
        "segUid": str(ref.ReferencedSOPInstanceUID),
        "measurements": [{"name": m.name.value, "value": float(m.value), "unit": m.unit.value} for m in g.get_measurements()],
        "algorithm": algorithm(g),
    })
planar = []
for g in report.get_planar_roi_measurement_groups():
    roi = g.roi
    src = roi.ContentSequence[0].ReferencedSOPSequence[0]
    planar.append({"trackingIdentifier": g.tracking_identifier, "trackingUid": str(g.tracking_uid),
                   "finding": [g.finding_type.value, g.finding_type.scheme_designator],
                   "graphicType": str(roi.graphic_type.value), "graphicData": [float(v) for v in np.asarray(roi.value).ravel()],
                   "image": str(src.ReferencedSOPInstanceUID)})
# Mean HU per segment from the CT slices, read by pydicom (rescale applied) under the labelmap.
labelmap = np.fromfile(args["labelmap"], dtype=np.uint8).reshape(len(args["slices"]), -1)
sums, counts = {}, {}
for k, f in enumerate(args["slices"]):
    ct = pydicom.dcmread(f)
    hu = ct.pixel_array.astype(np.float64).ravel() * float(ct.get("RescaleSlope", 1)) + float(ct.get("RescaleIntercept", 0))
    for v in np.unique(labelmap[k]):
        if v == 0: continue
        sums[int(v)] = sums.get(int(v), 0.0) + float(hu[labelmap[k] == v].sum())
        counts[int(v)] = counts.get(int(v), 0) + int((labelmap[k] == v).sum())
print(json.dumps({"volumetric": volumetric, "planar": planar, "meanHu": {str(k): sums[k] / counts[k] for k in sums}, "voxels": {str(k): counts[k] for k in counts}}))
`;

describe('reasoning SR (TID 1500 Measurement Report)', () => {
  const reasoning = 'Step 1: the liver is the large organ under the right hemidiaphragm.\nStep 2: a round 2 cm hypodense focus — likely a cyst (Hounsfield ≈ 5).';
  let seg: ReturnType<typeof encodeSegBytes>['seg'];
  let segmentation: Segmentation;
  let read: { sopClassUid: string; modality: string; study: string; series: string; charset: string; root: Node; evidence: Array<{ study: string; series: string; instances: string[] }>; privateScheme: string };
  let hd: {
    volumetric: Array<{ trackingIdentifier: string; trackingUid: string; finding: [string, string]; segmentNumber: number; segUid: string; measurements: Array<{ name: string; value: number; unit: string }>; algorithm: [string[], string[]] }>;
    planar: Array<{ trackingIdentifier: string; trackingUid: string; finding: [string, string]; graphicType: string; graphicData: number[]; image: string }>;
    meanHu: Record<string, number>;
    voxels: Record<string, number>;
  };
  let srFile: string;
  let srBytes: Uint8Array;

  beforeAll(async () => {
    const { source } = odd;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    labelmap.fill(1, source.pixelsPerSlice * 1, source.pixelsPerSlice * 1 + 20);
    labelmap.fill(2, source.pixelsPerSlice * 3 + 5, source.pixelsPerSlice * 3 + 9);
    labelmap.fill(3, source.pixelsPerSlice * 4, source.pixelsPerSlice * 4 + 3);
    labelmap.fill(4, source.pixelsPerSlice * 5, source.pixelsPerSlice * 5 + 30);
    segmentation = new Segmentation({
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
              { name: 'Qwen2.5-VL-CRM', version: '7b', server: 'crm.example.org' },
              { name: 'MedSAM2', version: '1.0' },
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
          provenance: { source: 'ai', question: 'Any nodule?', models: [{ name: 'MedSAM2', version: '1.0' }] },
        },
        {
          number: 4,
          label: 'Prompted',
          color: [200, 200, 0],
          category: CATEGORY.anatomicalStructure,
          type: STRUCTURE.kidney,
          provenance: { source: 'interactive', prompts: [{ kind: 'point', sliceIndex: 5, x: 2.5, y: 1.5, label: 'positive' }], models: [{ name: 'default-segmenter', version: '0.1.0' }] },
        },
      ],
    });
    const encoded = encodeSegBytes(segmentation);
    seg = encoded.seg;
    writeFileSync(path.join(scratch.path, 'seg.dcm'), encoded.bytes);
    const slices = odd.host.slices.map((s) => ({ path: s.path, frame: s.frame }));
    const statistics = await segmentStatistics(segmentation, async (k) => (await loadSlice(slices[k]!.path, (slices[k]!.frame ?? 1) - 1)).pixels);
    const sr = encodeReasoningSr(segmentation, seg, { statistics });
    srBytes = sr.bytes;
    srFile = path.join(scratch.path, 'sr.dcm');
    writeFileSync(srFile, sr.bytes);
    const labelmapFile = path.join(scratch.path, 'labelmap.raw');
    writeFileSync(labelmapFile, labelmap);
    read = runPydicom(PYDICOM_SR_SCRIPT, { path: srFile });
    hd = runHighdicom(HIGHDICOM_SR_SCRIPT, { path: srFile, labelmap: labelmapFile, slices: slices.map((s) => s.path) });
  });

  it('passes dciodvfy with zero errors (warnings only for the private coding scheme)', () => {
    const result = dciodvfy(srFile);
    expect(result.output).toContain('ComprehensiveSR');
    expect(result.errors).toEqual([]);
    // The source series has an empty StudyID (Type 2), copied as is: dciodvfy notes DICOMDIR would want one.
    const other = result.warnings.filter((w) => !w.includes('<99MEDR>') && !w.includes('needed to build DICOMDIR - Study ID'));
    expect(other).toEqual([]);
  });

  it('is a TID 1500 Imaging Measurement Report in the SEG study, in its own series, with the SEG and the prompt images as evidence', () => {
    expect(read.sopClassUid).toBe(SopClass.comprehensiveSr);
    expect(read.modality).toBe('SR');
    expect(read.root.concept[0]).toBe('126000');
    expect(read.root.template).toBe('1500');
    expect(read.study).toBe(odd.source.patientStudy.studyInstanceUid);
    expect(read.series).not.toBe(seg.seriesInstanceUid);
    expect(read.charset).toBe('ISO_IR 192');
    expect(read.privateScheme).toBe('99MEDR');
    const segEvidence = read.evidence.find((e) => e.series === seg.seriesInstanceUid)!;
    expect(segEvidence).toEqual({ study: odd.source.patientStudy.studyInstanceUid, series: seg.seriesInstanceUid, instances: [seg.sopInstanceUid] });
    const sourceEvidence = read.evidence.find((e) => e.series === odd.source.seriesInstanceUid)!;
    expect(new Set(sourceEvidence.instances)).toEqual(new Set([1, 3, 5].map((k) => odd.source.slices[k]!.sopInstanceUid)));
  });

  it('highdicom finds one TID 1411 group per model segment, referencing its SEG segment, with the segmenter as algorithm', () => {
    expect(hd.volumetric.map((g) => [g.trackingIdentifier, g.segmentNumber, g.segUid, g.finding])).toEqual([
      ['Liver', 1, seg.sopInstanceUid, [STRUCTURE.liver.value, 'SCT']],
      ['Nodule', 3, seg.sopInstanceUid, [FINDING.nodule.value, 'SCT']],
      ['Prompted', 4, seg.sopInstanceUid, [STRUCTURE.kidney.value, 'SCT']],
    ]);
    expect(hd.volumetric.map((g) => g.algorithm)).toEqual([
      [['MedSAM2'], ['1.0']],
      [['MedSAM2'], ['1.0']],
      [['default-segmenter'], ['0.1.0']],
    ]);
  });

  it('states volume and mean HU as measurements that match what pydicom reads from the CT under the labelmap', () => {
    const [sx, sy] = odd.source.pixelSpacing;
    const voxelMm3 = sx * sy * odd.source.sliceSpacing!;
    for (const group of hd.volumetric) {
      const number = String(group.segmentNumber);
      const byName = new Map(group.measurements.map((m) => [m.name, m]));
      expect(byName.get('118565006')!.unit).toBe('mm3');
      expect(byName.get('118565006')!.value).toBeCloseTo(hd.voxels[number]! * voxelMm3, 3);
      expect(byName.get('373098007')!.unit).toBe("[hnsf'U]");
      expect(byName.get('373098007')!.value).toBeCloseTo(hd.meanHu[number]!, 2);
    }
  });

  it('highdicom finds the prompts as TID 1410 planar ROIs on their source images, tracked with their segment', () => {
    const liverUid = hd.volumetric[0]!.trackingUid;
    const promptedUid = hd.volumetric[2]!.trackingUid;
    expect(hd.planar.map((p) => [p.trackingUid, p.finding[0], p.graphicType, p.graphicData, p.image])).toEqual([
      [liverUid, 'PROMPT-BOX', 'POLYLINE', [1, 1, 6.5, 1, 6.5, 5, 1, 5, 1, 1], odd.source.slices[1]!.sopInstanceUid],
      [liverUid, 'PROMPT-POINT-POS', 'POINT', [3.5, 2.5], odd.source.slices[1]!.sopInstanceUid],
      [liverUid, 'PROMPT-POINT-NEG', 'POINT', [10, 6], odd.source.slices[3]!.sopInstanceUid],
      [promptedUid, 'PROMPT-POINT-POS', 'POINT', [2.5, 1.5], odd.source.slices[5]!.sopInstanceUid],
    ]);
  });

  it('keeps the question, the reasoning trace, the raw answer and every model (with its server) in the segment group', () => {
    const groups = read.root.children.find((c) => c.concept[0] === '126010')!.children.filter((g) => g.template === '1411');
    const liver = groups[0]!;
    const byConcept = (code: string) => liver.children.filter((c) => c.concept[0] === code);
    expect(byConcept('QUESTION')[0]!.text).toBe('Is there a focal liver lesion?');
    expect(byConcept('REASONING')[0]!.text).toBe(reasoning);
    expect(byConcept('ANSWER')[0]!.text).toBe('{"answer":"yes","box":[1,1,6.5,5]}');
    expect(byConcept('PROVENANCE')[0]!.text).toBe('ai-edited');
    expect(byConcept('121232')[0]!.uid).toBe(odd.source.seriesInstanceUid);
    expect(byConcept('MODEL').map((m) => m.children.map((c) => [c.relationship, c.concept[0], c.text]))).toEqual([
      [['HAS CONCEPT MOD', '111001', 'Qwen2.5-VL-CRM'], ['HAS CONCEPT MOD', '111003', '7b'], ['HAS CONCEPT MOD', '111002', 'server=crm.example.org']],
      [['HAS CONCEPT MOD', '111001', 'MedSAM2'], ['HAS CONCEPT MOD', '111003', '1.0']],
    ]);
    expect(groups[1]!.children.some((c) => c.concept[0] === 'REASONING')).toBe(false);
  });

  it("is read by the Cornerstone adapters' MeasurementReport (OHIF): the prompts hydrate as Probe and RectangleROI at their world points", () => {
    const state = cornerstoneReadMeasurementReport(odd.source, srBytes);
    const { source } = odd;
    const o = source.orientation;
    const world = (k: number, x: number, y: number) => {
      const p = source.slices[k]!.position;
      // SCOORD (x, y) is (column, row) in pixels from the top-left corner of the top-left pixel.
      return [0, 1, 2].map((a) => p[a]! + (x - 0.5) * source.pixelSpacing[1] * o[a]! + (y - 0.5) * source.pixelSpacing[0] * o[3 + a]!);
    };
    const probes = state['Probe']!;
    expect(probes.map((p) => p.referencedImageId)).toEqual([peerImageId(1), peerImageId(3), peerImageId(5)]);
    probes[0]!.points[0]!.forEach((v, a) => expect(v).toBeCloseTo(world(1, 3.5, 2.5)[a]!, 6));
    probes[1]!.points[0]!.forEach((v, a) => expect(v).toBeCloseTo(world(3, 10, 6)[a]!, 6));
    const rectangles = state['RectangleROI']!;
    expect(rectangles.map((r) => r.referencedImageId)).toEqual([peerImageId(1)]);
    const corners = rectangles[0]!.points;
    for (const [x, y] of [[1, 1], [6.5, 5]] as const) {
      const expected = world(1, x, y);
      expect(corners.some((c) => c.every((v, a) => Math.abs(v - expected[a]!) < 1e-6))).toBe(true);
    }
    expect(probes[0]!.trackingUniqueIdentifier).toBe(hd.volumetric[0]!.trackingUid);
  });

  it('refuses a report without model segments', () => {
    const { source } = odd;
    const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount).fill(1, 0, 5);
    const manual = new Segmentation({
      source,
      labelmap,
      segments: [{ number: 1, label: 'Liver', color: [1, 2, 3], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } }],
    });
    const { seg: manualSeg } = encodeSegBytes(manual);
    expect(() => encodeReasoningSr(manual, manualSeg)).toThrow(
      'Invalid reasoning SR: no segment came from a model (provenance ai, ai-edited or interactive): the reasoning SR reports model segments only',
    );
  });

  it('names its predecessor when it replaces an earlier report', () => {
    const sr = encodeReasoningSr(segmentation, seg, { predecessor: { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3' } });
    const file = path.join(scratch.path, 'sr-v2.dcm');
    writeFileSync(file, sr.bytes);
    const predecessor = runPydicom<string[]>(
      String.raw`
import json, sys, pydicom
ds = pydicom.dcmread(json.load(sys.stdin)["path"])
print(json.dumps([str(s.ReferencedSOPInstanceUID) for st in ds.PredecessorDocumentsSequence for se in st.ReferencedSeriesSequence for s in se.ReferencedSOPSequence]))
`,
      { path: file },
    );
    expect(predecessor).toEqual(['1.2.3.4']);
    expect(readFileSync(file).length).toBe(sr.bytes.length);
  });
});
