import path from 'node:path';
import type { Project, ToolDef } from '../config/model.js';
import { declaredTools } from '../config/tools.js';
import { suggest } from '../util/suggest.js';
import { resolveStateDir } from '../state/state-dir.js';
import { ExitCode, OrchError } from '../errors.js';
import { silentLogger, type InvokeContext } from './context.js';
import { runHttp } from './http.js';
import { callServerTool, fromMcpResult, runMcp } from './mcp.js';
import { runModule, type HandlerContext } from './module.js';
import type { ToolResult } from './result.js';
import { runScript } from './script.js';
import { validateInput } from './validate-input.js';

/**
 * Runs a declared tool: finds it, validates the input against its schema (ORCH_INPUT,
 * exit 2, before anything runs), then hands the parameters to its handler kind.
 * Resolves to the result; a tool that ran and failed rejects with a ToolError (exit 1).
 */
export async function invokeTool(project: Project, toolName: string, input: unknown, ctx: InvokeContext = {}): Promise<ToolResult> {
  const tool = findTool(project, toolName);
  const params = validateInput(tool, input);
  return dispatch(project, tool, params, ctx);
}

/** The declared tool of that name, or an error suggesting the closest one. */
export function findTool(project: Project, name: string): ToolDef {
  const tool = project.tools.get(name);
  if (tool) return tool;
  const guess = suggest(name, [...project.tools.keys()]);
  const names = declaredTools(project.tools).map((t) => t.name);
  throw new OrchError('ORCH_UNKNOWN_TOOL', `no tool named \`${name}\``, {
    hint: guess ? `did you mean \`${guess}\`?` : names.length ? `declared tools: ${names.join(', ')}` : 'gantz.yaml declares no tools',
    exitCode: ExitCode.usage,
  });
}

function dispatch(project: Project, tool: ToolDef, params: Record<string, unknown>, ctx: InvokeContext): Promise<ToolResult> {
  const { handler } = tool;
  switch (handler.kind) {
    case 'script':
      return runScript(handler, params, {
        tool: tool.name,
        baseDir: configDir(project),
        environment: tool.environment,
        signal: ctx.signal,
        stateDir: ctx.stateDir,
      });
    case 'http':
      return runHttp(handler, params, { tool: tool.name, signal: ctx.signal });
    case 'module':
      return runModule(handler, params, handlerContext(project, tool.name, ctx));
    case 'mcp':
      refuseDisabled(project, handler.server);
      return runMcp(handler, params, { tool: tool.name, mcp: ctx.mcp, signal: ctx.signal, audited: ctx.audited, onProgress: ctx.onProgress });
    default: {
      const unknown: never = handler;
      throw new Error(`unknown handler kind ${JSON.stringify(unknown)}`);
    }
  }
}

/** A server declared with `disabled: true` is never started; a call of one of its tools says so. */
function refuseDisabled(project: Project, server: string): void {
  if (!project.disabledServers?.has(server)) return;
  throw new OrchError('ORCH_SERVER_DISABLED', `MCP server \`${server}\` is disabled (\`disabled: true\`), so its tools cannot be called`, {
    hint: 'remove `"disabled": true` from its entry to use it',
  });
}

/** Scripts run beside gantz.yaml, as its relative paths are. */
function configDir(project: Project): string {
  return project.files.gantz ? path.dirname(project.files.gantz) : project.dir;
}

/** What a module handler run as `tool` gets: its `callTool` reaches declared tools and MCP server tools. */
export function handlerContext(project: Project, tool: string, ctx: InvokeContext): HandlerContext {
  return {
    tool,
    logger: ctx.logger ?? silentLogger,
    signal: ctx.signal ?? new AbortController().signal,
    project,
    stateDir: ctx.stateDir ?? resolveStateDir(project.dir),
    mcp: ctx.mcp,
    ...(ctx.cassette && { cassette: ctx.cassette }),
    async callTool(name, args = {}) {
      if (ctx.callTool) return ctx.callTool(name, args);
      if (project.tools.has(name)) return (await invokeTool(project, name, args, ctx)).value;
      const split = /^([^./]+)[./](.+)$/.exec(name);
      if (!split?.[1] || !split[2]) return (await invokeTool(project, name, args, ctx)).value;
      refuseDisabled(project, split[1]);
      const result = await callServerTool(ctx.mcp, split[1], split[2], args, ctx.signal);
      return fromMcpResult(name, result).value;
    },
  };
}
