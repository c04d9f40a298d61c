import { OrchError } from '../errors.js';
import { lockIsHeld, tryLock, unlock } from './lock-file.js';

/**
 * A lock that keeps two processes from driving one run. A lock whose holder has died
 * (or whose pid now belongs to another process) is taken over; one held by a live
 * process is an error at once — runs are not waited for.
 */
export class RunLock {
  private constructor(private readonly file: string) {}

  static acquire(file: string, runId: string): RunLock {
    for (let attempt = 0; attempt < 200; attempt++) {
      const result = tryLock(file);
      if (result.acquired) return new RunLock(file);
      if (result.holder) {
        throw new OrchError('ORCH_RUN_LOCKED', `run ${runId} is being driven by process ${result.holder.pid}`, {
          hint: 'wait for it to finish or pause, or stop that process first',
        });
      }
      // Another process is taking a dead holder's lock over right now: look again shortly.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    throw new OrchError('ORCH_RUN_LOCKED', `could not lock run ${runId}`, { hint: 'other orch processes keep taking it over; try again' });
  }

  static isHeld(file: string): boolean {
    return lockIsHeld(file);
  }

  release(): void {
    unlock(this.file);
  }
}
