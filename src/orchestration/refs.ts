/**
 * References between subtasks inside an input: `{"$from": "extract"}` is replaced by the
 * result of subtask `extract`, `{"$from": "extract", "path": "rows"}` by a field of it,
 * and `{"$from": ["a", "b"]}` by `{a: <result>, b: <result>}`. A reference is also a
 * dependency, so the referenced subtasks run first.
 */

type Ref = { $from: string | string[]; path?: string };

function isRef(value: unknown): value is Ref {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('$from' in value)) return false;
  const from: unknown = value.$from;
  return typeof from === 'string' || (Array.isArray(from) && from.every((f) => typeof f === 'string'));
}

/** Ids of the subtasks an input refers to. */
export function referencedIds(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (isRef(value)) {
    for (const id of typeof value.$from === 'string' ? [value.$from] : value.$from) out.add(id);
  } else if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) referencedIds(item, out);
  }
  return out;
}

/** The input with every reference replaced by the result it names. */
export function resolveRefs(value: unknown, results: ReadonlyMap<string, unknown>): unknown {
  if (isRef(value)) {
    if (typeof value.$from !== 'string') return Object.fromEntries(value.$from.map((id) => [id, results.get(id)]));
    const result = results.get(value.$from);
    return value.path === undefined ? result : pick(result, value.path);
  }
  if (Array.isArray(value)) return value.map((item) => resolveRefs(item, results));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, results)]));
  }
  return value;
}

function pick(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Object.entries(current).find(([k]) => k === key)?.[1];
  }
  return current;
}

/** A subtask's input with its references resolved. */
export function resolveInput(input: Record<string, unknown>, results: ReadonlyMap<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, resolveRefs(v, results)]));
}
