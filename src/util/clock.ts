import { setTimeout as sleepFor } from 'node:timers/promises';

/** Time as the supervisor's policies see it; tests substitute a manual clock. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    if (ms <= 0) return signal?.throwIfAborted();
    await sleepFor(ms, undefined, signal ? { signal } : {});
  },
};
