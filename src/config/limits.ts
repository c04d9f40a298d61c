import { parseDuration } from './duration.js';

/**
 * The most instances an agent type's pool may have, for `count:` in agent-team.yaml (its
 * schema's `maximum`) and `orch scale` alike: large enough for any one machine, while a
 * typo like 100000000 does not allocate a registry that size.
 */
export const MAX_POOL_SIZE = 10_000;

/**
 * The longest duration a timer can wait: Node's timers hold a signed 32-bit count of
 * milliseconds (about 24.8 days, 596 hours), and a longer one fires after 1 ms instead.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Why a duration from a config file cannot be used, or undefined when it can. Every
 * duration must fit a timer; a timeout (`positive`) must also be more than zero, or every
 * call would fail at once. A value the duration syntax does not accept is left to the
 * schema's own pattern.
 */
export function durationProblem(value: unknown, options: { positive?: boolean } = {}): string | undefined {
  const ms = parseDuration(value);
  if (ms === undefined) return undefined;
  if (ms > MAX_TIMER_MS) return `must be at most 596h (${MAX_TIMER_MS} ms, about 24 days), the longest timer can wait; found ${JSON.stringify(value)}`;
  if (options.positive === true && ms <= 0) return `must be more than 0: a zero timeout fails every call at once; found ${JSON.stringify(value)} (leave it out for the default)`;
  return undefined;
}
