// `medreasoner seg info` and writeMaskAsSeg (for the `segment`/`ask` commands' --seg and --sr).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSegCommand, writeMaskAsSeg } from '../../electron/cli/commands/seg-command.ts';
import { CATEGORY, FINDING, STRUCTURE } from '../../electron/host/seg/codes.ts';
import { encodeSegBytes } from '../../electron/host/seg/seg-writer.ts';
import { Segmentation } from '../../electron/host/seg/segmentation.ts';
import { PYDICOM_TEST_FILES } from './real-parts.ts';
import { dciodvfy, readSegWithPydicom, tempDir, writeOddSeries, type OddSeries } from './seg-fixtures.ts';

const scratch = tempDir('seg-cli');
let odd: OddSeries;
let segFile: string;
beforeAll(async () => {
  odd = await writeOddSeries(path.join(scratch.path, 'odd'));
  const { source } = odd;
  const labelmap = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
  labelmap.fill(1, 80, 110); // the end of slice 0 and the start of slice 1
  labelmap.fill(2, source.pixelsPerSlice * 4, source.pixelsPerSlice * 4 + 10);
  const segmentation = new Segmentation({
    source,
    labelmap,
    segments: [
      { number: 1, label: 'Liver', color: [221, 130, 101], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver, provenance: { source: 'manual' } },
      { number: 2, label: 'Mass', color: [255, 220, 0], category: CATEGORY.morphologicallyAbnormalStructure, type: FINDING.mass, provenance: { source: 'ai', models: [{ name: 'MedSAM', version: '1.0' }] } },
    ],
  });
  segFile = path.join(scratch.path, 'two.dcm');
  writeFileSync(segFile, encodeSegBytes(segmentation, { seriesDescription: 'Liver and mass' }).bytes);
});
afterAll(() => scratch.remove());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('medreasoner seg info', () => {
  it('lists segments, codes, frames and the referenced series', async () => {
    const c = capture();
    expect(await runSegCommand(['info', segFile], c.io)).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('BINARY SEG (1.2.840.10008.5.1.4.1.1.66.4), 3 frames of 13 × 7');
    expect(text).toContain('Series: Liver and mass');
    expect(text).toMatch(/ {4}1 {2}Liver {2}— {2}2 frames, MANUAL/);
    expect(text).toContain('category SCT 123037004 "Anatomical Structure", type SCT 10200004 "Liver"');
    expect(text).toMatch(/ {4}2 {2}Mass {2}— {2}1 frame, AUTOMATIC \(MedSAM\)/);
    expect(text).toContain(`${odd.source.seriesInstanceUid}: 3 instances`);
  });

  it('--json gives the same facts as data', async () => {
    const c = capture();
    expect(await runSegCommand(['info', '--json', segFile], c.io)).toBe(0);
    const info = JSON.parse(c.out.join(''));
    expect(info.segments.map((s: { label: string; frames: number; type: { value: string } }) => [s.label, s.frames, s.type.value])).toEqual([
      ['Liver', 2, '10200004'],
      ['Mass', 1, '4147007'],
    ]);
    expect(info.referencedSeries).toEqual([{ seriesInstanceUid: odd.source.seriesInstanceUid, instances: 3 }]);
    expect(info.file).toBe(segFile);
  });

  it("reads pydicom's liver_1frame.dcm and says what it read leniently", async () => {
    const c = capture();
    expect(await runSegCommand(['info', path.join(PYDICOM_TEST_FILES, 'liver_1frame.dcm')], c.io)).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('SRT T-62000 "Liver"');
    expect(text).toContain('NumberOfFrames is missing; the pixel data holds 1 frame.');
  });

  it('exits 2 on usage errors and 1 on files it cannot read as a SEG', async () => {
    for (const args of [[], ['frobnicate'], ['info'], ['info', 'a', 'b'], ['info', '--yaml', 'a']]) {
      const c = capture();
      expect(await runSegCommand(args, c.io), args.join(' ')).toBe(2);
      expect(c.err.join('')).toContain('usage: medreasoner seg info <file> [--json]');
    }
    const missing = capture();
    expect(await runSegCommand(['info', path.join(scratch.path, 'nope.dcm')], missing.io)).toBe(1);
    expect(missing.err.join('')).toMatch(/cannot read .*nope\.dcm \(ENOENT\)/);
    const ct = capture();
    expect(await runSegCommand(['info', path.join(odd.dir, 'odd-0.dcm')], ct.io)).toBe(1);
    expect(ct.err.join('')).toContain('is not a DICOM-SEG: its SOP Class is 1.2.840.10008.5.1.4.1.1.2, modality CT');
  });
});

describe('writeMaskAsSeg', () => {
  it('writes a model mask on one slice as a SEG with its reasoning SR, both valid', async () => {
    const { source } = odd;
    const mask = new Uint8Array(source.pixelsPerSlice);
    for (let i = 0; i < mask.length; i++) mask[i] = i % 3 === 0 ? 255 : 0;
    const outPath = path.join(scratch.path, 'mask-seg.dcm');
    const srPath = path.join(scratch.path, 'mask-sr.dcm');
    const written = await writeMaskAsSeg({
      sourceSeries: odd.host,
      sliceIndex: 4,
      mask,
      segment: { label: 'Nodule', color: [0, 220, 255], category: CATEGORY.morphologicallyAbnormalStructure, type: FINDING.nodule },
      provenance: { source: 'ai', question: 'Is there a nodule?', reasoning: 'Round opacity.', answer: 'yes', models: [{ name: 'MedGemma', version: '4b' }], prompts: [{ kind: 'point', sliceIndex: 4, x: 6.5, y: 3.5, label: 'positive' }] },
      outPath,
      srPath,
    });
    expect(written.seg.frames).toBe(1);
    expect(dciodvfy(outPath).errors).toEqual([]);
    expect(dciodvfy(srPath).errors).toEqual([]);
    const read = readSegWithPydicom(outPath, source.slices.map((s) => s.sopInstanceUid), scratch.path);
    const expected = new Uint8Array(source.pixelsPerSlice * source.sliceCount);
    mask.forEach((v, i) => (expected[4 * source.pixelsPerSlice + i] = v ? 1 : 0));
    expect(Array.from(read.volume)).toEqual(Array.from(expected));
    expect(read.segments[0]).toMatchObject({ label: 'Nodule', algorithmType: 'AUTOMATIC', algorithmName: 'MedGemma' });
    expect(readFileSync(srPath).includes(Buffer.from('Round opacity.'))).toBe(true);
  });

  it('refuses a mask of the wrong size or on a slice the series does not have', async () => {
    const base = { sourceSeries: odd.source, segment: { label: 'X', color: [1, 2, 3] as [number, number, number], category: CATEGORY.anatomicalStructure, type: STRUCTURE.liver }, provenance: { source: 'manual' as const }, outPath: path.join(scratch.path, 'never.dcm') };
    await expect(writeMaskAsSeg({ ...base, sliceIndex: 0, mask: new Uint8Array(90) })).rejects.toThrow(
      'Invalid mask: it holds 90 values; one slice of the series is 13 × 7 = 91, the volume 546',
    );
    await expect(writeMaskAsSeg({ ...base, sliceIndex: 6, mask: new Uint8Array(91) })).rejects.toThrow('Invalid mask: sliceIndex 6 is not a slice of the 6-slice series');
  });
});
