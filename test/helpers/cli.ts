import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Lets the test worker's event loop turn between synchronous CLI runs: vitest's worker
 * answers its runner over RPC with a fixed 60 s timeout, and a test that chains many
 * spawnSync calls on a loaded machine could otherwise block past it.
 */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `orch` bin as a user would, with no TTY and no colour. */
export function orch(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.FORCE_COLOR;
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
