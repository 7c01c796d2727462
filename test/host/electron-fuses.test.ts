// The packaging hook that flips Electron's fuses, run on a stand-in for the Electron
// binary (the real one cannot be downloaded here): random bytes around the fuse wire in
// the layout @electron/fuses reads — its sentinel, the wire version, the wire length, one
// byte per fuse ('0' off, '1' on). The hook must flip exactly the six fuses it names and
// leave every other byte alone; @electron/fuses' own reader judges the result. The builder
// configuration is loaded, validated and its hook resolved by electron-builder's own code.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import electronFuses from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import afterPack, { APP_FUSES, type PackedApp } from '../../build/electron-fuses.ts';

const require = createRequire(import.meta.url);
const { SENTINEL, FuseState } = require('@electron/fuses/dist/constants.js') as { SENTINEL: string; FuseState: Record<string, number> };
const { getCurrentFuseWire, FuseV1Options } = electronFuses;
const REPO = path.resolve(import.meta.dirname, '../..');
const ON = 0x31;
const OFF = 0x30;

// Electron 45's defaults for the eight v1 fuses, in wire order.
const DEFAULT_WIRE = [ON, OFF, ON, ON, OFF, OFF, OFF, ON];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mr-fuses-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake linux app folder whose "binary" holds a fuse wire at a random-looking offset. */
async function fakeApp(name: string): Promise<{ context: PackedApp; binary: string; before: Buffer; wireAt: number }> {
  const appOutDir = path.join(dir, name);
  await mkdir(appOutDir, { recursive: true });
  const head = randomBytes(4096);
  const sentinel = Buffer.from(SENTINEL, 'latin1');
  const wire = Buffer.from([1, DEFAULT_WIRE.length, ...DEFAULT_WIRE]);
  const before = Buffer.concat([head, sentinel, wire, randomBytes(4096)]);
  const binary = path.join(appOutDir, 'medreasoner-workstation');
  await writeFile(binary, before);
  const context: PackedApp = { appOutDir, electronPlatformName: 'linux', arch: 1, packager: { appInfo: { productFilename: 'MedReasoner Workstation' }, executableName: 'medreasoner-workstation' } };
  return { context, binary, before, wireAt: head.length + sentinel.length + 2 };
}

function expectedFlips(): Map<number, number> {
  return new Map(Object.entries(APP_FUSES).map(([name, on]) => [FuseV1Options[name as keyof typeof FuseV1Options], on ? ON : OFF]));
}

describe('Electron fuses (afterPack)', () => {
  it('names the six fuses the app needs, each the right way', () => {
    expect(APP_FUSES).toEqual({
      RunAsNode: false,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      EnableCookieEncryption: true,
    });
  });

  it('flips exactly those bytes of the binary and no other', async () => {
    const { context, binary, before, wireAt } = await fakeApp('direct');
    await afterPack(context);
    const after = await readFile(binary);
    expect(after.length).toBe(before.length);
    const flips = expectedFlips();
    for (let i = 0; i < after.length; i++) {
      const fuse = i - wireAt;
      const expected = flips.get(fuse) ?? before[i];
      if (after[i] !== expected) throw new Error(`byte ${i} (fuse index ${fuse}) is ${after[i]}, expected ${expected}`);
    }
    // @electron/fuses' reader agrees: the six as set, the two others as Electron ships them.
    const wire = await getCurrentFuseWire(binary);
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]).toBe(OFF);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(ON);
  });

  it('fails loudly on a binary without the fuse wire', async () => {
    const { context, binary } = await fakeApp('no-wire');
    await writeFile(binary, randomBytes(8192));
    await expect(afterPack(context)).rejects.toThrow(/sentinel/);
  });

  it('is the afterPack hook of the builder configuration, as electron-builder loads it', async () => {
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      getConfig(projectDir: string, configPath: string, options: null): Promise<{ afterPack?: unknown }>;
      validateConfiguration(config: unknown, debug: { add(key: string, value: unknown): void; isEnabled: boolean }): Promise<void>;
    };
    const { resolveFunction } = require('app-builder-lib/out/util/resolve.js') as {
      resolveFunction(type: undefined, executor: unknown, name: string, root: string): Promise<(context: PackedApp) => Promise<void>>;
    };
    const previous = process.cwd();
    process.chdir(REPO);
    try {
      const config = await getConfig(REPO, path.join(REPO, 'build/electron-builder.yml'), null);
      await validateConfiguration(config, { add: () => {}, isEnabled: false });
      expect(config.afterPack).toBe('./build/electron-fuses.ts');
      const hook = await resolveFunction(undefined, config.afterPack, 'afterPack', REPO);
      const { context, binary, wireAt } = await fakeApp('via-builder');
      await hook(context);
      const after = await readFile(binary);
      for (const [fuse, value] of expectedFlips()) expect(after[wireAt + fuse], `fuse ${FuseV1Options[fuse]}`).toBe(value);
    } finally {
      process.chdir(previous);
    }
  });
});
