// electron-builder's afterPack hook (build/electron-builder.yml): flips the packaged
// Electron binary's fuses before it is signed. A fuse is a byte in the binary that
// Electron reads at start; once flipped, no environment variable or flag undoes it.
// - RunAsNode off: ELECTRON_RUN_AS_NODE would turn the signed app into a general Node.js
//   (the inference process is a utilityProcess, electron/shell/utility-process-launcher.ts,
//   because child_process.fork of the app would need this fuse);
// - NODE_OPTIONS and --inspect off: no code injected into the app from its command line;
// - asar integrity validation and only-from-asar on: the app runs only its packaged,
//   checked code (Electron validates the asar on macOS and Windows);
// - cookie encryption on: cookies at rest are encrypted with the OS keystore.
import electronFuses from '@electron/fuses';
import path from 'node:path';

const { flipFuses, FuseV1Options, FuseVersion } = electronFuses;

/** The fuses this app sets, by their @electron/fuses names; every other fuse keeps Electron's default. */
export const APP_FUSES = {
  RunAsNode: false,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  EnableCookieEncryption: true,
} as const satisfies Partial<Record<keyof typeof FuseV1Options, boolean>>;

export function fuseConfig(resetAdHocDarwinSignature: boolean): Parameters<typeof flipFuses>[1] {
  const config: Parameters<typeof flipFuses>[1] = { version: FuseVersion.V1, resetAdHocDarwinSignature };
  for (const [name, value] of Object.entries(APP_FUSES)) {
    (config as Record<number, boolean>)[FuseV1Options[name as keyof typeof FuseV1Options]] = value;
  }
  return config;
}

/** What electron-builder hands an afterPack hook, as far as this hook reads it. */
export interface PackedApp {
  appOutDir: string;
  electronPlatformName: string;
  /** Arch enum of builder-util: 3 is arm64. */
  arch: number;
  packager: { appInfo: { productFilename: string }; executableName?: string };
}

/** Where the Electron binary (or, on macOS, the .app whose framework holds the fuses) is. */
export function electronBinaryPath(context: PackedApp): string {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'linux') return path.join(appOutDir, packager.executableName ?? packager.appInfo.productFilename);
  const extension = electronPlatformName === 'win32' ? '.exe' : '.app';
  return path.join(appOutDir, `${packager.appInfo.productFilename}${extension}`);
}

const ARM64 = 3;

export default async function afterPack(context: PackedApp): Promise<void> {
  // An arm64 macOS binary must stay ad-hoc signed after its bytes change, or it will not start.
  const darwinArm = (context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas') && context.arch === ARM64;
  await flipFuses(electronBinaryPath(context), fuseConfig(darwinArm));
}
