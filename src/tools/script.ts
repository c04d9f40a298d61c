import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ScriptHandler } from '../config/model.js';
import { formatDuration } from '../config/duration.js';
import { registerPid } from '../process/pid-registry.js';
import { identify, markedProcesses, newProcessTag, PROCESS_TAG_VARIABLE, signal, stdioPipes, type Marks } from '../process/identity.js';
import { runStopSequence, settlesWithin } from '../process/stop.js';
import { renderText } from '../lang/placeholders.js';
import { OrchError } from '../errors.js';
import { parseOutput, ToolError, type ToolResult } from './result.js';
import { renderShell } from '../lang/shell-template.js';

/** Time a script gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
/**
 * How long the pipes of a script whose whole group has been ended may stay open. Past it,
 * whatever still holds them escaped every way orch finds processes (it cleared its
 * environment and left the group); orch stops waiting on the pipes rather than hang.
 */
const PIPE_DRAIN_MS = 1_000;

/**
 * Process groups of the scripts running now, each with its tag and what forgets its pid
 * record, for a synchronous kill on a forced exit.
 */
const running = new Map<number, { tag: string; unregister: () => void }>();

/** SIGKILLs every running script's process group and what it detached: the last resort when orch must exit now. */
export function killRunningScripts(): void {
  for (const [pid, { tag, unregister }] of running) {
    killProcesses(pid, { tag }, 'SIGKILL');
    unregister();
  }
}

/**
 * Signals a script's process group and every process marked as the script's — by its tag,
 * or by holding its pipes — which covers what left the group (`setsid`) or was re-parented
 * away (a double fork). Marked processes are looked for again after a SIGKILL, since one may
 * have started another between the look and the kill.
 */
function killProcesses(group: number | undefined, marks: Marks, sig: NodeJS.Signals): void {
  if (group !== undefined) {
    try {
      process.kill(-group, sig);
    } catch {
      // The group is already gone.
    }
  }
  const signalled = new Set<string>();
  for (let round = 0; round < (sig === 'SIGKILL' ? 5 : 1); round++) {
    const fresh = markedProcesses(marks).filter((id) => !signalled.has(`${id.pid}:${id.startTime}`));
    if (fresh.length === 0) return;
    for (const id of fresh) {
      signalled.add(`${id.pid}:${id.startTime}`);
      signal(id, sig);
    }
  }
}

export interface ScriptOptions {
  tool: string;
  /** Directory `working_dir` is resolved against, and the default working directory. */
  baseDir: string;
  /** The tool's `environment`, whose values may hold placeholders too. */
  environment: Record<string, string>;
  signal?: AbortSignal;
  /**
   * orch's state directory. When given, the script's process is recorded under it while
   * it runs, so that the next orch command ends it if this orch is killed (SIGKILL) first.
   */
  stateDir?: string;
}

/**
 * Runs a `script:` tool. `command` + `args` run directly (a value is one argv element,
 * whatever it contains); `shell:` runs under `sh -c` with values passed as environment
 * variables (shell-template.ts). The script runs in its own process group, and that whole
 * group is ended on timeout, on cancel, and when the script itself exits, so neither a
 * timed-out pipeline nor a forgotten background job outlives the call. With a `stateDir`
 * it does not outlive a SIGKILLed orch either, past the next orch command.
 *
 * Every parameter is also in the environment as `GANTZ_ARG_<NAME>`, as the Gantz CLI
 * passes them.
 *
 * stdout is the result (a JSON object or array is parsed, see parseOutput); a non-zero
 * exit is a ToolError carrying stderr.
 */
export async function runScript(
  handler: ScriptHandler,
  params: Record<string, unknown>,
  options: ScriptOptions,
): Promise<ToolResult> {
  const env = { ...Object.fromEntries(Object.entries(options.environment).map(([k, v]) => [k, renderText(v, params)])), ...gantzArgs(params) };
  let file: string;
  let args: string[];
  if (handler.shell !== undefined) {
    const shell = renderShell(handler.shell, params);
    Object.assign(env, shell.env);
    [file, args] = ['sh', ['-c', shell.script]];
  } else if (handler.command !== undefined) {
    [file, args] = [handler.command, handler.args.map((arg) => renderText(arg, params))];
  } else {
    throw new ToolError(options.tool, `tool ${options.tool} has neither \`shell\` nor \`command\``, { code: 'ORCH_TOOL_INVALID' });
  }
  refuseNul(options.tool, params, [file, ...args, ...Object.values(env)]);
  const cwd = path.resolve(options.baseDir, handler.workingDir ?? '.');
  const tag = newProcessTag();
  env[PROCESS_TAG_VARIABLE] = tag;

  // execa loads with the first script, not with every command that could run one (status, approve, ...).
  const { execa } = await import('execa');
  const child = execa(file, args, {
    cwd,
    env,
    detached: true,
    stdin: 'ignore',
    reject: false,
    stripFinalNewline: false,
  });
  // Read now, while the script runs: once it exits, its pipes can no longer be named from it.
  const pipes = child.pid === undefined ? [] : stdioPipes(child.pid);
  const unregister = options.stateDir === undefined ? () => {} : recordScript(options.stateDir, options.tool, child.pid, tag);

  let ended: 'timeout' | 'cancelled' | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (sig: NodeJS.Signals): void => killProcesses(child.pid, { tag }, sig);
  const terminate = (why: 'timeout' | 'cancelled'): void => {
    if (ended) return;
    ended = why;
    // No input to end (stdin is ignored), so no grace: SIGTERM → wait → SIGKILL, for the whole group.
    const group = { signal: killGroup, exited: (ms: number) => settlesWithin(exit, ms) };
    void runStopSequence(group, { graceMs: 0, termMs: KILL_GRACE_MS, killWaitMs: 0 });
  };
  const onAbort = (): void => terminate('cancelled');
  const timer = handler.timeoutMs === undefined ? undefined : setTimeout(() => terminate('timeout'), handler.timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const pid = child.pid;
  if (pid !== undefined) running.set(pid, { tag, unregister });
  let drain: NodeJS.Timeout | undefined;
  child.once('exit', () => {
    // Background jobs of a finished script would otherwise hold its stdout open forever.
    killGroup('SIGKILL');
    drain = setTimeout(() => {
      // Still open: one last look for whoever holds the pipes, then stop waiting on them.
      killProcesses(undefined, { tag, pipes }, 'SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, PIPE_DRAIN_MS).unref();
  });

  try {
    const result = await child;
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    const detail = { exitCode: result.exitCode, stdout, stderr };
    if (ended === 'timeout') {
      throw new ToolError(options.tool, `${options.tool} timed out after ${formatDuration(handler.timeoutMs ?? 0)}`, {
        code: 'ORCH_TOOL_TIMEOUT',
        detail,
        hint: 'raise the tool\'s `timeout`, or make the script finish sooner',
      });
    }
    if (ended === 'cancelled') {
      throw new ToolError(options.tool, `${options.tool} was cancelled`, { code: 'ORCH_CANCELLED', detail });
    }
    if (result.exitCode === undefined) {
      // It never started (not found, not executable, bad working_dir) or died by a signal.
      const reason = result.signal ? `was killed by ${result.signal}` : `could not start: ${result.originalMessage ?? result.shortMessage}`;
      throw new ToolError(options.tool, `${options.tool} ${reason}`, { detail });
    }
    if (result.exitCode !== 0) {
      const lastLine = stderr.trim().split('\n').at(-1) ?? '';
      throw new ToolError(
        options.tool,
        `${options.tool} exited with code ${result.exitCode}${lastLine ? `: ${lastLine}` : ''}`,
        { detail },
      );
    }
    return { value: parseOutput(stdout) };
  } finally {
    if (timer) clearTimeout(timer);
    if (drain) clearTimeout(drain);
    if (pid !== undefined) running.delete(pid);
    unregister();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A NUL byte ends a C string: no program argument or environment variable can carry one,
 * so a value holding it is bad input, refused before anything starts.
 */
function refuseNul(tool: string, params: Record<string, unknown>, strings: readonly string[]): void {
  if (!strings.some((s) => s.includes('\0'))) return;
  const param = Object.entries(params).find(([, v]) => typeof v === 'string' && v.includes('\0'))?.[0];
  const what = param === undefined ? 'a value' : `parameter \`${param}\``;
  throw new OrchError('ORCH_INPUT', `${tool}: ${what} holds a NUL byte (\\0), which no program argument or environment variable can carry`, {
    hint: 'remove it; to pass binary data, encode it first (base64, hex)',
  });
}

/**
 * Records a script's process so that the next orch command ends it should this orch be
 * killed first; returns a function that forgets it. A script that cannot be recorded is
 * not left running.
 */
function recordScript(stateDir: string, tool: string, pid: number | undefined, tag: string): () => void {
  // No identity when it never started or has already ended: there is nothing to reap.
  const id = pid === undefined ? undefined : identify(pid);
  if (!id) return () => {};
  try {
    return registerPid(stateDir, tool, id, 'script', tag);
  } catch (err) {
    killProcesses(id.pid, { tag }, 'SIGKILL');
    throw err;
  }
}

/**
 * Counts another process group orch leads (a Python handler's) among the running scripts,
 * so that `killRunningScripts` ends it too; returns a function that forgets it.
 */
export function trackProcessGroup(pid: number, forget: () => void = () => {}, tag = `untagged-${randomUUID()}`): () => void {
  // Without a tag of its own, only its group is signalled: a fresh tag no process carries.
  running.set(pid, { tag, unregister: forget });
  return () => {
    running.delete(pid);
  };
}

/**
 * The parameters as the Gantz CLI gives them to scripts: `GANTZ_ARG_<NAME>` (upper case,
 * other characters as `_`), strings as they are, other values as JSON.
 */
export function gantzArgs(params: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    env[`GANTZ_ARG_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return env;
}
