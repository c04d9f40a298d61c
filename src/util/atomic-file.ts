import { closeSync, fdatasync, fsync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes a file so that readers see the old content or the new, never a torn mix: a temp
 * file beside it is written and fsync'd, then renamed over it (atomic on one file system).
 * When any step fails, the temp file is removed.
 *
 * The small steps (open, write, close, rename) are made synchronously: each goes to the
 * page cache in microseconds, while through the thread pool each costs a round trip of a
 * hundred or more, and a report, a plan or a registry is written on every orchestrate
 * call. The fsync, which waits for the disk, stays off the event loop.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const fd = openMakingFolder(temp, 'w');
    try {
      writeAll(fd, Buffer.from(text));
      await offLoop(fsync, fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    // A full disk must not leave a half-written temp file beside the real one.
    try {
      rmSync(temp, { force: true });
    } catch {
      // The write's own error is the one to report.
    }
    throw err;
  }
}

/** Opens a file (`w`: anew, `a`: to append), making its folder the first time (or after someone removed it). */
export function openMakingFolder(file: string, flags: 'w' | 'a'): number {
  try {
    return openSync(file, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(file), { recursive: true });
    return openSync(file, flags);
  }
}

/** Writes every byte: a write to a file that is nearly full (or at its size limit) may write only some. */
export function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
}

/** fdatasync off the event loop. */
export function datasync(fd: number): Promise<void> {
  return offLoop(fdatasync, fd);
}

function offLoop(sync: typeof fsync, fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => sync(fd, (err) => (err ? reject(err) : resolve())));
}
