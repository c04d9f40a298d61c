/** The second whose `YYYY-MM-DDTHH:MM:SS.` prefix is cached, and that prefix. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * `new Date(ms).toISOString()`, for a time in milliseconds since the epoch, at a fraction
 * of its cost: audit lines are written for every tool call, and formatting a date in full
 * would cost more than the rest of the line. The prefix up to the second is computed once
 * per second; only the milliseconds are formatted each time.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const full = new Date(ms).toISOString();
    // Years past 9999 (or before 0) are written with a sign and six digits: not worth caching.
    if (full.length !== 24) return full;
    cachedSecond = second;
    cachedPrefix = full.slice(0, 20);
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
