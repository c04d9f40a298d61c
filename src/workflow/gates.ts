/**
 * `tests_must_pass`: a step's result must be a success. A failed script or an MCP error
 * result has already failed the step; a JSON result whose `passed` or `success` is not a
 * clear yes fails it here. A gate errs on the safe side: `"false"`, `0`, `null` or a word
 * it cannot read as yes or no is no pass.
 */
export function checkTestsPassed(output: unknown): void {
  const data = typeof output === 'string' ? parseJson(output) : output;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
  const record = data as Record<string, unknown>;
  for (const key of ['passed', 'success'] as const) {
    if (!(key in record) || saysYes(record[key])) continue;
    throw new Error(`tests did not pass (\`${key}: ${JSON.stringify(record[key]) ?? String(record[key])}\` in the result)`);
  }
}

const YES = new Set(['true', 'yes', 'y', '1', 'ok', 'pass', 'passed', 'success', 'succeeded']);

/** Whether a verdict reads as a pass: `true`, a non-zero count, or a string such as "true" or "passed". */
function saysYes(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0 && Number.isFinite(value);
  if (typeof value === 'string') return YES.has(value.trim().toLowerCase());
  return false;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
