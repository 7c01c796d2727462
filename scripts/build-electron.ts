// Bundles the Electron main process, its preload and the host's worker entry points
// into dist/electron. Workers are separate entries because they start from their own
// file (electron/host/worker-url.ts finds them next to the bundle).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODEC_ASSETS, packagedCodecAsset } from '../electron/host/inference/pixel-codecs.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'electron');
// Native addons, and transformers.js which loads them and its own data files at run time, stay in node_modules.
const external = ['electron', 'onnxruntime-node', '@huggingface/transformers', 'sharp', 'bufferutil', 'utf-8-validate'];

/** Worker entry points of the host: output name → source. Keep in sync with new workers. */
export const WORKER_ENTRIES: Record<string, string> = {
  'import-worker': 'electron/host/dicom/import-worker.ts',
  'inference-process': 'electron/host/inference/inference-process.ts',
  'instance-info-worker': 'electron/host/pacs/instance-info-worker.ts',
  'seg-worker': 'electron/host/seg/seg-worker.ts',
  'slice-worker': 'electron/host/inference/slice-worker.ts',
};

const common = { bundle: true, platform: 'node', target: 'node22', sourcemap: true, logLevel: 'info', external } as const;

await build({
  ...common,
  format: 'esm',
  outdir,
  entryPoints: {
    main: path.join(root, 'electron/shell/main.ts'),
    ...Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, source]) => [name, path.join(root, source)])),
  },
  outExtension: { '.js': '.js' },
  // Bundled CommonJS dependencies call require(), and the Emscripten codecs read __dirname
  // when they see Node; give the ESM bundle both (__dirname under a name of its own, so
  // that modules declaring their own __dirname keep theirs).
  banner: {
    js: "import { createRequire as __mrCreateRequire } from 'node:module'; import { dirname as __mrDirnameOf } from 'node:path'; import { fileURLToPath as __mrFileUrlToPath } from 'node:url'; const require = __mrCreateRequire(import.meta.url); const __mrFilename = __mrFileUrlToPath(import.meta.url); const __mrDirname = __mrDirnameOf(__mrFilename);",
  },
  define: { __dirname: '__mrDirname', __filename: '__mrFilename' },
});

// The slice worker's codecs: WASM binaries and dicom-image-loader's jpeg.js, which
// pixel-codecs.ts reads from codecs/ next to the bundle (its codecAssetPath).
mkdirSync(path.join(outdir, 'codecs'), { recursive: true });
for (const name of Object.keys(CODEC_ASSETS)) copyFileSync(packagedCodecAsset(name), path.join(outdir, 'codecs', name));

// A sandboxed preload cannot be an ES module.
await build({ ...common, format: 'cjs', entryPoints: [path.join(root, 'electron/shell/preload.ts')], outfile: path.join(outdir, 'preload.cjs') });
