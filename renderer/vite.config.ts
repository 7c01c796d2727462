// Builds the renderer once for both shells: Electron loads it from the custom scheme
// medreasoner://app/ and browser mode from http://127.0.0.1:<port>/, so every URL in
// the bundle is relative (base './') and nothing is fetched from outside the bundle
// (the browser server's CSP allows 'self' only).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { jpeg12LevelShiftFix } from './jpeg12-level-shift-fix.ts';

const rendererRoot = dirname(fileURLToPath(import.meta.url));

// Codec WASM: Vite resolves the decoders' `new URL('@cornerstonejs/codec-…/decodewasm',
// import.meta.url)` and emits each .wasm as a hashed asset beside the decode worker, so
// no wasmBasePath is needed under either scheme.
export default defineConfig({
  root: rendererRoot,
  base: './',
  publicDir: false,
  plugins: [jpeg12LevelShiftFix()],
  resolve: {
    alias: {
      // dicom-image-loader's worker-side decoder (every codec, its rescale and buffer-type rules),
      // which its package exports do not name: the slice-batch worker decodes with it too.
      'cornerstone-decode-image-frame': resolve(rendererRoot, '../node_modules/@cornerstonejs/dicom-image-loader/dist/esm/decodeImageFrameWorker.js'),
    },
  },
  build: {
    outDir: resolve(rendererRoot, '../dist/renderer'),
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: true,
    // Cornerstone + vtk.js is large by nature; the warning would only be noise.
    chunkSizeWarningLimit: 8000,
    assetsInlineLimit: 0,
  },
  // Workers are bundled on their own, with their own plugins: the JPEG decoder runs there.
  worker: {
    format: 'es',
    plugins: () => [jpeg12LevelShiftFix()],
  },
  optimizeDeps: {
    // Dev server only: the loader's worker and codec URLs break when pre-bundled.
    exclude: ['@cornerstonejs/dicom-image-loader'],
    include: [
      '@cornerstonejs/core',
      '@cornerstonejs/metadata',
      '@cornerstonejs/tools',
      'dicom-parser',
      '@cornerstonejs/codec-charls/decodewasmjs',
      '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
      '@cornerstonejs/codec-openjpeg/decodewasmjs',
      '@cornerstonejs/codec-openjph/wasmjs',
      '@cornerstonejs/codec-libjxl/decodewasmjs',
    ],
  },
});
