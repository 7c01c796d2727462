// A segmentation of one source series: its segments and one labelmap in slice order
// (x fastest, then y, then slice index), where voxel value n means segment n and 0
// means none. Validated on construction; `frameContents` is what a SEG writer needs.
import { countValues } from './labelmap-scan.ts';
import { Segment, type SegmentInit } from './segment.ts';
import { SourceSeries, type SourceSeriesInit } from './source-series.ts';
import { Problems } from './validation.ts';

export type Labelmap = Uint8Array | Uint16Array;

export interface SegmentationInit {
  source: SourceSeries | SourceSeriesInit;
  segments: Array<Segment | SegmentInit>;
  labelmap: Labelmap;
}

/** Which segments occur on which slices, and how many voxels each has: one pass over the labelmap. */
export interface FrameContents {
  /** For each slice index, the segment numbers present on it, ascending. */
  segmentsBySlice: Uint16Array[];
  /** Voxels per segment number (index 0: background). */
  voxelCounts: Float64Array;
}

export class Segmentation {
  readonly source: SourceSeries;
  readonly segments: readonly Segment[];
  readonly labelmap: Labelmap;
  #contents: FrameContents | null = null;

  constructor(init: SegmentationInit) {
    const problems = new Problems('segmentation');
    const source = init.source instanceof SourceSeries ? init.source : new SourceSeries(init.source);
    const segments: Segment[] = [];
    const segmentErrors: string[] = [];
    for (const s of init.segments ?? []) {
      try {
        segments.push(s instanceof Segment ? s : new Segment(s));
      } catch (error) {
        segmentErrors.push(error instanceof Error ? error.message.replace(/^Invalid /, '') : String(error));
      }
    }
    for (const e of segmentErrors) problems.add(e);
    problems.check((init.segments?.length ?? 0) > 0, 'has no segments');
    // Checked on the inputs, so one invalid segment does not shift the numbering of the rest.
    const misnumbered = (init.segments ?? []).findIndex((s, i) => s?.number !== i + 1);
    if (misnumbered >= 0) {
      problems.add(`segments must be numbered 1, 2, … in order: item ${misnumbered + 1} is segment ${String(init.segments[misnumbered]?.number)}`);
    }
    const labelmap = init.labelmap;
    const expected = source.pixelsPerSlice * source.sliceCount;
    if (problems.check(labelmap instanceof Uint8Array || labelmap instanceof Uint16Array, 'labelmap must be a Uint8Array or Uint16Array')) {
      problems.check(
        labelmap.length === expected,
        () => `labelmap holds ${labelmap.length} voxels; the source series has ${source.columns} × ${source.rows} × ${source.sliceCount} = ${expected}`,
      );
      problems.check(segments.length <= 255 || labelmap instanceof Uint16Array, () => `${segments.length} segments need a Uint16Array labelmap`);
    }
    for (const segment of segments) checkPromptsOnGrid(segment, source, problems);
    problems.throwIfAny();

    // The value check needs one pass anyway: it also yields the frame contents.
    const contents = scanLabelmap(labelmap, source, segments.length);
    if ('badVoxel' in contents) {
      const { index, value } = contents.badVoxel;
      const perSlice = source.pixelsPerSlice;
      const slice = Math.floor(index / perSlice);
      const row = Math.floor((index % perSlice) / source.columns);
      const column = index % source.columns;
      problems.add(`labelmap voxel ${index} (column ${column}, row ${row}, slice ${slice}) holds ${value}, which is no segment (segments are 1..${segments.length})`);
      problems.throwIfAny();
    }
    this.source = source;
    this.segments = Object.freeze(segments);
    this.labelmap = labelmap;
    this.#contents = contents as FrameContents;
  }

  get frameContents(): FrameContents {
    return this.#contents!;
  }

  segment(number: number): Segment | undefined {
    return this.segments[number - 1];
  }

  /** Slice indices that hold any segment, ascending. */
  nonEmptySlices(): number[] {
    const out: number[] = [];
    this.frameContents.segmentsBySlice.forEach((present, k) => {
      if (present.length > 0) out.push(k);
    });
    return out;
  }

  isEmpty(): boolean {
    return this.frameContents.voxelCounts.every((count, value) => value === 0 || count === 0);
  }
}

function checkPromptsOnGrid(segment: Segment, source: SourceSeries, problems: Problems): void {
  segment.provenance.prompts?.forEach((prompt, i) => {
    const at = `segment ${segment.number} prompt ${i + 1}`;
    if (!problems.check(prompt.sliceIndex < source.sliceCount, `${at}: sliceIndex ${prompt.sliceIndex} is beyond the ${source.sliceCount} slices of the source`)) return;
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x <= source.columns && y <= source.rows;
    const ok = prompt.kind === 'point' ? inside(prompt.x, prompt.y) : inside(prompt.x0, prompt.y0) && inside(prompt.x1, prompt.y1);
    problems.check(ok, `${at} lies outside the ${source.columns} × ${source.rows} image`);
  });
}

function scanLabelmap(labelmap: Labelmap, source: SourceSeries, segmentCount: number): FrameContents | { badVoxel: { index: number; value: number } } {
  const perSlice = source.pixelsPerSlice;
  const counts = new Float64Array(segmentCount + 1);
  const segmentsBySlice: Uint16Array[] = [];
  // Counting per slice into a small array is cheaper than a Set per voxel.
  const sliceCounts = new Uint32Array(Math.max(256, segmentCount + 1));
  let badVoxel: { index: number; value: number } | null = null;
  for (let k = 0; k < source.sliceCount; k++) {
    const bad = countValues(labelmap, k * perSlice, (k + 1) * perSlice, sliceCounts, segmentCount);
    if (bad >= 0) {
      badVoxel = { index: bad, value: labelmap[bad]! };
      return { badVoxel };
    }
    let any = false;
    for (let v = 1; v <= segmentCount && !any; v++) any = sliceCounts[v]! > 0;
    if (!any) {
      segmentsBySlice.push(new Uint16Array(0));
      continue;
    }
    const present: number[] = [];
    for (let v = 1; v <= segmentCount; v++) {
      const n = sliceCounts[v]!;
      if (n > 0) {
        present.push(v);
        counts[v]! += n;
        sliceCounts[v] = 0;
      }
    }
    segmentsBySlice.push(Uint16Array.from(present));
  }
  counts[0] = labelmap.length - counts.reduce((a, b) => a + b, 0);
  return { segmentsBySlice, voxelCounts: counts };
}
