import { describe, expect, it } from 'vitest';
import { isoTime } from '../../../src/util/iso-time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, within a second, across seconds and at odd times', () => {
    const base = Date.UTC(2024, 1, 29, 23, 59, 59, 0);
    const times = [base, base + 1, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000, base + 1001, base - 1];
    times.push(0, -1, -1000, 253402300799999, 253402300800000, -62198755200000, 1.5, Date.now());
    for (let i = 0; i < 1000; i++) times.push(Math.floor(Math.random() * 4e12));
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws for a time toISOString cannot write', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
