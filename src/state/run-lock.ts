import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { identify, isRunning, type ProcessIdentity } from '../mcp/proc.js';

/**
 * A lock that keeps two processes from driving one run. It records the holder's pid and
 * start time; a lock whose holder has died (or whose pid now belongs to another process)
 * is taken over.
 */
export class RunLock {
  private constructor(private readonly file: string) {}

  static acquire(file: string, runId: string): RunLock {
    const me = identify(process.pid) ?? { pid: process.pid, startTime: 'unknown' };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
        return new RunLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = RunLock.holder(file);
      if (holder && isRunning(holder)) {
        throw new OrchError('ORCH_RUN_LOCKED', `run ${runId} is being driven by process ${holder.pid}`, {
          hint: 'wait for it to finish or pause, or stop that process first',
        });
      }
      try {
        unlinkSync(file);
      } catch {
        // Another process took it over first; the next attempt will see its lock.
      }
    }
    throw new OrchError('ORCH_RUN_LOCKED', `could not lock run ${runId}`, { hint: 'another orch process is taking it over; try again' });
  }

  /** The live holder of a run's lock, if any. */
  static holder(file: string): ProcessIdentity | undefined {
    try {
      const id = JSON.parse(readFileSync(file, 'utf8')) as ProcessIdentity;
      return typeof id.pid === 'number' ? id : undefined;
    } catch {
      return undefined;
    }
  }

  static isHeld(file: string): boolean {
    const holder = RunLock.holder(file);
    return holder !== undefined && isRunning(holder);
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
