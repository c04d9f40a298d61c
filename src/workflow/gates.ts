/**
 * `tests_must_pass`: a step's result must be a success. A failed script or an MCP error
 * result has already failed the step; a JSON result saying `passed: false` or
 * `success: false` fails it here.
 */
export function checkTestsPassed(output: unknown): void {
  const data = typeof output === 'string' ? parseJson(output) : output;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
  const record = data as Record<string, unknown>;
  for (const key of ['passed', 'success'] as const) {
    if (record[key] === false) throw new Error(`tests did not pass (\`${key}: false\` in the result)`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
