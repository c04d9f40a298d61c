import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { identify, isRunning, type ProcessIdentity } from '../process/identity.js';
import { errnoOf, stateWriteError } from '../util/fs-errors.js';

/**
 * A lock file unreadable for this long was left by a process that died between creating
 * and writing it; younger, it may be a live holder still writing its name.
 */
const UNREADABLE_ABANDONED_MS = 30_000;
/** A takeover guard older than this was left by a process that died mid-takeover. */
const STALE_GUARD_MS = 5_000;

export type LockAttempt = { acquired: true } | { acquired: false; holder?: ProcessIdentity };

/**
 * One attempt at an exclusive lock file that records its holder's pid and start time.
 * Creating it is atomic (`wx`). Taking over the lock of a holder that died is not — read,
 * remove, create — so takeovers go one at a time through a short-lived guard file: two
 * processes that both find a dead holder cannot both end up holding the lock. Returns
 * the live holder when the lock is taken.
 */
export function tryLock(file: string): LockAttempt {
  const me = JSON.stringify(identify(process.pid) ?? { pid: process.pid, startTime: 'unknown' });
  if (create(file, me)) return { acquired: true };
  const holder = lockHolder(file);
  if (!abandoned(file, holder)) return { acquired: false, holder };
  const guard = `${file}.takeover`;
  if (!create(guard, me)) {
    clearStaleGuard(guard);
    return { acquired: false };
  }
  try {
    // Under the guard: look again, since the lock may have changed hands meanwhile. Only a
    // lock seen to be abandoned — its holder read and dead, or unreadable for long — is
    // removed. One that is gone is only created: another process may be creating it this
    // very moment, without the guard, and removing it would leave two holders.
    const current = lockHolder(file);
    if (current === undefined) {
      const age = ageOf(file);
      if (age === undefined) return create(file, me) ? { acquired: true } : { acquired: false };
      if (age <= UNREADABLE_ABANDONED_MS) return { acquired: false };
    } else if (isRunning(current)) {
      return { acquired: false, holder: current };
    }
    tryUnlink(file);
    return create(file, me) ? { acquired: true } : { acquired: false };
  } finally {
    tryUnlink(guard);
  }
}

/** The recorded holder of a lock file, if it can be read. */
function lockHolder(file: string): ProcessIdentity | undefined {
  try {
    const id = JSON.parse(readFileSync(file, 'utf8')) as ProcessIdentity;
    return typeof id.pid === 'number' && typeof id.startTime === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The live process holding a lock, if one does. */
export function liveLockHolder(file: string): ProcessIdentity | undefined {
  const holder = lockHolder(file);
  return holder !== undefined && isRunning(holder) ? holder : undefined;
}

/** Whether a lock is held by a live process. */
export function lockIsHeld(file: string): boolean {
  const holder = lockHolder(file);
  return holder !== undefined && isRunning(holder);
}

export function unlock(file: string): void {
  tryUnlink(file);
}

/** Whether a lock looks free to take over: its holder dead, unreadable for long, or gone (looked at again under the guard). */
function abandoned(file: string, holder: ProcessIdentity | undefined): boolean {
  if (holder) return !isRunning(holder);
  const age = ageOf(file);
  return age === undefined || age > UNREADABLE_ABANDONED_MS;
}

/**
 * Creates the lock file with its holder's name, or returns false when it exists. A lock
 * created but left empty (the disk filled up mid-write) would read as a holder still
 * writing its name and stall every later command, so it is removed before the error.
 */
function create(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw stateWriteError(err, file);
  }
  try {
    writeSync(fd, content);
  } catch (err) {
    closeSync(fd);
    tryUnlink(file);
    throw stateWriteError(err, file);
  }
  closeSync(fd);
  return true;
}

/** How long ago a file was last written, in ms; undefined when it is gone. */
function ageOf(file: string): number | undefined {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return undefined;
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
    const owner = lockHolder(guard);
    if ((owner && !isRunning(owner)) || Date.now() - statSync(guard).mtimeMs > STALE_GUARD_MS) tryUnlink(guard);
  } catch {
    // Gone already: the next attempt goes ahead.
  }
}
