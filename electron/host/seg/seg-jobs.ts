// The heavy work of SEG export and import as plain-data functions: they run in the
// seg worker (seg-worker.ts) so the host's main thread stays responsive, and inline
// in tests and the CLI. Inputs and outputs are structured-clone-able; labelmaps travel
// as transferable typed arrays.
import { readFile } from 'node:fs/promises';
import { decodeLabelmap, encodeLabelmap, type LabelmapPayload, type SegInfo } from '../../common/contract-seg.ts';
import { alignSegToSource } from './seg-import.ts';
import { parseSeg, type ParsedSeg } from './seg-reader.ts';
import { encodeSeg, type SegCompression, type SegWriteOptions } from './seg-writer.ts';
import { loadSlice } from '../inference/slice-pixels.ts';
import { segmentStatistics, type SlicePixelSource } from './segment-stats.ts';
import { describeSeg } from './seg-info.ts';
import type { SegmentationType } from './seg-enums.ts';
import type { SegmentInit } from './segment.ts';
import { Segmentation, type Labelmap } from './segmentation.ts';
import { SourceSeries, type SourceSeriesInit } from './source-series.ts';
import { encodeReasoningSr, type SrWriteOptions } from './sr-writer.ts';
import { writeFileAtomic } from '../atomic-file.ts';

export interface ExportJobInput {
  source: SourceSeriesInit;
  segments: SegmentInit[];
  /** A payload from the contract is decoded here, off the main thread. */
  labelmap: Labelmap | LabelmapPayload;
  type: SegmentationType;
  compression?: SegCompression;
  segPath: string;
  /** The source's files in slice order (frame: 1-based, null for single-frame): mean HU in the SR comes from them. */
  sourceFiles?: Array<{ path: string; frame: number | null }>;
  /** Where the reasoning SR goes; null for no SR. */
  srPath: string | null;
  segOptions?: Omit<SegWriteOptions, 'type' | 'compression' | 'now'>;
  srOptions?: Omit<SrWriteOptions, 'now' | 'statistics'>;
}

export interface WrittenFile {
  path: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  bytes: number;
}

export interface ExportJobOutput {
  seg: WrittenFile & { frames: number; type: SegmentationType; sopClassUid: string; transferSyntaxUid: string };
  sr: WrittenFile | null;
}

export async function runExportJob(input: ExportJobInput): Promise<ExportJobOutput> {
  const labelmap = input.labelmap instanceof Uint8Array || input.labelmap instanceof Uint16Array ? input.labelmap : decodeLabelmap(input.labelmap);
  const segmentation = new Segmentation({ source: input.source, segments: input.segments, labelmap });
  const now = new Date();
  const encoded = encodeSeg(segmentation, { ...input.segOptions, type: input.type, compression: input.compression ?? 'none', now });
  // The SR is built before anything is written, so an invalid SR leaves no SEG behind.
  const statistics = input.srPath === null ? null : await segmentStatistics(segmentation, input.sourceFiles ? pixelSource(input.sourceFiles) : null);
  const sr = input.srPath === null ? null : encodeReasoningSr(segmentation, encoded, { ...input.srOptions, now, ...(statistics ? { statistics } : {}) });
  await writeFileAtomic(input.segPath, encoded.parts);
  if (sr && input.srPath) await writeFileAtomic(input.srPath, [sr.bytes]);
  return {
    seg: {
      path: input.segPath,
      sopInstanceUid: encoded.sopInstanceUid,
      seriesInstanceUid: encoded.seriesInstanceUid,
      sopClassUid: encoded.sopClassUid,
      bytes: encoded.byteLength,
      frames: encoded.frames,
      type: encoded.type,
      transferSyntaxUid: encoded.transferSyntaxUid,
    },
    sr: sr && input.srPath ? { path: input.srPath, sopInstanceUid: sr.sopInstanceUid, seriesInstanceUid: sr.seriesInstanceUid, bytes: sr.bytes.length } : null,
  };
}

/** Slice pixels for the statistics (any transfer syntax slice-pixels decodes); an unreadable slice leaves mean HU out. */
function pixelSource(files: Array<{ path: string; frame: number | null }>): SlicePixelSource {
  return async (k) => {
    const file = files[k];
    if (!file) return null;
    try {
      return (await loadSlice(file.path, (file.frame ?? 1) - 1)).pixels;
    } catch {
      return null;
    }
  };
}

/** What the host needs to pick the source series before the frames are mapped. */
export interface SegInspection {
  info: SegInfo;
  referencedSeries: ParsedSeg['referencedSeries'];
  referencedInstanceUids: string[];
}

export interface ImportJobOutput {
  segments: SegmentInit[];
  originalNumbers: number[];
  labelmap: Labelmap;
  /** Set when asked for: the labelmap encoded for the contract (done here, off the main thread). */
  payload: LabelmapPayload | null;
  warnings: string[];
  info: SegInfo;
}

export async function readSegFile(path: string): Promise<ParsedSeg> {
  const bytes = await readFile(path);
  return parseSeg(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

export function inspectParsedSeg(parsed: ParsedSeg): SegInspection {
  const referencedInstanceUids = [...new Set(parsed.frames.map((f) => f.referencedSopInstanceUid).filter((u): u is string => u !== null))];
  return { info: describeSeg(parsed), referencedSeries: parsed.referencedSeries, referencedInstanceUids };
}

export function runImportJob(parsed: ParsedSeg, source: SourceSeriesInit, { encode = false } = {}): ImportJobOutput {
  const imported = alignSegToSource(parsed, new SourceSeries(source));
  return {
    segments: imported.segmentation.segments.map((s) => s.toInit()),
    originalNumbers: imported.originalNumbers,
    labelmap: imported.segmentation.labelmap,
    payload: encode ? encodeLabelmap(imported.segmentation.labelmap) : null,
    warnings: imported.warnings,
    info: describeSeg(parsed),
  };
}
