// Joins a reasoning report to the segments of the SEG it references: each imported
// segment whose SEG number the report describes gets back its provenance (source,
// question, reasoning, raw answer, models, prompts mapped onto the source's slices), so
// it shows in the segment's provenance and exports again unchanged.
import { ALGORITHM_TYPE_FOR_SOURCE } from './seg-enums.ts';
import type { Prompt, Provenance, SegmentInit } from './segment.ts';
import type { SourceSeries } from './source-series.ts';
import type { ParsedReport, ReportedPrompt } from './sr-reader.ts';

export function applyReport(
  segments: SegmentInit[],
  originalNumbers: number[],
  segSopInstanceUid: string,
  report: ParsedReport,
  source: SourceSeries,
  warnings: string[],
): SegmentInit[] {
  const reported = new Map(report.segments.filter((r) => r.segSopInstanceUid === segSopInstanceUid).map((r) => [r.segmentNumber, r]));
  return segments.map((segment, i) => {
    const entry = reported.get(originalNumbers[i]!);
    if (!entry) return segment;
    const provenance: Provenance = { source: entry.source ?? segment.provenance.source };
    const derived = ALGORITHM_TYPE_FOR_SOURCE[provenance.source];
    const stored = ALGORITHM_TYPE_FOR_SOURCE[segment.provenance.source];
    if (derived !== stored) {
      warnings.push(`Segment ${originalNumbers[i]} ("${segment.label}"): the report says "${provenance.source}" (${derived}) but the SEG says ${stored}; the SEG's algorithm type was kept.`);
      provenance.source = segment.provenance.source;
    }
    if (entry.question !== undefined) provenance.question = entry.question;
    if (entry.reasoning !== undefined) provenance.reasoning = entry.reasoning;
    if (entry.answer !== undefined) provenance.answer = entry.answer;
    if (entry.models.length > 0) provenance.models = entry.models.map((m) => ({ ...m }));
    const prompts: Prompt[] = [];
    for (const p of entry.prompts) {
      const prompt = toPrompt(p, source);
      if (prompt) prompts.push(prompt);
      else warnings.push(`Segment ${originalNumbers[i]} ("${segment.label}"): a ${p.kind} prompt on instance ${p.sopInstanceUid} is not on this series and was left out.`);
    }
    if (prompts.length > 0) provenance.prompts = prompts;
    return { ...segment, provenance };
  });
}

function toPrompt(p: ReportedPrompt, source: SourceSeries): Prompt | null {
  const sliceIndex = source.sliceIndexOf(p.sopInstanceUid, p.frameNumber);
  if (sliceIndex === undefined || p.graphicData.length < 2) return null;
  if (p.kind === 'point') return { kind: 'point', sliceIndex, x: p.graphicData[0]!, y: p.graphicData[1]!, label: p.label ?? 'positive' };
  const xs = p.graphicData.filter((_, i) => i % 2 === 0);
  const ys = p.graphicData.filter((_, i) => i % 2 === 1);
  return { kind: 'box', sliceIndex, x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
}
