import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { OrchError } from '../errors.js';
import { identify, isRunning, type ProcessIdentity } from '../mcp/proc.js';

/** A takeover guard older than this was left by a process that died mid-takeover. */
const STALE_GUARD_MS = 5000;

/**
 * A lock that keeps two processes from driving one run. It records the holder's pid and
 * start time; a lock whose holder has died (or whose pid now belongs to another process)
 * is taken over.
 *
 * Creating the lock is atomic (`wx`). Taking over a dead holder's lock is not — read,
 * remove, create — so takeovers go one at a time through a short-lived guard file: two
 * processes that both find a dead holder cannot both end up holding the lock.
 */
export class RunLock {
  private constructor(private readonly file: string) {}

  static acquire(file: string, runId: string): RunLock {
    const me = JSON.stringify(identify(process.pid) ?? { pid: process.pid, startTime: 'unknown' });
    for (let attempt = 0; attempt < 200; attempt++) {
      if (create(file, me)) return new RunLock(file);
      const holder = RunLock.holder(file);
      if (holder && isRunning(holder)) throw locked(runId, holder);
      const guard = `${file}.takeover`;
      if (!create(guard, me)) {
        clearStaleGuard(guard);
        sleepSync(10);
        continue;
      }
      try {
        // Under the guard: look again, since the lock may have changed hands meanwhile.
        const current = RunLock.holder(file);
        if (current && isRunning(current)) throw locked(runId, current);
        tryUnlink(file);
        if (create(file, me)) return new RunLock(file);
      } finally {
        tryUnlink(guard);
      }
    }
    throw new OrchError('ORCH_RUN_LOCKED', `could not lock run ${runId}`, { hint: 'other orch processes keep taking it over; try again' });
  }

  /** The recorded holder of a run's lock, if any. */
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
    tryUnlink(this.file);
  }
}

function create(file: string, content: string): boolean {
  try {
    writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** A guard is stale when the process that made it has died, or it is older than any takeover takes. */
function clearStaleGuard(guard: string): void {
  try {
    const owner = RunLock.holder(guard);
    if ((owner && !isRunning(owner)) || Date.now() - statSync(guard).mtimeMs > STALE_GUARD_MS) tryUnlink(guard);
  } catch {
    // Gone already: the next attempt goes ahead.
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function locked(runId: string, holder: ProcessIdentity): OrchError {
  return new OrchError('ORCH_RUN_LOCKED', `run ${runId} is being driven by process ${holder.pid}`, {
    hint: 'wait for it to finish or pause, or stop that process first',
  });
}
