import { open, readFile, rm, stat } from 'node:fs/promises';
import { identify, isRunning } from '../mcp/proc.js';

/** A lock older than this whose holder cannot be identified is taken over. */
const ABANDONED_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding an exclusive lock file. `open(..., 'wx')` is atomic on local file
 * systems, so two orch processes never both believe they hold it. A lock left behind by
 * a process that died (its pid gone or reused) is removed, so a crash never wedges the
 * registry.
 */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const self = identify(process.pid);
  const token = JSON.stringify({ pid: process.pid, startTime: self?.startTime ?? '' });
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(token);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await abandoned(file)) await rm(file, { force: true });
      else await sleep(wait);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}

async function abandoned(file: string): Promise<boolean> {
  const [text, info] = await Promise.all([readFile(file, 'utf8').catch(() => ''), stat(file).catch(() => undefined)]);
  if (!info) return false;
  try {
    const holder = JSON.parse(text) as { pid?: unknown; startTime?: unknown };
    if (typeof holder.pid === 'number' && typeof holder.startTime === 'string' && holder.startTime !== '') {
      return !isRunning({ pid: holder.pid, startTime: holder.startTime });
    }
  } catch {
    // Half-written by a holder that died between open and write: judge by age.
  }
  return Date.now() - info.mtimeMs > ABANDONED_MS;
}
