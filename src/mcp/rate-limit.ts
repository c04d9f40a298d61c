import type { RateLimit } from '../config/model.js';
import type { Clock } from '../util/clock.js';

/**
 * A sliding-window limit of `calls` per `perMs`. A call over the limit waits for a slot
 * rather than failing: the user asked to be gentle with the server, not to lose calls.
 */
export class RateLimiter {
  /** Start times of the calls inside the current window, oldest first. */
  private readonly starts: number[] = [];

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds until a call may start (0 = now). */
  delay(): number {
    const now = this.clock.now();
    while (this.starts.length > 0 && (this.starts[0] ?? now) + this.limit.perMs <= now) this.starts.shift();
    if (this.starts.length < this.limit.calls) return 0;
    return (this.starts[0] ?? now) + this.limit.perMs - now;
  }

  /** Waits for a slot, then takes it. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (let wait = this.delay(); wait > 0; wait = this.delay()) await this.clock.sleep(wait, signal);
    this.starts.push(this.clock.now());
  }
}
