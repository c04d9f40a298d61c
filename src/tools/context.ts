import type { ServerToolInfo } from '../mcp/tool-registry.js';
import type { CassetteSpec } from '../llm/cassette.js';
import type { ContentBlock } from './result.js';

export type { ServerToolInfo } from '../mcp/tool-registry.js';

/** Where a handler's messages go; never stdout, which carries results and MCP frames. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** An MCP `tools/call` result as the SDK returns it. */
export interface McpCallResult {
  content?: ContentBlock[];
  structuredContent?: unknown;
  isError?: boolean;
}

/**
 * Calls tools of the configured MCP servers. The supervisor in src/mcp provides it; this
 * module only needs the one call, so tools stay independent of supervision.
 */
export interface McpCaller {
  /** `audited`: the caller records the call in the audit log itself, so the supervisor does not. */
  callTool(server: string, tool: string, args: Record<string, unknown>, options: CallOptions): Promise<McpCallResult>;
  /** Calls a tool by the name an agent uses: `server.tool`, or a bare name unique among the servers. */
  call(name: string, args: Record<string, unknown>, options: CallOptions): Promise<McpCallResult>;
  /** Every server tool with its schema, for the tools an LLM agent is offered. */
  describeTools?(): Promise<ServerToolInfo[]>;
}

export interface CallOptions {
  signal?: AbortSignal;
  audited?: boolean;
  /** The server's progress notifications for the call, as they come. */
  onProgress?: (progress: ProgressUpdate) => void;
}

/** A progress notification of a running call: how far, of how much, and what it is doing. */
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/** What an invocation may use besides its input. */
export interface InvokeContext {
  /** Cancels the call: scripts are killed, requests aborted, module handlers told. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Needed by `mcp:` tools and by module handlers that call server tools. */
  mcp?: McpCaller;
  /**
   * orch's state directory. Scripts started with one are recorded there while they run,
   * so that the next orch command ends those a SIGKILLed orch left behind.
   */
  stateDir?: string;
  /**
   * How a module handler's `ctx.callTool` reaches other tools. The agent runtime sets it,
   * so nested calls pass its interceptors (audit) too; without it they are called directly.
   */
  callTool?: (name: string, args: Record<string, unknown>) => Promise<unknown>;
  /** The runtime records this call in the audit log: an `mcp:` tool's server call is not recorded again. */
  audited?: boolean;
  /** An `mcp:` tool's progress notifications, relayed (`orch serve` passes them to its client). */
  onProgress?: (progress: ProgressUpdate) => void;
  /** The run's `--record`/`--replay`, for built-in handlers whose agents' models it must reach (orchestrate). */
  cassette?: CassetteSpec;
}

/** A logger that drops everything, for callers that have nowhere to show messages. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger writing `[tool] message` lines to a stream, normally stderr. */
export function streamLogger(stream: NodeJS.WritableStream, prefix: string, verbose = false): Logger {
  const write = (level: string) => (message: string) => {
    stream.write(`${prefix ? `[${prefix}] ` : ''}${level === 'info' ? '' : `${level}: `}${message}\n`);
  };
  return {
    debug: verbose ? write('debug') : () => undefined,
    info: write('info'),
    warn: write('warning'),
    error: write('error'),
  };
}

/** A logger passing every message through `redact` first: handlers' messages are shown, so secrets are taken out. */
export function redactingLogger(logger: Logger, redact: (text: string) => string): Logger {
  return {
    debug: (m) => logger.debug(redact(m)),
    info: (m) => logger.info(redact(m)),
    warn: (m) => logger.warn(redact(m)),
    error: (m) => logger.error(redact(m)),
  };
}
