// The host's seg service end to end on the sample, as the renderer will call it through
// the contract: export (worker) → the SEG and SR pass dciodvfy and join the study as a new
// series → import (worker) gives back exactly the labelmap → a second export is a new
// series beside the first; autosave, restore and errors with their contract codes.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLabelmap, encodeLabelmap, segCalls, SegExportResult, SegImportResult } from '../../electron/common/contract-seg.ts';
import { DicomIndex } from '../../electron/host/dicom/dicom-index.ts';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { HostError } from '../../electron/host/dispatch.ts';
import { SegService, segHandlers } from '../../electron/host/seg/seg-service.ts';
import { dciodvfy, runPydicom, sameVoxels, tempDir, writeSampleFixture, type SampleFixture } from './seg-fixtures.ts';

const scratch = tempDir('seg-service');
let sample: SampleFixture;
let index: DicomIndex;
let service: SegService;
const written: string[][] = [];
const events: Array<{ event: string; payload: Record<string, unknown> }> = [];
afterAll(() => scratch.remove());

beforeAll(async () => {
  sample = await writeSampleFixture(path.join(scratch.path, 'sample'));
  index = new DicomIndex();
  index.merge(await importDicom({ paths: [sample.manifest.seriesDir] }));
  service = new SegService({
    index,
    dataDir: path.join(scratch.path, 'data'),
    onWritten: async (paths) => {
      written.push(paths);
      index.merge(await importDicom({ paths }));
    },
    emit: (event, payload) => void events.push({ event, payload }),
  });
});

function exportParams(overrides: Record<string, unknown> = {}) {
  return segCalls['seg.export'].params.parse({
    seriesKey: sample.host.summary.seriesKey,
    segmentation: { segments: sample.segments, labelmap: encodeLabelmap(sample.truth.labels) },
    withSr: true,
    contentCreatorName: 'Reader^One',
    ...overrides,
  });
}

describe('seg service on the sample', () => {
  let first: SegExportResult;

  beforeAll(async () => {
    first = SegExportResult.parse(await service.exportSeg(exportParams()));
  });

  it('exports a valid SEG and SR into the study as new series', () => {
    expect(first.seg.type).toBe('BINARY');
    expect(dciodvfy(first.seg.path).errors).toEqual([]);
    expect(dciodvfy(first.sr!.path).errors).toEqual([]);
    expect(written[0]).toEqual([first.seg.path, first.sr!.path]);
    // Patient data in the data folder: the segmentations folder and its files are owner-only.
    expect((statSync(path.dirname(first.seg.path)).mode & 0o777).toString(8)).toBe('700');
    for (const file of [first.seg.path, first.sr!.path]) expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(events[0]).toEqual({ event: 'seg.exported', payload: { seriesKey: sample.host.summary.seriesKey, segPath: first.seg.path, srPath: first.sr!.path } });
    const study = index.patients()[0]!.studies.find((s) => s.studyInstanceUid === sample.truth.info.uids.studyInstanceUid)!;
    const kinds = study.series.map((s) => [s.kind, s.seriesInstanceUid]);
    expect(kinds).toContainEqual(['SEG', first.seg.seriesInstanceUid]);
    expect(kinds).toContainEqual(['SR', first.sr!.seriesInstanceUid]);
    const segSeries = study.series.find((s) => s.seriesInstanceUid === first.seg.seriesInstanceUid)!;
    expect(segSeries.seriesNumber).toBeGreaterThan(sample.host.summary.seriesNumber ?? 0);
  });

  it('imports the exported SEG by the file key dicom.series lists for it, onto the sample, voxel for voxel', async () => {
    const segSeries = index.patients()[0]!.studies[0]!.series.find((s) => s.seriesInstanceUid === first.seg.seriesInstanceUid)!;
    // What the renderer sees: a SEG series has no slices, and its one instance with a file key.
    const detail = index.seriesDetail(segSeries.seriesKey)!;
    expect(detail.slices).toEqual([]);
    expect(detail.instances.map((i) => [i.kind, i.sopInstanceUid])).toEqual([['SEG', first.seg.sopInstanceUid]]);
    const fileKey = detail.instances[0]!.fileKey;
    const result = SegImportResult.parse(await segHandlers(service)['seg.import'](segCalls['seg.import'].params.parse({ fileKey })));
    expect(result.seriesKey).toBe(sample.host.summary.seriesKey);
    expect(result.warnings).toEqual([]);
    expect(sameVoxels(decodeLabelmap(result.labelmap), sample.truth.labels)).toBe('same');
    expect(result.segments.map((s) => [s.number, s.originalNumber, s.label, s.type.value])).toEqual(sample.segments.map((s) => [s.number, s.number, s.label, s.type.value]));
    expect(result.info.contentCreatorName).toBe('Reader^One');
  });

  it('saves a new version as a new series and keeps the previous one', async () => {
    const second = await service.exportSeg(exportParams({ withSr: false, type: 'LABELMAP' }));
    expect(second.seg.seriesInstanceUid).not.toBe(first.seg.seriesInstanceUid);
    expect(second.sr).toBeNull();
    expect(existsSync(first.seg.path)).toBe(true);
    const imported = await service.importSeg({ path: second.seg.path });
    expect(sameVoxels(decodeLabelmap(imported.labelmap), sample.truth.labels)).toBe('same');
  });

  it('import restores each segment\'s provenance from the SR that references the SEG, and it exports again unchanged; a new version names the one it replaces', async () => {
    const rich = sample.segments.map((segment) => {
      if (segment.provenance.source === 'manual') return segment;
      return {
        ...segment,
        provenance: {
          source: 'ai' as const,
          question: `Where is the ${segment.label}?`,
          reasoning: `Step 1: look for ${segment.label}.\nStep 2: — found it (≈ 3 cm).`,
          answer: `{"box":[70,80,150,170],"label":"${segment.label}"}`,
          prompts: [
            { kind: 'box' as const, sliceIndex: 60, x0: 70, y0: 80, x1: 151, y1: 171 },
            { kind: 'point' as const, sliceIndex: 60, x: 110.5, y: 125.5, label: 'positive' as const },
            { kind: 'point' as const, sliceIndex: 61, x: 100.5, y: 140.5, label: 'negative' as const },
          ],
          models: [
            { name: 'Qwen2.5-VL-CRM', version: '7b', server: 'crm.example.org' },
            { name: 'MedSAM2', version: '1.0 (fp16)' },
          ],
        },
      };
    });
    const v1 = await service.exportSeg(exportParams({ segmentation: { segments: rich, labelmap: encodeLabelmap(sample.truth.labels) }, type: 'LABELMAP', compression: 'rle' }));
    expect(v1.seg.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
    const imported = SegImportResult.parse(await service.importSeg({ path: v1.seg.path }));
    expect(imported.report).toMatchObject({ sopInstanceUid: v1.sr!.sopInstanceUid, path: v1.sr!.path });
    expect(imported.warnings).toEqual([]);
    expect(imported.segments.map((s) => s.provenance)).toEqual(rich.map((s) => s.provenance));
    expect(imported.segments.map((s) => s.algorithmType)).toEqual(rich.map((s) => (s.provenance.source === 'manual' ? 'MANUAL' : 'AUTOMATIC')));

    // Re-export what came back, as a new version of v1.
    const again = imported.segments.map(({ originalNumber: _n, ...s }) => s);
    const v2 = await service.exportSeg(
      exportParams({ segmentation: { segments: again, labelmap: imported.labelmap }, supersedes: { sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid } }),
    );
    const back = SegImportResult.parse(await service.importSeg({ path: v2.seg.path }));
    expect(back.report?.sopInstanceUid).toBe(v2.sr!.sopInstanceUid);
    expect(back.segments.map((s) => s.provenance)).toEqual(rich.map((s) => s.provenance));
    expect(back.info.supersedes).toEqual([{ sopInstanceUid: v1.seg.sopInstanceUid, seriesInstanceUid: v1.seg.seriesInstanceUid }]);
    // The source lookup is not misled by the superseded SEG in the references.
    expect(back.seriesKey).toBe(sample.host.summary.seriesKey);
    const predecessor = runPydicom<string[]>(
      'import json, sys, pydicom\nds = pydicom.dcmread(json.load(sys.stdin)["path"])\nprint(json.dumps([str(r.ReferencedSOPInstanceUID) for st in ds.PredecessorDocumentsSequence for se in st.ReferencedSeriesSequence for r in se.ReferencedSOPSequence]))',
      { path: v2.sr!.path },
    );
    expect(predecessor).toEqual([v1.sr!.sopInstanceUid]);
    expect(dciodvfy(v2.seg.path).errors).toEqual([]);
    expect(dciodvfy(v2.sr!.path).errors).toEqual([]);
  });

  it('without a report, a SEMIAUTOMATIC segment comes back as interactive (computed from prompts), not as an edited AI answer', async () => {
    const segments = sample.segments.map((s) => (s.provenance.source === 'manual' ? s : { ...s, provenance: { source: 'interactive' as const, models: [{ name: 'default-segmenter', version: '0.1.0' }] } }));
    const written = await service.exportSeg(exportParams({ segmentation: { segments, labelmap: encodeLabelmap(sample.truth.labels) }, withSr: false }));
    const imported = await service.importSeg({ path: written.seg.path });
    expect(imported.report).toBeNull();
    expect(imported.segments.map((s) => s.provenance.source)).toEqual(segments.map((s) => s.provenance.source));
  });

  it('answers with contract error codes and precise messages', async () => {
    const codeOf = async (work: Promise<unknown>) => {
      const error = await work.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostError);
      return [(error as HostError).code, (error as HostError).message];
    };
    expect(await codeOf(service.exportSeg(exportParams({ seriesKey: 'no-such-series' })))).toEqual(['not-found', 'No series "no-such-series" in the index.']);
    const badSegments = sample.segments.map((s, i) => (i === 2 ? { ...s, algorithmType: 'AUTOMATIC' } : s));
    expect(await codeOf(service.exportSeg(exportParams({ segmentation: { segments: badSegments, labelmap: encodeLabelmap(sample.truth.labels) } })))).toEqual([
      'invalid-params',
      'Invalid segmentation: segment 3 "lung_right": algorithmType AUTOMATIC contradicts provenance "manual", which is MANUAL',
    ]);
    const short = encodeLabelmap(sample.truth.labels.subarray(0, 1000));
    expect(await codeOf(service.exportSeg(exportParams({ segmentation: { segments: sample.segments, labelmap: short } })))).toEqual([
      'invalid-params',
      'Invalid segmentation: labelmap holds 1000 voxels; the source series has 256 × 256 × 120 = 7864320',
    ]);
    expect(await codeOf(service.importSeg({ fileKey: 'nope' }))).toEqual(['not-found', 'No file with key "nope" in the index.']);
  });

  it('autosaves, lists, restores and discards a session', async () => {
    const segmentation = { segments: sample.segments, labelmap: encodeLabelmap(sample.truth.labels) };
    const saved = await service.autosave({ sessionId: 'session-1', seriesKey: sample.host.summary.seriesKey, segmentation });
    expect(saved.bytes).toBeGreaterThan(0);
    expect((await service.listAutosaves()).autosaves.map((a) => [a.sessionId, a.segmentCount])).toEqual([['session-1', 12]]);
    const restored = await service.restore({ sessionId: 'session-1' });
    expect(sameVoxels(decodeLabelmap(restored.segmentation.labelmap), sample.truth.labels)).toBe('same');
    expect(await service.discardAutosave({ sessionId: 'session-1' })).toEqual({ discarded: true });
    const error = await service.restore({ sessionId: 'session-1' }).catch((e: unknown) => e);
    expect([(error as HostError).code, (error as HostError).message]).toEqual(['not-found', 'No autosave for session session-1.']);
    expect(events.some((e) => e.event === 'seg.autosaved')).toBe(true);
  });
});
