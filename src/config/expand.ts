import { expandEnv } from './env.js';
import type { IssueSink } from './locate.js';
import type { Origin } from './model.js';

/** Expands `${VAR}` in one field, reporting each unset variable at that field's line. */
export function expandField(
  sink: IssueSink,
  env: NodeJS.ProcessEnv,
  where: Origin,
  value: unknown,
): string {
  const text = typeof value === 'string' ? value : String(value);
  const { value: expanded, missing, malformed } = expandEnv(text, env);
  for (const reference of malformed) {
    sink.error('ORCH_ENV_SYNTAX', where, `\`${reference}\` is not a variable reference orch understands`, {
      hint: 'write ${NAME} or ${NAME:-default} (no spaces); $${ stands for a literal ${',
    });
  }
  for (const name of missing) {
    sink.error('ORCH_ENV_UNSET', where, `environment variable \`${name}\` is not set`, {
      hint: `set ${name} in the environment, or give a default: \${${name}:-value}`,
    });
  }
  return expanded;
}

/** Expands every value of a string map (env, headers, environment). */
export function expandMap(
  sink: IssueSink,
  env: NodeJS.ProcessEnv,
  where: Origin,
  map: Record<string, unknown> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) {
    out[key] = expandField(sink, env, { file: where.file, path: [...where.path, key] }, value);
  }
  return out;
}
