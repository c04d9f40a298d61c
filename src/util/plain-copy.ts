/**
 * A deep copy of JSON-like data (plain objects, arrays, primitives) as `structuredClone`
 * makes it, built by hand at a tenth of its cost: tool inputs are copied on every call.
 * Anything else inside (a Date, a Map, a class instance) is copied by `structuredClone`,
 * which also throws for what it cannot copy (a function), as before.
 */
export function plainCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? structuredClone(value) : value;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return structuredClone(value);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = plainCopy(value[i] as unknown);
    return out as T;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copied = plainCopy((value as Record<string, unknown>)[key]);
    // An own `__proto__` key (JSON.parse makes one) stays a key: assigning it would set the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
    else out[key] = copied;
  }
  return out as T;
}
