// The SEG summary `medreasoner seg info` prints and seg.info returns: segments with
// their codes and frame counts, the referenced series, and what was read leniently.
import type { SegInfo } from '../../common/contract-seg.ts';
import type { ParsedSeg } from './seg-reader.ts';

export function describeSeg(parsed: ParsedSeg): SegInfo {
  const framesBySegment = new Map<number, number>();
  if (parsed.segmentationType === 'LABELMAP') {
    // A LABELMAP frame carries several segments: count the frames each value occurs in.
    const seen = new Uint8Array(65536);
    for (let f = 0; f < parsed.frames.length; f++) {
      const values = parsed.decodeFrame(f);
      seen.fill(0);
      for (let i = 0; i < values.length; i++) seen[values[i]!] = 1;
      for (const s of parsed.segments) if (seen[s.number]) framesBySegment.set(s.number, (framesBySegment.get(s.number) ?? 0) + 1);
    }
  } else {
    for (const frame of parsed.frames) {
      if (frame.segmentNumber !== null) framesBySegment.set(frame.segmentNumber, (framesBySegment.get(frame.segmentNumber) ?? 0) + 1);
    }
  }
  return {
    sopClassUid: parsed.sopClassUid,
    sopInstanceUid: parsed.sopInstanceUid,
    seriesInstanceUid: parsed.seriesInstanceUid,
    studyInstanceUid: parsed.studyInstanceUid,
    seriesDescription: parsed.seriesDescription,
    contentLabel: parsed.contentLabel,
    contentCreatorName: parsed.contentCreatorName,
    segmentationType: parsed.segmentationType,
    rows: parsed.rows,
    columns: parsed.columns,
    frames: parsed.frames.length,
    frameOfReferenceUid: parsed.frameOfReferenceUid,
    transferSyntaxUid: parsed.transferSyntaxUid,
    segments: parsed.segments.map((s) => ({
      number: s.number,
      label: s.label,
      category: s.category,
      type: s.type,
      algorithmType: s.algorithmType,
      algorithmName: s.algorithmName,
      color: s.color,
      frames: framesBySegment.get(s.number) ?? 0,
    })),
    referencedSeries: parsed.referencedSeries.map((s) => ({ seriesInstanceUid: s.seriesInstanceUid, instances: s.instanceUids.length })),
    supersedes: parsed.supersedes.map((s) => ({ ...s })),
    warnings: [...parsed.warnings],
  };
}

/** The text `seg info` prints. */
export function formatSegInfo(info: SegInfo, file: string): string {
  const code = (c: SegInfo['segments'][number]['type']) => (c ? `${c.scheme} ${c.value} "${c.meaning}"` : '(none)');
  const lines = [
    `${file}`,
    `  ${info.segmentationType} SEG (${info.sopClassUid}), ${info.frames} frame${info.frames === 1 ? '' : 's'} of ${info.columns} × ${info.rows}`,
    `  Series: ${info.seriesDescription || '(no description)'}  ${info.seriesInstanceUid}`,
    `  Study: ${info.studyInstanceUid}`,
    `  Frame of Reference: ${info.frameOfReferenceUid ?? '(none)'}`,
    `  Content: ${info.contentLabel || '(no label)'}${info.contentCreatorName ? `, by ${info.contentCreatorName}` : ''}`,
    `  Segments (${info.segments.length}):`,
  ];
  for (const s of info.segments) {
    const algorithm = s.algorithmName ? `${s.algorithmType} (${s.algorithmName})` : s.algorithmType;
    lines.push(`    ${String(s.number).padStart(3)}  ${s.label}  —  ${s.frames} frame${s.frames === 1 ? '' : 's'}, ${algorithm}`);
    lines.push(`         category ${code(s.category)}, type ${code(s.type)}${s.color ? `, colour rgb(${s.color.join(', ')})` : ''}`);
  }
  lines.push('  Referenced series:');
  for (const r of info.referencedSeries) lines.push(`    ${r.seriesInstanceUid || '(not named)'}: ${r.instances} instance${r.instances === 1 ? '' : 's'}`);
  for (const s of info.supersedes) lines.push(`  Supersedes SEG ${s.sopInstanceUid} (series ${s.seriesInstanceUid})`);
  if (info.warnings.length > 0) {
    lines.push('  Read leniently:');
    for (const w of info.warnings) lines.push(`    - ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
