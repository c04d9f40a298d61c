/** The only variables a server inherits from orch's environment (DESIGN.md section 1). */
export const BASE_ENV_VARS = ['PATH', 'HOME', 'USER', 'SHELL', 'TERM', 'LOGNAME', 'LANG'] as const;

/**
 * A server's whole environment: the minimal base taken from `parent`, then the server's
 * declared `env`. Nothing else of orch's environment reaches a server, so a token meant
 * for one server is never visible to another.
 */
export function buildServerEnv(
  declared: Record<string, string>,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV_VARS) {
    const value = parent[name];
    // Exported shell functions (`() { ...`) are how Shellshock travelled; never pass them on.
    if (value !== undefined && !value.startsWith('()')) env[name] = value;
  }
  return { ...env, ...declared };
}
