import '../orchestration/register.js';
import { CommanderError } from 'commander';
import { buildProgram, exitCode, useColor } from './program.js';
import { ConfigError, ExitCode, isOrchError } from '../errors.js';
import { printError } from './ui/report.js';
import { protectRunArgs } from './run-args.js';
import { secretsRedactor } from '../secrets/redact.js';
import { redactError } from '../secrets/redact-error.js';

/**
 * With `--json`, stdout always carries one JSON document — a failure too — so a CI step
 * can parse it whatever happened. The person reading stderr still gets the full message.
 */
function jsonError(err: unknown): string {
  if (err instanceof ConfigError) {
    return JSON.stringify({ ok: false, error: { code: err.code, message: err.message }, issues: err.issues });
  }
  if (isOrchError(err)) {
    return JSON.stringify({ ok: false, error: { code: err.code, message: err.message, hint: err.hint ?? null } });
  }
  if (err instanceof CommanderError) {
    return JSON.stringify({ ok: false, error: { code: 'ORCH_USAGE', message: err.message.replace(/^error: /, '') } });
  }
  return JSON.stringify({ ok: false, error: { code: 'ORCH_INTERNAL', message: err instanceof Error ? err.message : String(err) } });
}

/**
 * `orch runs | head -1`: once the reader has gone, what is left to print has nowhere to
 * go. That is no error of the command, which finishes as it would (a run still records
 * its journal); only the output is dropped. Any other stream error is a real one.
 */
function dropOutputToClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      stream.destroy();
    });
  }
}

/** The one place that catches errors and decides the process's exit code. */
async function main(argv: string[]): Promise<number> {
  dropOutputToClosedPipes();
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(protectRunArgs(argv));
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are successes; anything else commander rejects is usage.
      if (err.exitCode === 0) return ExitCode.ok;
      if (json) process.stdout.write(`${jsonError(err)}\n`);
      return ExitCode.usage;
    }
    // Whatever the error carries (a tool's stderr, a value quoted back), the secrets of the environment are not shown.
    const shown = redactError(err, secretsRedactor(process.env, []));
    if (json) process.stdout.write(`${jsonError(shown)}\n`);
    printError(shown, { stream: process.stderr, color: useColor(!argv.includes('--no-color'), process.stderr) });
    return isOrchError(shown) ? shown.exitCode : ExitCode.runFailed;
  }
}

process.exitCode = await main(process.argv);
