import { tryLock, unlock } from './lock-file.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding an exclusive lock file, waiting while another process holds it. A
 * lock left behind by a process that died (its pid gone or reused) is taken over, so a
 * crash never wedges the registry.
 */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  for (let wait = 2; !tryLock(file).acquired; wait = Math.min(wait * 2, 50)) await sleep(wait);
  try {
    return await fn();
  } finally {
    unlock(file);
  }
}
