// For the CLI's --series <dir> --slice <n>: import the folder, take its single image series,
// and decode slice n (slice order, as `medreasoner index` defines it).
import path from 'node:path';
import { importDicom } from '../dicom/importer.ts';
import type { HostSeries, HostSlice } from '../dicom/import-types.ts';
import type { SliceInput } from './inference-engine.ts';
import { loadSliceInWorker } from './slice-worker-client.ts';

export class SeriesChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeriesChoiceError';
  }
}

function describe(series: HostSeries): string {
  const s = series.summary;
  return `${s.seriesKey}: ${s.modality || '?'} "${s.description || '(no description)'}", ${series.slices.length} slices`;
}

/** The one image series in `dir`; an error that lists them when there are none or several. */
export async function singleImageSeries(dir: string): Promise<HostSeries> {
  const outcome = await importDicom({ paths: [path.resolve(dir)] });
  const images = outcome.series.filter((s) => s.slices.length > 0);
  if (images.length === 0) {
    const problems = outcome.problems.slice(0, 5).map((p) => `  ${p.path}: ${p.detail}`);
    throw new SeriesChoiceError(`No image series in ${dir} (${outcome.files.length} files read).${problems.length > 0 ? `\n${problems.join('\n')}` : ''}`);
  }
  if (images.length > 1) {
    throw new SeriesChoiceError(`${dir} holds ${images.length} image series; point --series at a folder with one of them:\n${images.map((s) => `  ${describe(s)}`).join('\n')}`);
  }
  return images[0]!;
}

export async function seriesSlice(series: HostSeries, sliceIndex: number): Promise<SliceInput> {
  const slice = series.slices[sliceIndex];
  if (!slice) throw new SeriesChoiceError(`--slice ${sliceIndex}: the series has ${series.slices.length} slices (0 to ${series.slices.length - 1}, in slice order)`);
  const input = await readSliceInput(series.summary.seriesKey, sliceIndex, slice);
  return { ...input, studyInstanceUid: series.summary.studyInstanceUid, seriesInstanceUid: series.summary.seriesInstanceUid };
}

/** Decodes one slice (the right frame of a multi-frame file) into what the models take, in the slice worker. */
export async function readSliceInput(seriesKey: string, sliceIndex: number, slice: HostSlice): Promise<SliceInput> {
  const pixels = await loadSliceInWorker(slice.path, slice.frame ? slice.frame - 1 : 0);
  return {
    seriesKey,
    sliceIndex,
    width: pixels.width,
    height: pixels.height,
    pixels: pixels.pixels,
    invert: pixels.invert,
    ...(pixels.windowCenter !== undefined ? { windowCenter: pixels.windowCenter } : {}),
    ...(pixels.windowWidth !== undefined ? { windowWidth: pixels.windowWidth } : {}),
  };
}
