import type { Clock } from '../util/clock.js';

export interface BreakerPolicy {
  /** Consecutive failures (failed starts, crashes, timeouts) that open the circuit. */
  threshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  cooldownMs: number;
}

export type BreakerDecision = { allowed: true } | { allowed: false; retryInMs: number };

/** The answer to nearly every check, allocated once: it is asked before every call. */
const ALLOWED: BreakerDecision = Object.freeze({ allowed: true });

/**
 * Stops orch from hammering a server that keeps failing. Closed: calls flow. After
 * `threshold` consecutive failures it opens and refuses calls for `cooldownMs`; then one
 * probe is let through (half-open), whose success closes it and whose failure reopens it.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trial = false;

  constructor(
    private readonly policy: BreakerPolicy,
    private readonly clock: Clock,
  ) {}

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** True while the one call let through after the cooldown is under way. */
  get probing(): boolean {
    return this.trial;
  }

  check(): BreakerDecision {
    if (this.openedAt === undefined) return ALLOWED;
    const retryInMs = this.openedAt + this.policy.cooldownMs - this.clock.now();
    if (retryInMs > 0 || this.trial) return { allowed: false, retryInMs: Math.max(retryInMs, 0) };
    this.trial = true;
    return ALLOWED;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trial = false;
  }

  /** A probe that ended without a verdict (cancelled by the caller) frees the slot. */
  release(): void {
    this.trial = false;
  }

  /** A failed probe reopens the circuit, whatever the count (it may have been tripped). */
  recordFailure(): void {
    this.failures += 1;
    if (this.trial || this.failures >= this.policy.threshold) this.openedAt = this.clock.now();
    this.trial = false;
  }

  /** Opens the circuit now, for a verdict reached outside the breaker (restarts exhausted). */
  trip(): void {
    this.openedAt = this.clock.now();
    this.trial = false;
  }
}

/** Delay before restart number `attempt` (1-based): base, 2×base, 4×base... capped at max. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(attempt - 1, 0), maxMs);
}
