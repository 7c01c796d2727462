// Putting the sample on disk: atomic writes, reuse of a complete sample,
// rewriting of a damaged or outdated one, refusal to wipe foreign folders, an
// event loop that keeps turning while it writes, and the `sample` CLI command.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSampleCommand } from '../../electron/cli/commands/sample-command.ts';
import type { PhantomSpec } from '../../electron/host/sample/phantom.ts';
import { SAMPLE_GENERATOR_VERSION } from '../../electron/host/sample/sample-identity.ts';
import { ensureSample, readSampleManifest, writeSample } from '../../electron/host/sample/sample-store.ts';

const SPEC: PhantomSpec = { columns: 48, rows: 48, slices: 12, pixelSpacing: 7.5, sliceThickness: 20, seed: 3 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mr-sample-store-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function freshDataDir(name: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('writeSample', () => {
  it('writes the series, the ground truth and the manifest, and reports absolute locations', async () => {
    const dir = path.join(await freshDataDir('write'), 'sample');
    const manifest = await writeSample(dir, SPEC);
    expect(manifest.dir).toBe(dir);
    expect(manifest.seriesDir).toBe(path.join(dir, 'dicom'));
    expect(manifest.generatorVersion).toBe(SAMPLE_GENERATOR_VERSION);
    expect(manifest.spec).toEqual(SPEC);
    expect(manifest.files).toHaveLength(SPEC.slices);
    expect(manifest.files.map((f) => f.sliceIndex)).toEqual([...Array(SPEC.slices).keys()]);
    expect((await readdir(manifest.seriesDir)).sort()).toEqual(manifest.files.map((f) => f.fileName).sort());
    expect((await readdir(dir)).sort()).toEqual(['dicom', 'ground-truth.json', 'ground-truth.nrrd', 'sample.json']);
    expect(await readSampleManifest(dir)).toEqual(manifest);
  });

  it('never shows a half sample at the target: it appears only when complete', async () => {
    const parent = await freshDataDir('atomic');
    const dir = path.join(parent, 'sample');
    let probe: Promise<boolean> | null = null;
    await writeSample(dir, SPEC, {
      onProgress: (done) => {
        if (done === Math.floor(SPEC.slices / 2)) {
          probe = stat(dir).then(
            () => true,
            () => false,
          );
        }
      },
    });
    expect(probe, 'progress was reported half way').not.toBeNull();
    expect(await probe!, 'the target existed half way through the write').toBe(false);
    expect(await readdir(parent)).toEqual(['sample']); // and no staging folder is left behind
  });

  it('replaces an existing sample in place', async () => {
    const dir = path.join(await freshDataDir('replace'), 'sample');
    await writeSample(dir, SPEC);
    await writeFile(path.join(dir, 'stale-marker'), 'old');
    const manifest = await writeSample(dir, { ...SPEC, seed: 4 });
    expect(manifest.spec.seed).toBe(4);
    expect(await readdir(dir)).not.toContain('stale-marker');
    expect((await readdir(path.dirname(dir))).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a non-empty folder that holds no sample, and leaves it untouched', async () => {
    const dir = await freshDataDir('foreign');
    await writeFile(path.join(dir, 'thesis.docx'), 'precious');
    await expect(writeSample(dir, SPEC)).rejects.toThrow(/refusing .*not empty.*sample\.json/);
    expect(await readdir(dir)).toEqual(['thesis.docx']);
    expect((await readdir(path.dirname(dir))).filter((n) => n.startsWith('.foreign'))).toEqual([]);
  });

  it('keeps the event loop turning while it writes the default sample', async () => {
    const dir = path.join(await freshDataDir('event-loop'), 'sample');
    let last = performance.now();
    let longestGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    let slices = 0;
    try {
      slices = (await writeSample(dir)).files.length;
    } finally {
      clearInterval(timer);
    }
    const total = performance.now() - started;
    const report = `${ticks} timer ticks, longest pause ${longestGap.toFixed(0)} ms, in a ${total.toFixed(0)} ms write of ${slices} slices`;
    // The writer hands the loop back after every slice (each takes well over the 5 ms
    // interval), so timers fire at least once per slice...
    expect(ticks, report).toBeGreaterThanOrEqual(slices);
    // ...and no pause comes near the whole write (about 0.2 s on an idle 2-core machine).
    expect(longestGap, report).toBeLessThan(Math.min(1500, total / 4));
  });
});

describe('ensureSample', () => {
  it('writes the sample into <dataDir>/sample on first use', async () => {
    const dataDir = await freshDataDir('ensure-first');
    const manifest = await ensureSample(dataDir, SPEC);
    expect(manifest.dir).toBe(path.join(dataDir, 'sample'));
    expect(manifest.files).toHaveLength(SPEC.slices);
  });

  it('reuses a complete sample without rewriting it', async () => {
    const dataDir = await freshDataDir('ensure-reuse');
    const first = await ensureSample(dataDir, SPEC);
    const marker = path.join(first.dir, 'marker');
    await writeFile(marker, 'still here');
    const before = (await stat(path.join(first.seriesDir, first.files[0]!.fileName))).mtimeMs;
    const second = await ensureSample(dataDir, SPEC);
    expect(second).toEqual(first);
    expect(await readFile(marker, 'utf8')).toBe('still here');
    expect((await stat(path.join(second.seriesDir, second.files[0]!.fileName))).mtimeMs).toBe(before);
  });

  it('rewrites a sample with a missing slice, a truncated slice or no manifest', async () => {
    const damages: Array<[string, (dir: string, series: string, file: string) => Promise<void>]> = [
      ['missing slice', async (_dir, series, file) => unlink(path.join(series, file))],
      ['truncated slice', async (_dir, series, file) => truncate(path.join(series, file), 1000)],
      ['no manifest', async (dir) => unlink(path.join(dir, 'sample.json'))],
      ['missing ground truth', async (dir) => unlink(path.join(dir, 'ground-truth.nrrd'))],
    ];
    for (const [name, damage] of damages) {
      const dataDir = await freshDataDir(`ensure-damaged-${name.replace(/ /g, '-')}`);
      const first = await ensureSample(dataDir, SPEC);
      await writeFile(path.join(first.dir, 'marker'), 'x');
      await damage(first.dir, first.seriesDir, first.files[3]!.fileName);
      const second = await ensureSample(dataDir, SPEC);
      expect(await readdir(second.dir), name).not.toContain('marker');
      const size = (await stat(path.join(second.seriesDir, second.files[3]!.fileName))).size;
      expect(size, name).toBe(second.files[3]!.bytes);
      expect(await readSampleManifest(second.dir), name).not.toBeNull();
    }
  });

  it('rewrites a sample from another generator version or spec', async () => {
    const dataDir = await freshDataDir('ensure-version');
    const first = await ensureSample(dataDir, SPEC);
    const manifestFile = path.join(first.dir, 'sample.json');
    const stored = JSON.parse(await readFile(manifestFile, 'utf8')) as { generatorVersion: string };
    stored.generatorVersion = '0.0.0-old';
    await writeFile(manifestFile, JSON.stringify(stored));
    const second = await ensureSample(dataDir, SPEC);
    expect(second.generatorVersion).toBe(SAMPLE_GENERATOR_VERSION);
    const third = await ensureSample(dataDir, { ...SPEC, seed: 5 });
    expect(third.spec.seed).toBe(5);
  });

  it('cleans up what a crashed writer left behind', async () => {
    const dataDir = await freshDataDir('ensure-crash');
    // A dead writer's staging folder (pid 2^22 + 1 exceeds Linux's pid_max default): half a sample.
    const leftover = path.join(dataDir, `.sample.partial-${2 ** 22 + 1}-deadbeef`);
    await mkdir(path.join(leftover, 'dicom'), { recursive: true });
    await writeFile(path.join(leftover, 'dicom', 'CT000001.dcm'), 'half');
    const manifest = await ensureSample(dataDir, SPEC);
    expect(await readdir(dataDir)).toEqual(['sample']);
    expect(manifest.files).toHaveLength(SPEC.slices);
  });

  it('shares one write between concurrent callers', async () => {
    const dataDir = await freshDataDir('ensure-concurrent');
    const [a, b] = await Promise.all([ensureSample(dataDir, SPEC), ensureSample(dataDir, SPEC)]);
    expect(a).toBe(b);
    expect(await readdir(dataDir)).toEqual(['sample']);
  });
});

describe('medreasoner sample', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
  }

  it('answers usage errors with exit status 2 and the usage text', async () => {
    for (const args of [[], ['--size', 'huge', 'x'], ['a', 'b'], ['--frobnicate', 'x'], ['x', '--size']]) {
      const { io, err } = capture();
      expect(await runSampleCommand(args, io), JSON.stringify(args)).toBe(2);
      expect(err.join('\n')).toMatch(/Usage: medreasoner sample <dir>/);
    }
    const help = capture();
    expect(await runSampleCommand(['--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/--size small\|512/);
  });

  it('writes the default sample to the folder given and exits 0', async () => {
    const dir = path.join(root, 'cli', 'my-sample');
    const { io, out, err } = capture();
    expect(await runSampleCommand([dir, '--size=small'], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toContain(dir);
    const manifest = await readSampleManifest(dir);
    expect(manifest?.files).toHaveLength(120);
  });

  it('exits 1 with a reason when the folder holds other things', async () => {
    const dir = await freshDataDir('cli-foreign');
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    const { io, err } = capture();
    expect(await runSampleCommand([dir], io)).toBe(1);
    expect(err.join('\n')).toMatch(/refusing/);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });
});
