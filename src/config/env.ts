/**
 * `${VAR}` and `${VAR:-default}` expansion for the fields that name programs, arguments,
 * environments, URLs and headers. `$${` stands for a literal `${`. Workflow expressions
 * (`${{ ... }}`) are never touched.
 */
const REFERENCE = /\$\$\{|\$\{(?!\{)([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Expansion {
  value: string;
  /** Variables referenced without a default that are not set. */
  missing: string[];
}

export function expandEnv(input: string, env: NodeJS.ProcessEnv): Expansion {
  const missing: string[] = [];
  const value = input.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) return match;
    const current = env[name];
    if (current !== undefined && current !== '') return current;
    if (fallback !== undefined) return fallback;
    if (current === '') return '';
    missing.push(name);
    return '';
  });
  return { value, missing };
}
