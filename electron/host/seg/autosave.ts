// Autosave of segmentation work in progress: one JSON file per editing session in the
// host's autosave folder, written atomically (temp file, fsync, rename, fsync of the
// folder), so a crash or a kill at any moment leaves the previous save or the new one,
// never a torn file. Saves of one session are serialised, so the last one wins.
// The Autosaver (autosave-scheduler.ts) decides when; this store decides how.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { decodeLabelmap, SegmentationPayload } from '../../common/contract-seg.ts';
import { mkdirPrivate, writeFileAtomic } from '../atomic-file.ts';
import { isProcessAlive } from '../process-alive.ts';
export { Autosaver, type AutosaverOptions } from './autosave-scheduler.ts';

export const AUTOSAVE_FORMAT = 'medreasoner-seg-autosave';

const AutosaveRecordSchema = z.object({
  format: z.literal(AUTOSAVE_FORMAT),
  version: z.literal(1),
  sessionId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
  seriesKey: z.string().min(1),
  savedAt: z.string(),
  segmentation: SegmentationPayload,
});
export type AutosaveRecord = z.infer<typeof AutosaveRecordSchema>;

export interface AutosaveInput {
  sessionId: string;
  seriesKey: string;
  segmentation: SegmentationPayload;
}

export class AutosaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AutosaveError';
  }
}

const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const SUFFIX = '.autosave.json';

export class AutosaveStore {
  readonly dir: string;
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  fileFor(sessionId: string): string {
    if (!SESSION_ID.test(sessionId)) throw new AutosaveError(`session id ${JSON.stringify(sessionId)} may hold only letters, digits and _.:-`);
    // ':' is not allowed in Windows file names.
    return path.join(this.dir, `${sessionId.replace(/:/g, '_')}${SUFFIX}`);
  }

  /** Writes the session's state; resolves once it is durable. */
  save(input: AutosaveInput, savedAt = new Date()): Promise<{ savedAt: string; bytes: number; file: string }> {
    const file = this.fileFor(input.sessionId);
    const record: AutosaveRecord = {
      format: AUTOSAVE_FORMAT,
      version: 1,
      sessionId: input.sessionId,
      seriesKey: input.seriesKey,
      savedAt: savedAt.toISOString(),
      segmentation: input.segmentation,
    };
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    const previous = this.#chains.get(input.sessionId) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        await mkdirPrivate(this.dir);
        await writeFileAtomic(file, [bytes]);
        return { savedAt: record.savedAt, bytes: bytes.length, file };
      });
    this.#chains.set(input.sessionId, next);
    void next.finally(() => {
      if (this.#chains.get(input.sessionId) === next) this.#chains.delete(input.sessionId);
    }).catch(() => {});
    return next;
  }

  /** The saved state of a session, checked: its labelmap decodes to the declared size. */
  async load(sessionId: string): Promise<AutosaveRecord> {
    const file = this.fileFor(sessionId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AutosaveError(`No autosave for session ${sessionId}.`);
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AutosaveError(`The autosave of session ${sessionId} (${file}) is not valid JSON: ${(error as Error).message}`);
    }
    const parsed = AutosaveRecordSchema.safeParse(json);
    if (!parsed.success) {
      throw new AutosaveError(`The autosave of session ${sessionId} is not a valid record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    try {
      decodeLabelmap(parsed.data.segmentation.labelmap);
    } catch (error) {
      throw new AutosaveError(`The autosave of session ${sessionId} holds a broken labelmap: ${(error as Error).message}`);
    }
    return parsed.data;
  }

  /** Every readable autosave, newest first; unreadable files are skipped (and reported). */
  async list(onUnreadable?: (file: string, reason: string) => void): Promise<Array<{ sessionId: string; seriesKey: string; savedAt: string; segmentCount: number; bytes: number }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX)) continue;
      const file = path.join(this.dir, name);
      try {
        const record = AutosaveRecordSchema.parse(JSON.parse(await readFile(file, 'utf8')));
        out.push({ sessionId: record.sessionId, seriesKey: record.seriesKey, savedAt: record.savedAt, segmentCount: record.segmentation.segments.length, bytes: (await stat(file)).size });
      } catch (error) {
        onUnreadable?.(file, error instanceof Error ? error.message : String(error));
      }
    }
    return out.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
  }

  async discard(sessionId: string): Promise<boolean> {
    const file = this.fileFor(sessionId);
    await (this.#chains.get(sessionId) ?? Promise.resolve()).catch(() => {});
    try {
      await rm(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Removes temp files of writes that a crash or kill interrupted. */
  async removeStaleTempFiles(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const match = /^\..*\.(\d+)-[0-9a-f]+\.tmp$/.exec(name);
      if (!match || isProcessAlive(Number(match[1]))) continue;
      await rm(path.join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}

