// A model's manifest: what a model folder must hold and how the app runs it. One per
// model in native-models/<id>/manifest.json (the layout, licence and source: hashes are
// unknown until a user exports the weights), and one inside every exported or installed
// folder (the same layout with every file's sha256 and size pinned), which `models verify`
// checks the files against.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export const MANIFEST_FILE = 'manifest.json';

const ModelId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'model ids are lower-case letters, digits and ._-');
const RelativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), 'file paths are relative, with forward slashes and no ..');

export const ModelRole = z.enum(['crm', 'asm']);
export type ModelRole = z.infer<typeof ModelRole>;

/** transformers.js / ONNX Runtime dtype names, as used in file suffixes. */
export const OnnxDtype = z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']);
export type OnnxDtype = z.infer<typeof OnnxDtype>;

/** File-name suffix transformers.js uses for each dtype. */
export const DTYPE_SUFFIX: Record<OnnxDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

export const TensorSpec = z.object({
  name: z.string(),
  /** 'float' is the variant's float type (float32 or float16). */
  type: z.enum(['float', 'float32', 'float16', 'int64', 'int32', 'uint8', 'bool']),
  dims: z.array(z.union([z.number().int().nonnegative(), z.string()])),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

export const SessionSignature = z.object({
  inputs: z.array(TensorSpec),
  outputs: z.array(TensorSpec),
});
export type SessionSignature = z.infer<typeof SessionSignature>;

export const ManifestFile = z.object({
  path: RelativePath,
  /** null in the repository's manifests for locally exported files; pinned in exported folders. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  size: z.number().int().nonnegative().nullable(),
  /** Dtype variants that need this file; absent: every variant. */
  variants: z.array(z.string()).optional(),
});
export type ManifestFile = z.infer<typeof ManifestFile>;

export const DtypeVariant = z.object({
  name: z.string().regex(/^[a-z0-9_]+$/),
  /** dtype of each ONNX session (keys: session names such as decoder_model_merged). */
  sessions: z.record(z.string(), OnnxDtype),
  description: z.string(),
});
export type DtypeVariant = z.infer<typeof DtypeVariant>;

export const ModelManifest = z.object({
  schemaVersion: z.literal(1),
  id: ModelId,
  version: z.string().min(1),
  role: ModelRole,
  displayName: z.string().min(1),
  description: z.string(),
  /** How the app runs it. */
  runtime: z.enum(['transformers.js/qwen2_5_vl', 'onnxruntime/sam2']),
  licence: z.object({ name: z.string(), url: z.string().nullable(), notes: z.string().optional() }),
  source: z.object({
    /** Where the weights come from (a Hugging Face repository, a URL). */
    checkpoint: z.string(),
    revision: z.string().nullable(),
    /** The script in native-models/ that produces this folder; null for test fixtures. */
    exportScript: z.string().nullable(),
    /** A published copy of this exact folder, for `models install --from-hub`; null when none exists. */
    hub: z.object({ repo: z.string(), revision: z.string() }).nullable(),
  }),
  variants: z.array(DtypeVariant).min(1),
  defaultVariant: z.object({ cpu: z.string(), cuda: z.string() }),
  files: z.array(ManifestFile).min(1),
  /** Expected tensor signatures per ONNX session. */
  sessions: z.record(z.string(), SessionSignature),
  /** True for the generated tiny test models: they cannot answer anything. */
  testFixture: z.boolean().default(false),
  /**
   * Test fixtures only (ignored otherwise): the inference process aborts when it loads this
   * model, as native code that crashes would. ONNX Runtime 1.30 reports a missing or short
   * external data file as an error, so the tests of the host's crash handling need a stand-in.
   */
  testAbortOnLoad: z.boolean().optional(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

export class ManifestError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ManifestError';
    this.file = file;
  }
}

export function parseManifest(value: unknown, file: string): ModelManifest {
  const parsed = ModelManifest.safeParse(value);
  if (!parsed.success) {
    throw new ManifestError(file, `not a valid model manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const manifest = parsed.data;
  const names = new Set(manifest.variants.map((v) => v.name));
  for (const key of ['cpu', 'cuda'] as const) {
    if (!names.has(manifest.defaultVariant[key])) throw new ManifestError(file, `defaultVariant.${key} "${manifest.defaultVariant[key]}" is not one of the variants (${[...names].join(', ')})`);
  }
  for (const entry of manifest.files) {
    for (const variant of entry.variants ?? []) {
      if (!names.has(variant)) throw new ManifestError(file, `file ${entry.path} names an unknown variant "${variant}"`);
    }
  }
  return manifest;
}

export async function readManifest(file: string): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(file, code === 'ENOENT' ? 'missing' : `unreadable (${code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(file, `not JSON (${(error as Error).message})`);
  }
  return parseManifest(json, file);
}

/** Files a variant needs. */
export function variantFiles(manifest: ModelManifest, variant: string): ManifestFile[] {
  return manifest.files.filter((f) => !f.variants || f.variants.includes(variant));
}

export function findVariant(manifest: ModelManifest, name: string): DtypeVariant | undefined {
  return manifest.variants.find((v) => v.name === name);
}
