import { formatDuration } from '../config/duration.js';
import type { McpServerDef } from '../config/model.js';
import type { ErrorCode as OrchErrorCode } from '../error-codes.js';
import { ExitCode, OrchError, isOrchError } from '../errors.js';
import type { Redactor } from '../secrets/redact.js';
import type { StderrTail } from './stderr-tail.js';

/**
 * The errors of server supervision. Codes are part of the CLI contract; messages name
 * the server (and tool) and end with what the server last wrote to stderr. Text that
 * comes from a server (its stderr, its error messages) is redacted: a server may well
 * print the credentials it was given, and these messages reach terminals and JSON.
 */
export const McpErrorCode = {
  start: 'ORCH_SERVER_START',
  exited: 'ORCH_SERVER_EXITED',
  unavailable: 'ORCH_SERVER_UNAVAILABLE',
  unknownServer: 'ORCH_UNKNOWN_SERVER',
  stopped: 'ORCH_SERVER_STOPPED',
  unknownTool: 'ORCH_UNKNOWN_TOOL',
  ambiguousTool: 'ORCH_TOOL_AMBIGUOUS',
  timeout: 'ORCH_TOOL_TIMEOUT',
  cancelled: 'ORCH_CANCELLED',
  toolError: 'ORCH_TOOL_ERROR',
} as const satisfies Record<string, OrchErrorCode>;

function where(def: McpServerDef): { file: string; path: string } {
  return { file: def.origin.file, path: def.origin.path.join('.') };
}

/**
 * What an error of the MCP SDK's client means (`ServerConnection.failureOf`): told apart
 * there, so that this file, which every orch command loads, does not load the SDK.
 */
export type TransportFailure = 'timeout' | 'closed' | undefined;

/** A start that failed or hung; the process is already ended when this is thrown. */
export function startError(def: McpServerDef, cause: unknown, failure: TransportFailure, stderr: StderrTail, redactor: Redactor): OrchError {
  if (isOrchError(cause)) return cause;
  const remote = def.transport !== 'stdio';
  const what = remote ? def.url : def.command;
  let reason: string;
  if (failure === 'timeout') reason = `did not finish starting within ${formatDuration(def.startupTimeoutMs)}`;
  else if (cause instanceof Error && 'code' in cause && cause.code === 'ENOENT') reason = `command not found: ${what}`;
  else if (failure === 'closed') reason = 'exited during start-up';
  else reason = `failed to start: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new OrchError(McpErrorCode.start, redactor.redactString(`MCP server "${def.name}" ${reason}${stderr.describe()}`), {
    hint: remote
      ? redactor.redactString(`check that a server answers at ${what ?? 'its url'}${def.transport === 'sse' ? ' over HTTP+SSE (`type: sse`)' : ' over Streamable HTTP; an older server may need `"type": "sse"`'}`)
      : failure === 'timeout'
        ? 'raise its startup_timeout, or run the command by hand to see whether it answers on stdio'
        : redactor.redactString(`run \`${what ?? ''}\` by hand to see why it does not start`),
    location: where(def),
    cause,
  });
}

/** The server ended unasked; `tool` is the call it took down with it, if any. */
export function exitedError(def: McpServerDef, tool: string | undefined, stderr: StderrTail, redactor: Redactor): OrchError {
  const during = tool === undefined ? '' : ` during a call to "${tool}"`;
  return new OrchError(
    McpErrorCode.exited,
    redactor.redactString(`MCP server "${def.name}" exited${during}${stderr.describe()}`),
    { hint: 'orch restarts it on its next use', location: where(def) },
  );
}

export function timeoutError(def: McpServerDef, tool: string, timeoutMs: number): OrchError {
  return new OrchError(
    McpErrorCode.timeout,
    `tool "${def.name}.${tool}" did not answer within ${formatDuration(timeoutMs)}; the call was cancelled`,
    { hint: 'raise the server\'s tool_timeout if the tool is slow by nature', location: where(def) },
  );
}

export function cancelledError(def: McpServerDef, tool: string, why: string): OrchError {
  return new OrchError(McpErrorCode.cancelled, `call to "${def.name}.${tool}" was cancelled: ${why}`, {
    // A call its caller gave up on (a timeout, a run ending elsewhere) fails the command
    // that made it; only an interrupt of orch itself exits 130.
    exitCode: ExitCode.runFailed,
  });
}

export function unavailableError(def: McpServerDef, retryInMs: number, last: OrchError | undefined): OrchError {
  const lastWords = last ? `; last error: ${last.message.split('\n')[0] ?? ''}` : '';
  return new OrchError(
    McpErrorCode.unavailable,
    `MCP server "${def.name}" keeps failing; orch stopped calling it${lastWords}`,
    {
      hint: retryInMs > 0 ? `orch tries it again in ${formatDuration(retryInMs)}` : 'fix the server, then run orch again',
      location: where(def),
    },
  );
}

export function stoppedError(def: McpServerDef): OrchError {
  return new OrchError(McpErrorCode.stopped, `MCP server "${def.name}" was shut down`);
}

/** An error the server answered with (unknown tool, invalid arguments...): the server itself is fine. */
export function toolError(def: McpServerDef, tool: string, cause: unknown, redactor: Redactor): OrchError {
  const message = redactor.redactString(cause instanceof Error ? cause.message : String(cause));
  return new OrchError(McpErrorCode.toolError, `call to "${def.name}.${tool}" failed: ${message}`, { cause });
}
