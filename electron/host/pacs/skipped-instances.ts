// The instances of one retrieve that arrived but that our store refused (not DICOM,
// malformed, past a limit, a stored UID it cannot compare with). A hostile or broken
// PACS may send thousands of them: the first MAX_SKIPPED_LISTED keep their reasons, the
// rest are only counted, so the report stays small whatever the study holds.
import { MAX_SKIPPED_LISTED, type SkippedInstance, type SkippedInstances } from '../../common/contract-pacs.ts';
import { isPathSafeUid } from './part10.ts';

/** Longer reasons are cut: they end up in a UI line, a log line and a zod-checked result. */
const MAX_REASON_CHARS = 1000;

export class SkippedList {
  private readonly listed: SkippedInstance[] = [];
  private total = 0;

  /** Records one refusal and returns it as reported (UID checked, reason bounded). */
  add(entry: { sopInstanceUid: string | null | undefined; position: number; reason: string }): SkippedInstance {
    const skipped: SkippedInstance = {
      // What the peer put there is not trusted as a UID unless it looks like one.
      sopInstanceUid: entry.sopInstanceUid && isPathSafeUid(entry.sopInstanceUid) ? entry.sopInstanceUid : null,
      position: Math.max(1, Math.floor(entry.position)),
      reason: entry.reason.length > MAX_REASON_CHARS ? `${entry.reason.slice(0, MAX_REASON_CHARS - 1)}…` : entry.reason,
    };
    this.total++;
    if (this.listed.length < MAX_SKIPPED_LISTED) this.listed.push(skipped);
    return skipped;
  }

  get count(): number {
    return this.total;
  }

  report(): SkippedInstances {
    return { count: this.total, instances: [...this.listed] };
  }
}
