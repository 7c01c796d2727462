// Explicit step: fetch onnxruntime-node's CUDA execution provider libraries (from
// NuGet, through onnxruntime-node's own installer). Needs an NVIDIA driver and CUDA 12
// runtime on the machine; without this step inference runs on the CPU.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const installer = path.join(root, 'node_modules', 'onnxruntime-node', 'script', 'install.js');
if (process.platform !== 'linux' && process.platform !== 'win32') {
  console.log(`No CUDA build of onnxruntime-node exists for ${process.platform}: inference uses the CPU (CoreML is not wired yet).`);
  process.exit(0);
}
console.log('Installing the CUDA 12 execution provider for onnxruntime-node…');
const result = spawnSync(process.execPath, [installer, '--onnxruntime-node-install=cuda12'], {
  stdio: 'inherit',
  cwd: path.dirname(installer),
});
if (result.status !== 0) {
  console.error('\nThe CUDA libraries could not be installed (NuGet unreachable?). Inference keeps running on the CPU.');
  process.exit(1);
}
console.log('CUDA execution provider installed. The app picks the GPU at start-up when the driver is usable.');
