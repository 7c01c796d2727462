// Cornerstone3D start-up: core, the DICOM image loader and the tools, once per page.
import { init as coreInit } from '@cornerstonejs/core';
import { init as dicomImageLoaderInit } from '@cornerstonejs/dicom-image-loader';
import { init as toolsInit } from '@cornerstonejs/tools';
import { trackImageRequest } from './image-requests.ts';
import { inflateDeflatedPart10 } from './inflate-deflated-part10.ts';

let started: Promise<void> | null = null;

export function initCornerstone(): Promise<void> {
  started ??= start();
  return started;
}

async function start(): Promise<void> {
  coreInit();
  // Decoding runs in module web workers (dicom-image-loader's decodeImageFrameWorker),
  // which carry every codec: little/big endian, deflate and RLE in plain JS, JPEG
  // lossless and 12-bit baseline in JS, and JPEG baseline (libjpeg-turbo), JPEG-LS
  // (CharLS), JPEG 2000 (OpenJPEG), HTJ2K (OpenJPH) and JPEG XL in WASM. Vite resolves
  // each codec's `new URL('@cornerstonejs/codec-…', import.meta.url)` and emits the WASM
  // as an asset beside the worker, so the same bundle finds them under http:// and
  // under the Electron custom scheme without a wasmBasePath. 12-bit JPEG goes through
  // a patched JS decoder (see renderer/jpeg12-level-shift-fix.ts), deflated files are
  // inflated on arrival (see inflate-deflated-part10.ts).
  dicomImageLoaderInit({
    maxWebWorkers: workerCount(),
    beforeProcessing: (xhr) => inflateDeflatedPart10(xhr.response as ArrayBuffer),
    // Lets a cancelled volume abort its downloads (image-requests.ts).
    beforeSend: (xhr, imageId) => trackImageRequest(xhr, imageId),
  });
  toolsInit();
}

/** Half the cores, at least one and at most four: decoding must not starve the UI thread. */
function workerCount(): number {
  const cores = typeof navigator.hardwareConcurrency === 'number' ? navigator.hardwareConcurrency : 2;
  return Math.min(4, Math.max(1, Math.floor(cores / 2)));
}
