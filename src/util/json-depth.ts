import { ExitCode, OrchError } from '../errors.js';

/**
 * How deep an input value may nest (objects and arrays). Real inputs nest a few levels;
 * the limit keeps a value nested tens of thousands deep from overflowing the stack of the
 * recursive code every input passes (schema validation, cloning, redaction, the journal).
 * The same limit serde_json applies by default.
 */
export const MAX_INPUT_DEPTH = 128;

/** Whether `value` nests deeper than `limit`, found without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  // Most inputs are one object of plain values: that needs no walk.
  if (limit >= 1 && flat(value)) return false;
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Whether `value` is a scalar, or an object or array holding scalars only. */
function flat(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (child !== null && typeof child === 'object') return false;
  return true;
}

/** Refuses input nested deeper than MAX_INPUT_DEPTH as bad input (exit 2); `what` names it. */
export function checkInputDepth(value: unknown, what: string): void {
  if (!nestsDeeperThan(value, MAX_INPUT_DEPTH)) return;
  throw new OrchError('ORCH_INPUT', `${what} nests more than ${MAX_INPUT_DEPTH} levels deep`, {
    hint: 'flatten it, or pass it as a string (JSON text) the tool parses itself',
    exitCode: ExitCode.usage,
  });
}
