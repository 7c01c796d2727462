// Every request that carries a slice to a CRM server leaves one line in a local audit log
// (<data>/crm-server-audit.jsonl): when, to which server and model, which study/series/slice,
// how it ended. Never pixels, never the question or the answer (both can hold PHI), never the key.
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export const AUDIT_FILE = 'crm-server-audit.jsonl';

export interface AuditSubject {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  seriesKey?: string;
  sliceIndex?: number;
}

export interface AuditEntry extends AuditSubject {
  time: string;
  server: string;
  origin: string;
  model: string;
  /** "ok", "cancelled", or the failure kind. */
  outcome: string;
  ms: number;
  imageWidth: number;
  imageHeight: number;
  completionTokens: number | null;
  /** HTTP status of a refused request. */
  status?: number;
}

export interface CrmAuditLog {
  readonly file: string;
  record(entry: AuditEntry): Promise<void>;
}

export function createAuditLog(dataDir: string): CrmAuditLog {
  const file = path.join(dataDir, AUDIT_FILE);
  // Appends are queued so concurrent requests never interleave inside a line.
  let queue: Promise<void> = Promise.resolve();
  return {
    file,
    record(entry) {
      const line = `${JSON.stringify(entry)}\n`;
      queue = queue.then(async () => {
        await mkdir(path.dirname(file), { recursive: true });
        await appendFile(file, line, { mode: 0o600 });
      });
      return queue;
    },
  };
}
