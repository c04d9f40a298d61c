import { readFile } from 'node:fs/promises';

/** True while a process exists and is not a zombie waiting to be reaped. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The state follows the command name in parentheses; Z means exited but unreaped.
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Waits until none of the processes exists; returns the ones still alive after a while. */
export async function survivors(pids: number[], waitMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const alive: number[] = [];
    for (const pid of pids) if (await isAlive(pid)) alive.push(pid);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** PIDs a fixture script wrote, one per line, into a file. */
export async function readPids(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}
