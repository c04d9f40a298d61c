import { expandEnv, type Folders } from './env.js';
import type { IssueSink } from './locate.js';
import type { Origin } from './model.js';

/** What `${...}` references read: the environment, and the folders VS Code's files name. */
export interface VarScope {
  env: NodeJS.ProcessEnv;
  folders: Folders;
}

/** Expands `${VAR}` in one field, reporting each unset variable at that field's line. */
export function expandField(sink: IssueSink, scope: VarScope, where: Origin, value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const { value: expanded, missing, malformed, inputs } = expandEnv(text, scope.env, scope.folders);
  for (const reference of malformed) {
    sink.error('ORCH_ENV_SYNTAX', where, `\`${reference}\` is not a variable reference orch understands`, {
      hint: 'write ${NAME}, ${NAME:-default} or ${env:NAME} (no spaces), ${workspaceFolder} or ${userHome}; $${ stands for a literal ${',
    });
  }
  for (const id of inputs) {
    sink.error('ORCH_ENV_INPUT', where, `\`\${input:${id}}\` asks for an input prompt, and orch has no input prompts`, {
      hint: `set the value in an environment variable and write \${env:${envName(id)}} instead`,
    });
  }
  for (const name of missing) {
    sink.error('ORCH_ENV_UNSET', where, `environment variable \`${name}\` is not set`, {
      hint: `set ${name} in the environment, or give a default: \${${name}:-value}`,
    });
  }
  return expanded;
}

/** An environment variable name for a VS Code input id (`github-token` → `GITHUB_TOKEN`). */
function envName(id: string): string {
  const name = id.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
  return /^[A-Z_]/.test(name) ? name : `X_${name}`;
}

/** Expands every value of a string map (env, headers, environment). */
export function expandMap(
  sink: IssueSink,
  scope: VarScope,
  where: Origin,
  map: Record<string, unknown> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) {
    out[key] = expandField(sink, scope, { file: where.file, path: [...where.path, key] }, value);
  }
  return out;
}
