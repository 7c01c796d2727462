// The segmentation part of the renderer ↔ host contract: DICOM-SEG export and import,
// the SEG summary, and autosave. Same shape as `calls`/`events` in contract.ts, so the
// lead can spread these into them. No Node imports: the renderer bundles this file.
//
// Labelmaps cross the boundary run-length encoded and base64'd (LabelmapPayload): the
// browser-mode transport is JSON, and a CT labelmap is mostly long runs of one value.
import { z } from 'zod';

const Name = z.string().min(1).max(64);
const SeriesKey = z.string().min(1).max(256);
const FileKey = z.string().min(1).max(128);
const AbsolutePath = z.string().min(1).max(4096);
const SessionId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'session ids are letters, digits and _.:-');
const Rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);

/** A DICOM coded entry (SNOMED CT "SCT", "DCM", …). */
export const CodeSchema = z.object({
  value: z.string().min(1).max(16),
  scheme: z.string().min(1).max(16),
  meaning: z.string().min(1).max(64),
});
export type CodeSchema = z.infer<typeof CodeSchema>;

export const SegmentationTypeSchema = z.enum(['BINARY', 'LABELMAP']);
/** LABELMAP only: RLE Lossless, what OHIF writes by default. */
export const SegCompressionSchema = z.enum(['none', 'rle']);

/**
 * One name for type + compression, as the CLI's --seg-type and a PACS node's setting say
 * it. BINARY is the default where the receiver is unknown: every SEG reader takes it,
 * while LABELMAP (Sup 243, 2024) is newer than many.
 */
export const SegFormatSchema = z.enum(['binary', 'labelmap', 'labelmap-rle']);
export type SegFormat = z.infer<typeof SegFormatSchema>;
export const DEFAULT_SEG_FORMAT: SegFormat = 'binary';

export function segFormatParts(format: SegFormat): { type: 'BINARY' | 'LABELMAP'; compression: 'none' | 'rle' } {
  if (format === 'binary') return { type: 'BINARY', compression: 'none' };
  return { type: 'LABELMAP', compression: format === 'labelmap-rle' ? 'rle' : 'none' };
}
export const SegmentAlgorithmTypeSchema = z.enum(['AUTOMATIC', 'SEMIAUTOMATIC', 'MANUAL']);
export const ProvenanceSourceSchema = z.enum(['manual', 'ai', 'ai-edited', 'interactive']);

/**
 * A prompt given to the model, in the source image's pixel coordinates as DICOM SR
 * SCOORD uses them: x along a row (column), y down the columns (row), (0,0) the
 * top-left corner of the top-left pixel. sliceIndex is the source slice (slice order).
 */
export const PromptSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('point'),
    sliceIndex: z.number().int().nonnegative(),
    x: z.number().finite(),
    y: z.number().finite(),
    label: z.enum(['positive', 'negative']),
  }),
  z.object({
    kind: z.literal('box'),
    sliceIndex: z.number().int().nonnegative(),
    x0: z.number().finite(),
    y0: z.number().finite(),
    x1: z.number().finite(),
    y1: z.number().finite(),
  }),
]);
export type PromptSchema = z.infer<typeof PromptSchema>;

/** A model (TID 4019 algorithm identification); `server` names where a remote model ran, absent for a local one. */
export const ModelIdSchema = z.object({ name: Name, version: z.string().min(1).max(64), server: z.string().min(1).max(64).optional() });

export const ProvenanceSchema = z.object({
  source: ProvenanceSourceSchema,
  question: z.string().max(65_536).optional(),
  reasoning: z.string().max(1_000_000).optional(),
  /** The model's raw answer, as it came. */
  answer: z.string().max(1_000_000).optional(),
  prompts: z.array(PromptSchema).max(1000).optional(),
  models: z.array(ModelIdSchema).max(16).optional(),
});
export type ProvenanceSchema = z.infer<typeof ProvenanceSchema>;

export const SegmentSchema = z.object({
  /** The labelmap value of this segment: 1, 2, … in order. */
  number: z.number().int().min(1).max(65535),
  label: Name,
  color: Rgb,
  category: CodeSchema,
  type: CodeSchema,
  anatomicRegion: CodeSchema.optional(),
  description: z.string().max(64).optional(),
  /** Derived from provenance when left out (ai → AUTOMATIC, ai-edited → SEMIAUTOMATIC, manual → MANUAL). */
  algorithmType: SegmentAlgorithmTypeSchema.optional(),
  /** Required unless MANUAL; defaults to the models' names. */
  algorithmName: z.string().min(1).max(64).optional(),
  provenance: ProvenanceSchema,
});
export type SegmentSchema = z.infer<typeof SegmentSchema>;

export const LabelmapPayload = z.object({
  dtype: z.enum(['uint8', 'uint16']),
  /** Voxels: columns × rows × slices, x fastest, then y, then slice index. */
  length: z.number().int().positive(),
  /** base64 of (value, run length) pairs as unsigned LEB128 varints. */
  rle: z.string(),
});
export type LabelmapPayload = z.infer<typeof LabelmapPayload>;

export const SegmentationPayload = z.object({
  segments: z.array(SegmentSchema).min(1).max(65535),
  labelmap: LabelmapPayload,
});
export type SegmentationPayload = z.infer<typeof SegmentationPayload>;

const WrittenObject = z.object({
  path: z.string(),
  sopInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  bytes: z.number().int().nonnegative(),
});

export const SegExportResult = z.object({
  seg: WrittenObject.extend({ frames: z.number().int().positive(), type: SegmentationTypeSchema, transferSyntaxUid: z.string() }),
  sr: WrittenObject.nullable(),
  elapsedMs: z.number(),
});
export type SegExportResult = z.infer<typeof SegExportResult>;

/** Either a file the index knows (fileKey) or a path (CLI, browser mode). */
const SegFileRef = z
  .object({ fileKey: FileKey.optional(), path: AbsolutePath.optional() })
  .strict()
  .refine((p) => (p.fileKey === undefined) !== (p.path === undefined), 'give exactly one of fileKey or path');

export const SegSegmentInfo = z.object({
  number: z.number().int(),
  label: z.string(),
  category: CodeSchema.nullable(),
  type: CodeSchema.nullable(),
  algorithmType: z.string(),
  algorithmName: z.string().nullable(),
  color: Rgb.nullable(),
  /** Frames that carry this segment (LABELMAP: frames where its value occurs, counted on decode). */
  frames: z.number().int().nonnegative(),
});

export const SegInfo = z.object({
  sopClassUid: z.string(),
  sopInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  seriesDescription: z.string(),
  contentLabel: z.string(),
  contentCreatorName: z.string(),
  segmentationType: z.string(),
  rows: z.number().int(),
  columns: z.number().int(),
  frames: z.number().int(),
  frameOfReferenceUid: z.string().nullable(),
  transferSyntaxUid: z.string(),
  segments: z.array(SegSegmentInfo),
  referencedSeries: z.array(z.object({ seriesInstanceUid: z.string(), instances: z.number().int() })),
  /** The earlier version(s) this SEG replaces (a SEG named in its Common Instance Reference). */
  supersedes: z.array(z.object({ sopInstanceUid: z.string(), seriesInstanceUid: z.string() })),
  warnings: z.array(z.string()),
});
export type SegInfo = z.infer<typeof SegInfo>;

export const SegImportResult = z.object({
  /** The loaded series the SEG was mapped onto. */
  seriesKey: z.string(),
  info: SegInfo,
  /** Numbered 1…n in SEG order; `originalNumber` keeps the SEG's own number. */
  segments: z.array(SegmentSchema.extend({ originalNumber: z.number().int() })),
  labelmap: LabelmapPayload,
  /** The reasoning SR that references this SEG, when one is in the index: its provenance is restored into the segments. */
  report: z.object({ sopInstanceUid: z.string(), seriesInstanceUid: z.string(), path: z.string() }).nullable(),
  /** Lenient reads, overlaps, frames off the series: said in words, never silently. */
  warnings: z.array(z.string()),
  elapsedMs: z.number(),
});
export type SegImportResult = z.infer<typeof SegImportResult>;

export const AutosaveSummary = z.object({
  sessionId: z.string(),
  seriesKey: z.string(),
  savedAt: z.string(),
  segmentCount: z.number().int(),
  bytes: z.number().int(),
});
export type AutosaveSummary = z.infer<typeof AutosaveSummary>;

export const segCalls = {
  /** Writes a DICOM-SEG (a new series; earlier versions are kept) and optionally the reasoning SR. */
  'seg.export': {
    params: z
      .object({
        seriesKey: SeriesKey,
        segmentation: SegmentationPayload,
        type: SegmentationTypeSchema.default('BINARY'),
        compression: SegCompressionSchema.default('none'),
        withSr: z.boolean().default(false),
        /** The SEG this export replaces (a new version): referenced from the new SEG, its SR names the old SR. */
        supersedes: z.object({ sopInstanceUid: z.string().min(1).max(64), seriesInstanceUid: z.string().min(1).max(64) }).strict().optional(),
        seriesDescription: z.string().min(1).max(64).optional(),
        contentCreatorName: z.string().max(64).optional(),
        /** Folder to write into; the host's segmentation folder when left out. */
        outDir: AbsolutePath.optional(),
      })
      .strict(),
    result: SegExportResult,
  },
  /** Reads a SEG and maps it onto its source series, which must be loaded. */
  'seg.import': {
    params: z
      .object({ fileKey: FileKey.optional(), path: AbsolutePath.optional(), seriesKey: SeriesKey.optional() })
      .strict()
      .refine((p) => (p.fileKey === undefined) !== (p.path === undefined), 'give exactly one of fileKey or path'),
    result: SegImportResult,
  },
  'seg.info': { params: SegFileRef, result: SegInfo },
  /** Stores work in progress atomically; the renderer calls it every few seconds while dirty. */
  'seg.autosave': {
    params: z.object({ sessionId: SessionId, seriesKey: SeriesKey, segmentation: SegmentationPayload }).strict(),
    result: z.object({ savedAt: z.string(), bytes: z.number().int() }),
  },
  'seg.listAutosaves': {
    params: z.object({}).strict(),
    result: z.object({ autosaves: z.array(AutosaveSummary) }),
  },
  'seg.restore': {
    params: z.object({ sessionId: SessionId }).strict(),
    result: z.object({ sessionId: z.string(), seriesKey: z.string(), savedAt: z.string(), segmentation: SegmentationPayload }),
  },
  'seg.discardAutosave': {
    params: z.object({ sessionId: SessionId }).strict(),
    result: z.object({ discarded: z.boolean() }),
  },
} as const;

export const segEvents = {
  'seg.autosaved': z.object({ sessionId: z.string(), savedAt: z.string(), bytes: z.number().int() }),
  'seg.exported': z.object({ seriesKey: z.string(), segPath: z.string(), srPath: z.string().nullable() }),
} as const;

// ---------------------------------------------------------------------------------
// Labelmap payload codec. Pure TypeScript (btoa/atob exist in Node and browsers).

export type LabelmapArray = Uint8Array | Uint16Array;

/** Run-length encodes a labelmap and base64s it. */
export function encodeLabelmap(labelmap: LabelmapArray): LabelmapPayload {
  if (labelmap.length === 0) throw new RangeError('cannot encode an empty labelmap');
  let out = new Uint8Array(Math.max(1024, labelmap.length >>> 6));
  let at = 0;
  const put = (value: number) => {
    // 5 bytes hold any 32-bit varint.
    if (at + 5 > out.length) {
      const grown = new Uint8Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    let v = value >>> 0;
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
  };
  let runValue = labelmap[0]!;
  let runStart = 0;
  for (let i = 1; i < labelmap.length; i++) {
    const v = labelmap[i]!;
    if (v !== runValue) {
      put(runValue);
      put(i - runStart);
      runValue = v;
      runStart = i;
    }
  }
  put(runValue);
  put(labelmap.length - runStart);
  return { dtype: labelmap instanceof Uint16Array ? 'uint16' : 'uint8', length: labelmap.length, rle: bytesToBase64(out.subarray(0, at)) };
}

/** Decodes a payload; throws with what is wrong when it does not add up to `length` voxels. */
export function decodeLabelmap(payload: LabelmapPayload): LabelmapArray {
  const bytes = base64ToBytes(payload.rle);
  const labelmap = payload.dtype === 'uint16' ? new Uint16Array(payload.length) : new Uint8Array(payload.length);
  const max = payload.dtype === 'uint16' ? 0xffff : 0xff;
  let at = 0;
  const take = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new RangeError('labelmap payload ends inside a run');
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
      shift += 7;
      if (shift > 35) throw new RangeError('labelmap payload holds a malformed varint');
    }
  };
  let filled = 0;
  while (at < bytes.length) {
    const value = take();
    const run = take();
    if (value > max) throw new RangeError(`labelmap payload value ${value} does not fit ${payload.dtype}`);
    if (run === 0 || filled + run > payload.length) {
      throw new RangeError(`labelmap payload runs exceed the declared ${payload.length} voxels`);
    }
    if (value !== 0) labelmap.fill(value, filled, filled + run);
    filled += run;
  }
  if (filled !== payload.length) throw new RangeError(`labelmap payload holds ${filled} voxels, declared ${payload.length}`);
  return labelmap;
}

function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const chunk = 0x6000; // a multiple of 3, so chunks concatenate without padding in between
  for (let i = 0; i < bytes.length; i += chunk) {
    parts.push(btoa(String.fromCharCode(...bytes.subarray(i, i + chunk))));
  }
  return parts.join('');
}

function base64ToBytes(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new RangeError('labelmap payload is not valid base64');
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
