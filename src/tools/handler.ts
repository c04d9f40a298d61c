import type { Project } from '../config/model.js';
import type { CassetteSpec } from '../llm/cassette.js';
import type { Logger, McpCaller } from './context.js';

/** The second argument of a module handler. */
export interface HandlerContext {
  /** Name of the tool being run. */
  tool: string;
  /**
   * Calls another tool: a tool declared in gantz.yaml by name, or a tool of a configured
   * MCP server as `server.tool` (also `server/tool`). Resolves to the result as data;
   * a failed tool rejects.
   */
  callTool(name: string, args?: Record<string, unknown>): Promise<unknown>;
  logger: Logger;
  /** Aborted when the call is cancelled (Ctrl-C, timeout of the step); stop promptly. */
  signal: AbortSignal;
  /** The project the tool belongs to. */
  project: Project;
  /** orch's state directory (`.orch/` or ORCH_STATE_DIR), for handlers that keep state. */
  stateDir: string;
  /** The project's running MCP servers, for built-in handlers that schedule work on agents. */
  mcp?: McpCaller;
  /** The run's `--record`/`--replay`: the models of agents a built-in handler runs answer from it too. */
  cassette?: CassetteSpec;
}

/** What a handler module exports under the function's name. */
export type HandlerFn = (params: Record<string, unknown>, ctx: HandlerContext) => unknown;
