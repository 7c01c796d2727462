// How a skipped instance of a retrieve is named, the same in the CLI, the log and the PACS
// panel. No Node imports: the renderer bundles this file.
import type { RetrieveMethod, SkippedInstance } from './contract-pacs.ts';

/** "1.2.3 (part 4): reason", or "part 4: reason" when its UID could not be read; DIMSE counts C-STOREs. */
export function describeSkippedInstance(skipped: SkippedInstance, method: RetrieveMethod): string {
  const where = `${method === 'wado-rs' ? 'part' : 'C-STORE'} ${skipped.position}`;
  return `${skipped.sopInstanceUid ? `${skipped.sopInstanceUid} (${where})` : where}: ${skipped.reason}`;
}
