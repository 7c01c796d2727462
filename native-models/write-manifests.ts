// Writes native-models/<id>/manifest.json for the models the app knows, from the tensor
// signatures in electron/host/models/signatures.ts (run after changing either):
//   npx node native-models/write-manifests.ts
// The repository's manifests pin no sha256 or size: the ONNX files are produced on the
// user's machine by the export scripts, which write a pinned manifest.json into the export.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPE_SUFFIX, parseManifest, type ModelManifest, type OnnxDtype } from '../electron/host/models/manifest.ts';
import { QWEN25_VL_7B, qwen25vlSignatures, sam2Signatures } from '../electron/host/models/signatures.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

function sessionFiles(sessions: Record<string, OnnxDtype>, variant: string, allVariants: Record<string, Record<string, OnnxDtype>>): ModelManifest['files'] {
  // A file belongs to every variant that uses the same session at the same dtype.
  return Object.entries(sessions).flatMap(([session, dtype]) => {
    const users = Object.entries(allVariants)
      .filter(([, s]) => s[session] === dtype)
      .map(([name]) => name);
    if (users[0] !== variant) return []; // listed once, by the first variant using it
    const base = `onnx/${session}${DTYPE_SUFFIX[dtype]}.onnx`;
    return [
      { path: base, sha256: null, size: null, variants: users },
      { path: `${base}_data`, sha256: null, size: null, variants: users },
    ];
  });
}

// embed_tokens and vision_encoder always share a float type: transformers.js copies the image
// features into the token embeddings' typed array.
const crmVariants: Record<string, Record<string, OnnxDtype>> = {
  fp32: { embed_tokens: 'fp32', vision_encoder: 'fp32', decoder_model_merged: 'fp32' },
  fp16: { embed_tokens: 'fp16', vision_encoder: 'fp16', decoder_model_merged: 'fp16' },
  q4f16: { embed_tokens: 'fp16', vision_encoder: 'fp16', decoder_model_merged: 'q4f16' },
  q4: { embed_tokens: 'fp32', vision_encoder: 'fp32', decoder_model_merged: 'q4' },
};

const crmDescriptions: Record<string, string> = {
  fp32: 'float32 everywhere (the reference the others are checked against; ~33 GB)',
  fp16: 'float16 everywhere, float32 pixel input and rotary math (GPU; ~17 GB)',
  q4f16: '4-bit decoder weights, float16 activations (GPU with less memory; ~7 GB)',
  q4: '4-bit decoder weights, float32 embedding and vision encoder (CPU; ~10 GB)',
};

const crm: ModelManifest = {
  schemaVersion: 1,
  id: 'medreasoner-7b',
  version: '1',
  role: 'crm',
  displayName: 'MedReasoner-7B (Clinical Reasoning Module)',
  description:
    'Qwen2.5-VL-7B fine-tuned with reinforcement learning (from Lingshu-7B) to answer implicit clinical questions with a reasoning trace, a box and two key points (arXiv 2508.08177).',
  runtime: 'transformers.js/qwen2_5_vl',
  licence: {
    name: 'see the model card',
    url: 'https://huggingface.co/collections/zzzyzh/medreasoner',
    notes: 'Derived from Qwen2.5-VL-7B (Apache-2.0) via Lingshu-7B; check the MedReasoner model card for the weights\u2019 licence before redistributing an export.',
  },
  source: {
    checkpoint: 'Hugging Face collection zzzyzh/medreasoner (MedReasoner-7B; Soft, Hard and Base variants), prompt from github.com/PRIS-CV/MedReasoner eval/infer.py',
    revision: null,
    exportScript: 'export_medreasoner.py',
    hub: null,
  },
  variants: Object.entries(crmVariants).map(([name, sessions]) => ({
    name,
    sessions,
    description: crmDescriptions[name]!,
  })),
  defaultVariant: { cpu: 'q4', cuda: 'fp16' },
  files: [
    ...['config.json', 'generation_config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'prompt.json'].map((p) => ({ path: p, sha256: null, size: null })),
    ...Object.entries(crmVariants).flatMap(([name, sessions]) => sessionFiles(sessions, name, crmVariants)),
  ],
  sessions: qwen25vlSignatures(QWEN25_VL_7B),
  testFixture: false,
};

const asmVariants: Record<string, Record<string, OnnxDtype>> = {
  fp32: { vision_encoder: 'fp32', prompt_encoder_mask_decoder: 'fp32' },
  fp16: { vision_encoder: 'fp16', prompt_encoder_mask_decoder: 'fp16' },
};

const asm: ModelManifest = {
  schemaVersion: 1,
  id: 'medsam2',
  version: '1',
  role: 'asm',
  displayName: 'MedSAM2 (Anatomical Segmentation Module)',
  description: 'SAM2.1 hiera-tiny fine-tuned on medical images at 512×512 (bowang-lab/MedSAM2), used as a 2D prompt-to-mask model.',
  runtime: 'onnxruntime/sam2',
  licence: {
    name: 'Apache-2.0',
    url: 'https://github.com/bowang-lab/MedSAM2',
    notes: 'Code under Apache-2.0; check the wanglab/MedSAM2 model card for the checkpoint\u2019s terms before redistributing an export.',
  },
  source: { checkpoint: 'huggingface.co/wanglab/MedSAM2 (MedSAM2_2411.pt; config sam2.1_hiera_t512, image_size 512)', revision: null, exportScript: 'export_medsam2.py', hub: null },
  variants: [
    { name: 'fp32', sessions: asmVariants.fp32!, description: 'float32 (CPU and GPU; ~126 MB)' },
    { name: 'fp16', sessions: asmVariants.fp16!, description: 'float16 (GPU; ~64 MB; float32 inputs and outputs)' },
  ],
  defaultVariant: { cpu: 'fp32', cuda: 'fp16' },
  files: [
    ...['config.json', 'preprocessor_config.json'].map((p) => ({ path: p, sha256: null, size: null })),
    ...Object.entries(asmVariants).flatMap(([name, sessions]) => sessionFiles(sessions, name, asmVariants)),
  ],
  sessions: sam2Signatures(512),
  testFixture: false,
};

for (const manifest of [crm, asm]) {
  parseManifest(manifest, manifest.id); // refuses to write an invalid one
  await mkdir(path.join(here, manifest.id), { recursive: true });
  await writeFile(path.join(here, manifest.id, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote native-models/${manifest.id}/manifest.json`);
}
