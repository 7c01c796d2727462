// Decompression bombs: a small deflated DICOM file whose data set inflates to 1 GiB is
// refused by every reader (import, slice pixels, the storage listener's parse), each at
// the inflate budget, and the process's peak memory stays far below the bomb's size.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importDicom } from '../../electron/host/dicom/importer.ts';
import { formatIndexText, toIndexJson } from '../../electron/host/dicom/index-report.ts';
import { inflateBudgetBytes } from '../../electron/host/dicom/inflate-budget.ts';
import { loadSlice } from '../../electron/host/inference/slice-pixels.ts';
import { InstanceStore } from '../../electron/host/pacs/instance-store.ts';
import { deflatedCt as deflatedCtFile } from './deflate-bomb.ts';
import { makeTempDir } from './fixtures-dicom.ts';

const BUDGET_MB = 64;
const BOMB_BYTES = 1024 * 1024 * 1024;
/** The stated bound: far below the 1 GiB the bomb claims, above the 64 MB budget plus copies. */
const MEMORY_BOUND = 200 * 1024 * 1024;

const tmp = makeTempDir('inflate-bomb');
const previousBudget = process.env.MEDREASONER_MAX_INFLATE_MB;
afterAll(() => {
  tmp.remove();
  if (previousBudget === undefined) delete process.env.MEDREASONER_MAX_INFLATE_MB;
  else process.env.MEDREASONER_MAX_INFLATE_MB = previousBudget;
});

async function deflatedCt(sopUid: string, pixelBytes: number): Promise<Buffer> {
  return deflatedCtFile(tmp.path, sopUid, pixelBytes);
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

let bomb: Buffer;
let bombDir: string;
let controlDir: string;
beforeAll(async () => {
  bomb = await deflatedCt('1.2.77.1.1', BOMB_BYTES);
  bombDir = join(tmp.path, 'bomb');
  controlDir = join(tmp.path, 'control');
  mkdirSync(bombDir);
  mkdirSync(controlDir);
  writeFileSync(join(bombDir, 'bomb.dcm'), bomb);
  // The same construction with a real slice's worth of pixels: proves the builder makes readable files.
  writeFileSync(join(controlDir, 'control.dcm'), await deflatedCt('1.2.77.1.2', 16 * 16 * 2));
  process.env.MEDREASONER_MAX_INFLATE_MB = String(BUDGET_MB);
}, 120_000);

describe('inflate budget', () => {
  test('the bomb is small on disk and claims 1 GiB', () => {
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    expect(inflateBudgetBytes()).toBe(BUDGET_MB * 1024 * 1024);
  });

  test('the default budget is 256 MB when the environment says nothing', () => {
    const saved = process.env.MEDREASONER_MAX_INFLATE_MB;
    delete process.env.MEDREASONER_MAX_INFLATE_MB;
    try {
      expect(inflateBudgetBytes()).toBe(256 * 1024 * 1024);
    } finally {
      process.env.MEDREASONER_MAX_INFLATE_MB = saved;
    }
  });

  test('import refuses the bomb with the reason in the index report, memory bounded', async () => {
    const control = await importDicom({ paths: [controlDir] });
    expect(control.files).toEqual([expect.objectContaining({ outcome: 'instance' })]);

    const rssBefore = process.memoryUsage().rss;
    const outcome = await importDicom({ paths: [bombDir] });
    expect(peakRss() - rssBefore).toBeLessThan(MEMORY_BOUND);
    const path = join(bombDir, 'bomb.dcm');
    expect(outcome.files).toEqual([expect.objectContaining({ path, outcome: 'problem', reason: 'invalid-value' })]);
    const json = toIndexJson(outcome);
    expect(json.problems).toEqual([expect.objectContaining({ path, reason: 'invalid-value' })]);
    expect(json.problems[0]?.detail).toContain(`inflates past ${BUDGET_MB} MB`);
    const text = formatIndexText(outcome);
    expect(text).toContain(path);
    expect(text).toContain(`invalid-value: The deflated data set inflates past ${BUDGET_MB} MB`);
  });

  test('slice reading refuses the bomb, memory bounded', async () => {
    const control = await loadSlice(join(controlDir, 'control.dcm'));
    expect(control.width).toBe(16);

    const rssBefore = process.memoryUsage().rss;
    const error = await loadSlice(join(bombDir, 'bomb.dcm')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(peakRss() - rssBefore).toBeLessThan(MEMORY_BOUND);
    expect(error).toMatchObject({ name: 'SlicePixelError', problem: 'unsupported' });
    expect((error as Error).message).toContain(`inflates past ${BUDGET_MB} MB`);
  });

  test("the storage listener's parse refuses the bomb and keeps nothing, memory bounded", async () => {
    const store = new InstanceStore(join(tmp.path, 'store'));
    const control = store.beginPart10();
    control.stream.write(await deflatedCt('1.2.77.1.3', 16 * 16 * 2));
    await expect(control.finish()).resolves.toMatchObject({ sopInstanceUid: '1.2.77.1.3', seriesInstanceUid: '1.2.77.1' });

    const rssBefore = process.memoryUsage().rss;
    const incoming = store.beginPart10();
    incoming.stream.write(bomb);
    await expect(incoming.finish()).rejects.toThrow(`inflates past ${BUDGET_MB} MB`);
    expect(peakRss() - rssBefore).toBeLessThan(MEMORY_BOUND);
    expect(readdirSync(join(tmp.path, 'store', '.incoming'))).toEqual([]);
  });
});
