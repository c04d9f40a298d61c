import path from 'node:path';

/**
 * The directory orch keeps its state in: `ORCH_STATE_DIR` when set (relative to the
 * project directory), else `.orch/` inside the project.
 */
export function resolveStateDir(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.ORCH_STATE_DIR;
  return override ? path.resolve(projectDir, override) : path.join(projectDir, '.orch');
}
