import { describe, expect, it } from 'vitest';
import { plainCopy } from '../../../src/util/plain-copy.js';

describe('plainCopy', () => {
  it('copies JSON-like data deeply, as structuredClone does', () => {
    const value = { a: 1, b: 'x', c: null, d: [1, { e: true }], f: { g: { h: [] } } };
    const copy = plainCopy(value);
    expect(copy).toEqual(structuredClone(value));
    expect(copy).not.toBe(value);
    expect(copy.d[1]).not.toBe(value.d[1]);
    expect(copy.f.g).not.toBe(value.f.g);
  });

  it('keeps an own __proto__ key a key, and gives other objects to structuredClone', () => {
    const parsed = JSON.parse('{"__proto__": {"admin": true}, "n": 1}') as Record<string, unknown>;
    const copy = plainCopy(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'n']);
    expect((copy as { admin?: boolean }).admin).toBeUndefined();
    const when = new Date(0);
    const withDate = plainCopy({ when, map: new Map([[1, 2]]) });
    expect(withDate.when).toEqual(when);
    expect(withDate.when).not.toBe(when);
    expect(withDate.map.get(1)).toBe(2);
    expect(() => plainCopy({ f: () => 1 })).toThrow();
  });
});
