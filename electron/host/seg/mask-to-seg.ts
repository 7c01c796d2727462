// One call for the CLI's `segment … --seg out.dcm` and `ask … --seg out.dcm [--sr …]`:
// a model's mask on one slice (or a whole volume) becomes a DICOM-SEG on its source
// series, with the reasoning SR when asked. Runs on the calling thread: the CLI is a
// one-shot process with nothing else to keep responsive.
import type { HostSeries } from '../dicom/import-types.ts';
import { SegmentationType } from './seg-enums.ts';
import { runExportJob, type ExportJobOutput } from './seg-jobs.ts';
import type { SegCompression, SegWriteOptions } from './seg-writer.ts';
import type { Provenance, SegmentInit } from './segment.ts';
import { sourceSeriesFromHost } from './source-from-index.ts';
import { SourceSeries, type SourceSeriesInit } from './source-series.ts';
import { SegValidationError } from './validation.ts';

export interface WriteMaskAsSegInput {
  /** The series the mask was drawn on: as the importer returns it, or already a SourceSeries. */
  sourceSeries: HostSeries | SourceSeries | SourceSeriesInit;
  /** The slice (slice order) a 2-D mask lies on; ignored for a whole-volume mask. */
  sliceIndex: number;
  /** Columns × rows values (one slice) or columns × rows × slices (the volume); non-zero is inside. */
  mask: Uint8Array;
  /** Everything but the number (it is segment 1) and the provenance (given apart). */
  segment: Omit<SegmentInit, 'number' | 'provenance'>;
  provenance: Provenance;
  outPath: string;
  srPath?: string;
  type?: SegmentationType;
  compression?: SegCompression;
  /** The source's files in slice order, for mean HU in the SR. */
  sourceFiles?: Array<{ path: string; frame: number | null }>;
  segOptions?: Omit<SegWriteOptions, 'type' | 'compression' | 'now'>;
}

function isHostSeries(value: WriteMaskAsSegInput['sourceSeries']): value is HostSeries {
  return typeof value === 'object' && value !== null && 'summary' in value && 'slices' in value && 'instances' in value;
}

export async function writeMaskAsSeg(input: WriteMaskAsSegInput): Promise<ExportJobOutput> {
  const source = isHostSeries(input.sourceSeries)
    ? await sourceSeriesFromHost(input.sourceSeries)
    : input.sourceSeries instanceof SourceSeries
      ? input.sourceSeries
      : new SourceSeries(input.sourceSeries);
  const perSlice = source.pixelsPerSlice;
  const labelmap = new Uint8Array(perSlice * source.sliceCount);
  if (input.mask.length === perSlice) {
    if (!Number.isInteger(input.sliceIndex) || input.sliceIndex < 0 || input.sliceIndex >= source.sliceCount) {
      throw new SegValidationError('mask', [`sliceIndex ${input.sliceIndex} is not a slice of the ${source.sliceCount}-slice series`]);
    }
    const base = input.sliceIndex * perSlice;
    for (let i = 0; i < perSlice; i++) if (input.mask[i] !== 0) labelmap[base + i] = 1;
  } else if (input.mask.length === labelmap.length) {
    for (let i = 0; i < labelmap.length; i++) if (input.mask[i] !== 0) labelmap[i] = 1;
  } else {
    throw new SegValidationError('mask', [
      `it holds ${input.mask.length} values; one slice of the series is ${source.columns} × ${source.rows} = ${perSlice}, the volume ${labelmap.length}`,
    ]);
  }
  return runExportJob({
    source: source.toInit(),
    segments: [{ ...input.segment, number: 1, provenance: input.provenance }],
    labelmap,
    type: input.type ?? SegmentationType.BINARY,
    compression: input.compression ?? 'none',
    segPath: input.outPath,
    ...(input.sourceFiles ? { sourceFiles: input.sourceFiles } : {}),
    srPath: input.srPath ?? null,
    ...(input.segOptions ? { segOptions: input.segOptions } : {}),
  });
}
