import { CommanderError } from 'commander';
import { buildProgram, exitCode, useColor } from './program.js';
import { ExitCode, isOrchError } from '../errors.js';
import { printError } from './ui/report.js';
import { protectRunArgs } from './run-args.js';

/** The one place that catches errors and decides the process's exit code. */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(protectRunArgs(argv));
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are successes; anything else commander rejects is usage.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const color = useColor(!argv.includes('--no-color'), process.stderr);
    if (isOrchError(err)) {
      printError(err, { stream: process.stderr, color });
      return err.exitCode;
    }
    printError(err, { stream: process.stderr, color });
    return ExitCode.runFailed;
  }
}

process.exitCode = await main(process.argv);
