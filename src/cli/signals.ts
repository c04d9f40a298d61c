import { ExitCode } from '../errors.js';

/** What a command must end before orch exits: a Supervisor, say. */
export interface ShutdownTarget {
  /** Ends everything gracefully; resolves once it is all gone. */
  shutdown(): Promise<void>;
  /** SIGKILLs whatever is left, synchronously: the last resort of a forced exit. */
  killNow(): void;
}

/**
 * While servers run, every way orch can end goes through their shutdown first:
 * SIGINT (exit 130, a second one forces), SIGTERM (143), an uncaught error (1). The
 * `exit` hook is the last resort for paths that skip all of these (process.exit in a
 * bug): it can only SIGKILL synchronously. Returns a function that removes the handlers.
 */
export function installShutdownHandlers(shutdown: () => Promise<void>, killNow: () => void): () => void {
  let shuttingDown = false;
  const finish = (code: number) => {
    if (shuttingDown) {
      killNow(); // asked twice: the user wants out now
      process.exit(code);
    }
    shuttingDown = true;
    void shutdown()
      .catch(() => {}) // exiting regardless; the exit hook still kills what is left
      .finally(() => process.exit(code));
  };
  const onSigint = () => finish(ExitCode.sigint);
  const onSigterm = () => finish(ExitCode.sigterm);
  const onFatal = (err: unknown) => {
    process.stderr.write(`orch: internal error, please report it:\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    finish(ExitCode.runFailed);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('exit', killNow);
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    process.off('exit', killNow);
  };
}

/**
 * Runs `body` with the shutdown handlers armed for `target`, and ends `target` however
 * `body` ends. The library never installs handlers itself: which signals end orch, and
 * with what exit code, is the CLI's choice.
 */
export async function withShutdownHandlers<T>(target: ShutdownTarget, body: () => Promise<T>): Promise<T> {
  const uninstall = installShutdownHandlers(
    () => target.shutdown(),
    () => target.killNow(),
  );
  try {
    return await body();
  } finally {
    await target.shutdown();
    uninstall();
  }
}
