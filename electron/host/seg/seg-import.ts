// Maps a parsed SEG onto a loaded source series: each frame goes to the slice of the
// instance it references (ReferencedSOPInstanceUID, and frame number for multi-frame
// sources), or, when that instance is not in the series, to the slice at its
// ImagePositionPatient. The result is a validated Segmentation on that series, with
// segments renumbered 1…n (their SEG numbers kept in `originalNumbers`).
import { codeProblem, MEDR, type Code } from './codes.ts';
import type { Rgb } from './cielab.ts';
import { ProvenanceSource, SegmentAlgorithmType } from './seg-enums.ts';
import { forEachNonZero } from './labelmap-scan.ts';
import { SegReadError, type ParsedSeg, type ParsedSegment } from './seg-reader.ts';
import type { SegmentInit } from './segment.ts';
import { Segmentation } from './segmentation.ts';
import type { SourceSeries } from './source-series.ts';

export interface ImportedSegmentation {
  segmentation: Segmentation;
  /** The SEG's segment number of each segment (index = new number − 1). */
  originalNumbers: number[];
  warnings: string[];
}

const ORIENTATION_TOLERANCE = 1e-3;
/** Colours for segments that bring none: distinct, readable on grey. */
const FALLBACK_COLORS: Rgb[] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
];

export function alignSegToSource(parsed: ParsedSeg, source: SourceSeries): ImportedSegmentation {
  const warnings = [...parsed.warnings];
  const seriesName = source.seriesKey ?? source.seriesInstanceUid;
  if (parsed.rows !== source.rows || parsed.columns !== source.columns) {
    throw new SegReadError(`The SEG's frames are ${parsed.columns} × ${parsed.rows}; series ${seriesName} is ${source.columns} × ${source.rows}: the SEG is not on this series' grid`);
  }
  if (parsed.frameOfReferenceUid && parsed.frameOfReferenceUid !== source.frameOfReferenceUid) {
    warnings.push(`The SEG's Frame of Reference (${parsed.frameOfReferenceUid}) differs from the series' (${source.frameOfReferenceUid}); frames were placed by their references.`);
  }
  parsed.frames.forEach((frame, f) => {
    const o = frame.orientation;
    if (o && o.some((v, i) => Math.abs(v - source.orientation[i]!) > ORIENTATION_TOLERANCE)) {
      throw new SegReadError(`SEG frame ${f + 1} has orientation ${o.join('\\')}; series ${seriesName} has ${source.orientation.join('\\')}: resampling is not supported`);
    }
  });
  if (parsed.pixelSpacing && parsed.pixelSpacing.some((v, i) => Math.abs(v - source.pixelSpacing[i]!) > 1e-3 * Math.max(1, v))) {
    warnings.push(`The SEG's PixelSpacing ${parsed.pixelSpacing.join('\\')} differs from the series' ${source.pixelSpacing.join('\\')}.`);
  }

  const numberMap = new Map<number, number>();
  parsed.segments.forEach((s, i) => numberMap.set(s.number, i + 1));
  // LABELMAP pixel value → new segment number (0: not described), one array read per voxel.
  const valueLookup = new Uint16Array(65536);
  for (const [original, renumbered] of numberMap) if (original < 65536) valueLookup[original] = renumbered;
  const count = parsed.segments.length;
  const perSlice = source.pixelsPerSlice;
  const labelmap = count > 255 ? new Uint16Array(perSlice * source.sliceCount) : new Uint8Array(perSlice * source.sliceCount);

  let placedByPosition = 0;
  let disagreements = 0;
  const unplaced: number[] = [];
  const unknownSegments = new Set<number>();
  const overlaps = new Map<string, number>();
  const unknownLabelValues = new Set<number>();

  parsed.frames.forEach((frame, f) => {
    const byReference = frame.referencedSopInstanceUid ? source.sliceIndexOf(frame.referencedSopInstanceUid, frame.referencedFrameNumber) : undefined;
    const byPosition = frame.position ? source.sliceIndexAt(frame.position) : undefined;
    if (byReference !== undefined && byPosition !== undefined && byReference !== byPosition) disagreements++;
    const slice = byReference ?? byPosition;
    if (slice === undefined) {
      unplaced.push(f + 1);
      return;
    }
    if (byReference === undefined) placedByPosition++;
    const base = slice * perSlice;
    if (frame.segmentNumber !== null) {
      const value = numberMap.get(frame.segmentNumber);
      if (value === undefined) {
        unknownSegments.add(frame.segmentNumber);
        return;
      }
      const write = (i: number) => {
        const previous = labelmap[base + i]!;
        if (previous !== 0 && previous !== value) {
          const key = `${Math.min(previous, value)}-${Math.max(previous, value)}`;
          overlaps.set(key, (overlaps.get(key) ?? 0) + 1);
        }
        labelmap[base + i] = value;
      };
      const packed = parsed.packedFrame(f);
      if (packed) forEachSetBit(packed.bytes, packed.bitOffset, perSlice, write);
      else {
        const values = parsed.decodeFrame(f);
        for (let i = 0; i < perSlice; i++) if (values[i] !== 0) write(i);
      }
    } else {
      const values = parsed.decodeFrame(f);
      forEachNonZero(values, 0, perSlice, (i, v) => {
        const mapped = valueLookup[v]!;
        if (mapped === 0) unknownLabelValues.add(v);
        else labelmap[base + i] = mapped;
      });
    }
  });

  if (unplaced.length === parsed.frames.length) {
    const referenced = parsed.referencedSeries.map((s) => s.seriesInstanceUid).filter(Boolean);
    throw new SegReadError(
      `None of the SEG's ${parsed.frames.length} frames lies on series ${seriesName}: they reference ${referenced.length ? `series ${referenced.join(', ')}` : 'instances'} not found there, and their positions match no slice`,
    );
  }
  if (unplaced.length > 0) warnings.push(`${unplaced.length} frame${unplaced.length === 1 ? '' : 's'} (${listFew(unplaced)}) match no slice of the series by reference or position and were left out.`);
  if (placedByPosition > 0) warnings.push(`${placedByPosition} frame${placedByPosition === 1 ? '' : 's'} were placed by ImagePositionPatient: the instances they reference are not in the series.`);
  if (disagreements > 0) warnings.push(`${disagreements} frame${disagreements === 1 ? '' : 's'} reference one slice but lie at the position of another; the referenced slice was used.`);
  if (unknownSegments.size > 0) warnings.push(`Frames of segment numbers ${[...unknownSegments].join(', ')} were left out: the SegmentSequence does not describe them.`);
  if (unknownLabelValues.size > 0) warnings.push(`LABELMAP values ${listFew([...unknownLabelValues].sort((a, b) => a - b))} are not described in the SegmentSequence and were read as background.`);
  for (const [pair, voxels] of overlaps) {
    const [a, b] = pair.split('-').map(Number);
    warnings.push(`Segments ${parsed.segments[a! - 1]!.number} and ${parsed.segments[b! - 1]!.number} overlap on ${voxels} voxels; a labelmap holds one segment per voxel, so the one written last was kept there.`);
  }

  const segments = parsed.segments.map((s, i) => segmentInit(s, i + 1, warnings));
  const segmentation = new Segmentation({ source, segments, labelmap });
  return { segmentation, originalNumbers: parsed.segments.map((s) => s.number), warnings };
}

function forEachSetBit(bytes: Uint8Array, bitOffset: number, count: number, visit: (i: number) => void): void {
  const firstByte = bitOffset >>> 3;
  const lastByte = (bitOffset + count - 1) >>> 3;
  for (let byte = firstByte; byte <= lastByte; byte++) {
    const b = bytes[byte]!;
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((b >>> bit) & 1) {
        const i = byte * 8 + bit - bitOffset;
        if (i >= 0 && i < count) visit(i);
      }
    }
  }
}

// SEMIAUTOMATIC is "computed with user interaction" (PS3.3 C.8.20.2): that is the
// interactive provenance (a segmenter run on the user's prompts) as much as an edited AI
// mask, and the SEG alone cannot tell them apart. Read as interactive, which claims no
// model answer; the reasoning SR, when found, says which it was (report-provenance.ts).
const SOURCE_FOR_ALGORITHM: Record<string, ProvenanceSource> = {
  [SegmentAlgorithmType.AUTOMATIC]: ProvenanceSource.ai,
  [SegmentAlgorithmType.SEMIAUTOMATIC]: ProvenanceSource.interactive,
  [SegmentAlgorithmType.MANUAL]: ProvenanceSource.manual,
};

function segmentInit(s: ParsedSegment, number: number, warnings: string[]): SegmentInit {
  const name = s.label || `Segment ${s.number}`;
  if (!s.label) warnings.push(`Segment ${s.number} has no label; it is called "${name}".`);
  const code = (field: string, value: Code | null): Code => {
    const problem = codeProblem(value);
    if (problem === null) return value!;
    warnings.push(`Segment ${s.number} ("${name}") ${field} code ${problem}; it reads as "${MEDR.uncoded.meaning}".`);
    return MEDR.uncoded;
  };
  let source = SOURCE_FOR_ALGORITHM[s.algorithmType];
  if (!source) {
    warnings.push(`Segment ${s.number} ("${name}") has SegmentAlgorithmType "${s.algorithmType}"; read as MANUAL.`);
    source = ProvenanceSource.manual;
  }
  const init: SegmentInit = {
    number,
    label: name.slice(0, 64),
    color: s.color ?? FALLBACK_COLORS[(number - 1) % FALLBACK_COLORS.length]!,
    category: code('category', s.category),
    type: code('type', s.type),
    provenance: { source },
  };
  if (s.anatomicRegion && codeProblem(s.anatomicRegion) === null) init.anatomicRegion = s.anatomicRegion;
  if (s.description) init.description = s.description.slice(0, 64);
  if (source !== ProvenanceSource.manual) {
    if (!s.algorithmName) warnings.push(`Segment ${s.number} ("${name}") is ${s.algorithmType} but names no algorithm.`);
    init.algorithmName = (s.algorithmName ?? 'unknown algorithm').slice(0, 64);
  }
  return init;
}

function listFew(values: number[]): string {
  return values.length <= 8 ? values.join(', ') : `${values.slice(0, 8).join(', ')}, …`;
}
