// Writes that are all-or-nothing: a reader (or this app after a crash or power cut)
// sees the old content or the new, never half of one. Write a temporary sibling,
// flush it to disk, rename it over the target, then flush the folder so the rename
// itself survives.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, link, mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `data` to `target` all-or-nothing. A list of parts is written with writev, so
 * a large Part 10 file (header + pixel data) is never concatenated in memory.
 * Owner-only by default: these files hold patient data or PACS settings.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array | readonly Uint8Array[], mode = 0o600): Promise<void> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'w', mode);
  try {
    // open's mode passes through the umask; the file's mode must not depend on it.
    await handle.chmod(mode);
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else await writeParts(handle, data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

async function writeParts(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  // writev takes at most IOV_MAX buffers per call on some systems: write in batches.
  for (let i = 0; i < parts.length; i += 512) {
    const batch = parts.slice(i, i + 512);
    const total = batch.reduce((n, p) => n + p.length, 0);
    const { bytesWritten } = await handle.writev(batch);
    if (bytesWritten >= total) continue;
    // Short write: go on one buffer at a time from where it stopped.
    let skip = bytesWritten;
    for (const part of batch) {
      if (skip >= part.length) {
        skip -= part.length;
        continue;
      }
      let rest = part.subarray(skip);
      skip = 0;
      while (rest.length > 0) rest = rest.subarray((await handle.write(rest)).bytesWritten);
    }
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/** Parsed JSON, or undefined when the file does not exist. Other errors (a corrupt file) throw. */
export async function readJsonIfExists(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as unknown;
}

/**
 * Flushes a folder's entries (renames, new files). Windows cannot open folders for
 * this (NTFS journals the rename); some file systems refuse fsync on a folder, and the
 * rename is then as durable as they make it.
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // see above
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Folders the app makes under its data folder: patient data, readable by their owner only. */
/** Errors of link() on a file system (or between two) that has no hard links for us. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS']);

/**
 * A hard link that fails when the target exists: the one step that puts a file in place
 * without ever replacing another (rename would). 'unsupported' leaves the fallback to the caller.
 */
export async function linkExclusive(from: string, to: string): Promise<'linked' | 'exists' | 'unsupported'> {
  try {
    await link(from, to);
    return 'linked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'exists';
    if (code !== undefined && NO_HARD_LINKS.has(code)) return 'unsupported';
    throw error;
  }
}

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The folders `mkdir -p` made, from the first one it created down to `dir`. */
function createdChain(first: string | undefined, dir: string): string[] {
  if (first === undefined) return [];
  const chain = [dir];
  let at = dir;
  while (at !== first && path.dirname(at) !== at) {
    at = path.dirname(at);
    chain.push(at);
  }
  return chain;
}

/**
 * mkdir -p with owner-only folders, whatever the umask. Only folders created here are
 * changed: a folder the user chose (an export folder) keeps its mode.
 */
export async function mkdirPrivate(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const first = await mkdir(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const created of createdChain(first, target)) await chmod(created, PRIVATE_DIR_MODE);
}

export function mkdirPrivateSync(dir: string): void {
  const target = path.resolve(dir);
  const first = mkdirSync(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const created of createdChain(first, target)) chmodSync(created, PRIVATE_DIR_MODE);
}
