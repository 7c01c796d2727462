// Bundles the Electron main process, its preload and the host's worker entry points
// into dist/electron. Workers are separate entries because they start from their own
// file (electron/host/worker-url.ts finds them next to the bundle).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'electron');
// Native addons, and transformers.js which loads them and its own data files at run time, stay in node_modules.
const external = ['electron', 'onnxruntime-node', '@huggingface/transformers', 'sharp', 'bufferutil', 'utf-8-validate'];

/** Worker entry points of the host: output name → source. Keep in sync with new workers. */
export const WORKER_ENTRIES: Record<string, string> = {
  'import-worker': 'electron/host/dicom/import-worker.ts',
  'inference-worker': 'electron/host/inference/inference-worker.ts',
  'seg-worker': 'electron/host/seg/seg-worker.ts',
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
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __mrCreateRequire } from 'node:module'; const require = __mrCreateRequire(import.meta.url);" },
});

// A sandboxed preload cannot be an ES module.
await build({ ...common, format: 'cjs', entryPoints: [path.join(root, 'electron/shell/preload.ts')], outfile: path.join(outdir, 'preload.cjs') });
