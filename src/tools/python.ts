import { createInterface } from 'node:readline';
import path from 'node:path';
import type { ModuleHandler } from '../config/model.js';
import { ExitCode, OrchError, isOrchError } from '../errors.js';
import { identify } from '../process/identity.js';
import { registerPid } from '../process/pid-registry.js';
import { packagePath } from '../util/package-root.js';
import { DEFAULT_STOP_TIMINGS, runStopSequence, settlesWithin } from '../process/stop.js';
import type { HandlerContext } from './handler.js';
import { ToolError, type ToolResult } from './result.js';
import { trackProcessGroup } from './script.js';

/** The bridge orch ships (package.json `files`), beside the package root. */
const BRIDGE = packagePath('python', 'orch_bridge.py');

/** Lines of the handler's own output kept for an error message. */
const STDERR_LINES = 20;

/** What the bridge writes, one JSON object per line. */
type BridgeMessage =
  | { type: 'call_tool'; id: number; name: string; args: Record<string, unknown> }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'result'; value: unknown }
  | { type: 'error'; kind: 'load' | 'export' | 'exception' | 'serialise' | 'cancelled'; message: string; error_type?: string; traceback?: string };

/** The interpreter: the ORCH_PYTHON variable, else `python3` from PATH. */
export function pythonCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.ORCH_PYTHON || 'python3';
}

/**
 * Runs a Python handler (`handlers/<module>.py`): one `python3` process per call, running
 * orch's bridge, which imports the module and calls the function with the validated
 * arguments as keyword arguments (sync or async). The handler's `ctx.call_tool` and
 * `ctx.logger` come back over the bridge to this call's context. The process leads its
 * own process group: on cancel the whole group is stopped (end of input → SIGTERM →
 * SIGKILL), and it is recorded under the state directory while it runs, so that a
 * SIGKILLed orch's next command ends it.
 */
export async function runPython(handler: ModuleHandler & { file: string }, params: Record<string, unknown>, ctx: HandlerContext): Promise<ToolResult> {
  const command = pythonCommand();
  const configDir = path.dirname(path.dirname(handler.file));
  const { execa } = await import('execa');
  const child = execa(command, ['-u', BRIDGE], {
    cwd: ctx.project.dir,
    env: { PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
    detached: true,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
  });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const unregister = record(ctx, child.pid, killGroup);
  const untrack = child.pid === undefined ? () => {} : trackProcessGroup(child.pid, unregister);
  // Whatever the handler left running in its group ends with it.
  child.once('exit', () => killGroup('SIGKILL'));

  const stderrTail: string[] = [];
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_LINES) stderrTail.shift();
      ctx.logger.info(line);
    });
  }
  const send = (message: unknown): void => {
    if (child.stdin && !child.stdin.destroyed && child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  child.stdin?.on('error', () => {}); // the handler may exit before an answer reaches it

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (child.pid === undefined) return Promise.resolve(); // it never started
    stopping ??= runStopSequence(
      { endInput: () => child.stdin?.end(), signal: killGroup, exited: (ms) => settlesWithin(exit, ms) },
      { ...DEFAULT_STOP_TIMINGS, killWaitMs: Number.POSITIVE_INFINITY },
    );
    return stopping;
  };
  const onAbort = (): void => void stop();
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  // Settles once the bridge's output has all been read: after its last line, not at its exit.
  let outputEnded: () => void = () => {};
  const closed = new Promise<undefined>((resolve) => (outputEnded = () => resolve(undefined)));
  const outcome = new Promise<BridgeMessage & { type: 'result' | 'error' }>((resolve) => {
    if (!child.stdout) return;
    const lines = createInterface({ input: child.stdout });
    lines.once('close', () => outputEnded());
    lines.on('line', (line) => {
      let message: BridgeMessage;
      try {
        message = JSON.parse(line) as BridgeMessage;
      } catch {
        return; // not the bridge's: it writes nothing else here
      }
      switch (message.type) {
        case 'call_tool':
          void answer(message.id, message.name, message.args);
          return;
        case 'log':
          ctx.logger[message.level](message.message);
          return;
        case 'result':
        case 'error':
          resolve(message);
          return;
        default: {
          const never: never = message;
          return never;
        }
      }
    });
  });
  const answer = async (requestId: number, name: string, args: Record<string, unknown>): Promise<void> => {
    try {
      send({ type: 'tool_result', id: requestId, ok: true, value: (await ctx.callTool(name, args)) ?? null });
    } catch (err) {
      const code = isOrchError(err) ? err.code : 'ORCH_TOOL_FAILED';
      send({ type: 'tool_result', id: requestId, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
    }
  };

  try {
    if (ctx.signal.aborted) onAbort();
    send({
      type: 'call',
      module_file: handler.file,
      module: handler.module,
      function: handler.fn,
      params,
      tool: ctx.tool,
      project_dir: ctx.project.dir,
      config_dir: configDir,
      state_dir: ctx.stateDir,
    });
    const ended = await Promise.race([outcome, closed, spawnError]);
    if (ended instanceof Error) throw notFound(command, ended);
    if (ctx.signal.aborted) throw new ToolError(ctx.tool, `${ctx.tool} was cancelled`, { code: 'ORCH_CANCELLED' });
    if (ended === undefined) {
      const { exitCode, signal } = await child;
      const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode ?? '?'}`;
      const last = stderrTail.at(-1);
      throw new ToolError(ctx.tool, `${ctx.tool}: the Python handler ${how} before it answered${last ? `: ${last}` : ''}`, {
        detail: { exitCode, stderr: stderrTail.join('\n') },
      });
    }
    if (ended.type === 'result') return { value: ended.value };
    throw failure(ended, handler, ctx);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await stop();
    untrack();
    unregister();
  }
}

/**
 * Records the handler's process so that the next orch command ends it should this orch be
 * killed first; a process that cannot be recorded is not left running.
 */
function record(ctx: HandlerContext, pid: number | undefined, killGroup: (signal: NodeJS.Signals) => void): () => void {
  const id = pid === undefined ? undefined : identify(pid);
  if (!id) return () => {};
  try {
    return registerPid(ctx.stateDir, ctx.tool, id, 'script');
  } catch (err) {
    killGroup('SIGKILL');
    throw err;
  }
}

function notFound(command: string, err: Error): OrchError {
  const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
  return new OrchError('ORCH_PYTHON_NOT_FOUND', missing ? `cannot run Python handlers: \`${command}\` is not installed` : `cannot start \`${command}\`: ${err.message}`, {
    hint: 'install Python 3 (Debian, Ubuntu: apt-get install python3), or set ORCH_PYTHON to the interpreter',
    exitCode: ExitCode.usage,
    cause: err,
  });
}

/** The bridge's error as orch's: a module that does not load is the project's (2), an exception the tool's (1). */
function failure(error: BridgeMessage & { type: 'error' }, handler: ModuleHandler & { file: string }, ctx: HandlerContext): OrchError {
  const file = path.basename(handler.file);
  // The traceback is for whoever debugs the handler: shown with --verbose.
  if (error.traceback) ctx.logger.debug(`${file} traceback:\n${error.traceback.trimEnd()}`);
  const type = error.error_type ? `${error.error_type}: ` : '';
  switch (error.kind) {
    case 'load':
      return new OrchError('ORCH_HANDLER_LOAD', `cannot load ${file}: ${type}${error.message}`, {
        location: { file: handler.file },
        hint: 'run it with --verbose to see the traceback',
        exitCode: ExitCode.usage,
      });
    case 'export':
      return new OrchError('ORCH_HANDLER_EXPORT', `${file} does not define a function \`${handler.fn}\``, {
        location: { file: handler.file },
        hint: `add \`def ${handler.fn}(...)\` (or \`async def\`) taking the tool's parameters as keyword arguments`,
      });
    case 'serialise':
      return new ToolError(ctx.tool, `${ctx.tool} returned a value that is not JSON: ${error.message}`, {
        hint: 'return dicts, lists, strings, numbers, booleans or None',
      });
    case 'cancelled':
      return new ToolError(ctx.tool, `${ctx.tool} was cancelled`, { code: 'ORCH_CANCELLED' });
    case 'exception':
      return new ToolError(ctx.tool, `${ctx.tool} failed: ${type}${error.message}`, { hint: 'run it with --verbose to see the Python traceback' });
    default: {
      const never: never = error.kind;
      return never;
    }
  }
}
