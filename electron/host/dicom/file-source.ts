// Synchronous positional reads of one file. The reader runs in a worker thread, where
// blocking I/O is cheaper than promise round trips and blocks nobody.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HeaderProblem } from './header-problem.ts';

export interface ByteSource {
  readonly path: string;
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; shorter only at the end of the file. */
  read(offset: number, length: number): Buffer;
}

export interface OpenedFile extends ByteSource {
  close(): void;
}

/** Opens a regular file for reading; anything else (FIFO, device, directory) is a problem, never a hang. */
export function openFileSource(path: string): OpenedFile {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise block this thread forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw ioProblem(path, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new HeaderProblem('unreadable', `${path} is ${describeNonFile(stat)}, not a regular file; it was not read.`);
    const size = stat.size;
    return {
      path,
      size,
      read(offset: number, length: number): Buffer {
        const want = Math.max(0, Math.min(length, size - offset));
        const buffer = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          let n: number;
          try {
            n = readSync(fd, buffer, got, want - got, offset + got);
          } catch (error) {
            throw ioProblem(path, error);
          }
          if (n === 0) break; // the file shrank while we read it
          got += n;
        }
        return got === want ? buffer : buffer.subarray(0, got);
      },
      close() {
        closeSync(fd);
      },
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export function describeNonFile(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

export function ioProblem(path: string, error: unknown): HeaderProblem {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail: Record<string, string> = {
    ENOENT: `${path} does not exist (it may have been moved or deleted during the import).`,
    EACCES: `${path} cannot be read: permission denied.`,
    EPERM: `${path} cannot be read: operation not permitted.`,
    ELOOP: `${path} is a symbolic link that loops back on itself.`,
    EISDIR: `${path} is a directory, not a file.`,
    EIO: `${path} cannot be read: input/output error from the disk.`,
    EMFILE: `${path} could not be opened: too many open files.`,
  };
  const message = error instanceof Error ? error.message : String(error);
  return new HeaderProblem('unreadable', (code && detail[code]) ?? `${path} cannot be read: ${message}.`);
}
