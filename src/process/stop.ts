import type { ChildProcess } from 'node:child_process';

/** How long each stage of a shutdown may take before the next, harsher one. */
export interface StopTimings {
  /** After input is ended, before SIGTERM. */
  graceMs: number;
  /** After SIGTERM, before SIGKILL. */
  termMs: number;
}

/** The stages the MCP SDK's stdio transport uses for a server's own process (SDK 1.x). */
export const DEFAULT_STOP_TIMINGS: StopTimings = { graceMs: 2000, termMs: 2000 };

/** What the stop sequence acts on: one child process, or a whole process tree. */
export interface StopTarget {
  /** Asks it to end by itself: ends stdin, disconnects IPC. Absent when it has no input. */
  endInput?: () => void;
  /** Sends `sig` to whatever of it still runs. */
  signal(sig: 'SIGTERM' | 'SIGKILL'): void;
  /** Resolves true once all of it has exited, or false after `ms`. */
  exited(ms: number): Promise<boolean>;
}

/** The timings of every stage, the wait after SIGKILL included. */
export interface StopStages extends StopTimings {
  /**
   * How long to wait after SIGKILL: a child's exit is always reported, so it is waited for
   * (Infinity); processes that are not orch's children can only be polled, for a bounded time.
   */
  killWaitMs: number;
}

/**
 * The one shutdown sequence orch uses for every process it owns: end input → wait →
 * SIGTERM → wait → SIGKILL → wait. Each stage is skipped once everything has exited.
 */
export async function runStopSequence(target: StopTarget, stages: StopStages): Promise<void> {
  target.endInput?.();
  if (await target.exited(stages.graceMs)) return;
  target.signal('SIGTERM');
  if (await target.exited(stages.termMs)) return;
  target.signal('SIGKILL');
  await target.exited(stages.killWaitMs);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Resolves true once `exit` settles, or false after `ms` (Infinity: no limit). The timer is
 * unref'd and cleared: a wait must never be what keeps orch alive.
 */
export function settlesWithin(exit: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms === Number.POSITIVE_INFINITY) return exit.then(() => true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms).unref();
    void exit.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Ends a child's input: stdin, and the IPC channel of a forked child. */
function endChildInput(child: ChildProcess): void {
  if (child.stdin && !child.stdin.destroyed) {
    // The child may be gone already: a failed write of the end must not become an uncaught error.
    child.stdin.on('error', () => {});
    child.stdin.end();
  }
  if (child.connected) child.disconnect();
}

/**
 * Stops a child process orch spawned and owns: ends its input (`endInput` if given, else
 * its stdin and IPC channel) → waits `graceMs` → SIGTERM → waits `termMs` → SIGKILL.
 * Resolves once the child has exited. Safe on a child that has already exited (or never
 * started): nothing is signalled, so a reused pid is never hit.
 */
export async function stopChild(
  child: ChildProcess,
  options: { endInput?: () => void; graceMs?: number; termMs?: number } = {},
): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await runStopSequence(
    {
      endInput: options.endInput ?? (() => endChildInput(child)),
      // ChildProcess.kill never signals a child Node has already seen exit, whose pid may be reused.
      signal: (sig) => void child.kill(sig),
      exited: (ms) => settlesWithin(exit, ms),
    },
    {
      graceMs: options.graceMs ?? DEFAULT_STOP_TIMINGS.graceMs,
      termMs: options.termMs ?? DEFAULT_STOP_TIMINGS.termMs,
      killWaitMs: Number.POSITIVE_INFINITY,
    },
  );
}
