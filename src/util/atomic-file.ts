import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that readers see the old content or the new, never a torn mix: a temp
 * file beside it is written and fsync'd, then renamed over it (atomic on one file system).
 * When any step fails, the temp file is removed.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    // A full disk must not leave a half-written temp file beside the real one.
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}
