import { createRequire } from 'node:module';
import { declaredTools } from '../config/tools.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Project, ToolDef } from '../config/model.js';
import { isOrchError } from '../errors.js';
import { redactingLogger, type Logger, type McpCaller } from '../tools/context.js';
import { defaultInterceptors } from '../agents/interceptors.js';
import { callTool } from '../agents/runtime.js';
import { assertNotHalted } from '../state/halt.js';
import { secretsRedactor, type Redactor } from '../secrets/redact.js';
import { resolveStateDir } from '../state/state-dir.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { checkInputDepth } from '../util/json-depth.js';
import { callWorkflow, describeWorkflow, servedWorkflows } from './workflow-tools.js';
import { resultText, ToolError, type ToolResult } from '../tools/result.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

export interface ToolServerOptions {
  /** The supervisor of the project's MCP servers, shared by every session. */
  mcp?: McpCaller;
  /** The same supervisor, for workflows served as tools. */
  supervisor?: Supervisor;
  /** A logger for the named tool's messages; never stdout, which may carry the protocol. */
  logger: (tool: string) => Logger;
  /** Where failures that are orch's own bugs are reported. */
  onBug: (err: unknown) => void;
  /** Aborted (with the signal's name) when the server is shutting down: running workflow calls are interrupted. */
  shutdown?: AbortSignal;
}

/**
 * The project's declared tools as an MCP server (one instance per session or request;
 * they share the project and the supervisor). Input schemas come from the parameters;
 * a tool that fails, or is called with bad input, answers `isError` with the reason so
 * that a model can correct itself; only an unknown tool is a protocol error.
 */
export function createToolServer(project: Project, options: ToolServerOptions): Server {
  const server = new Server(
    { name: project.name ?? 'orch', version: project.version ?? version },
    { capabilities: { tools: {} } },
  );

  const stateDir = resolveStateDir(project.dir);
  // A result or an error (a script's or server's stderr) can carry secrets: they are taken out before it leaves.
  const redactor = secretsRedactor(process.env, project.servers.values());
  // Every served call is audited with the rest, through the agent runtime's interceptors.
  const interceptors = defaultInterceptors(stateDir, project.servers.values());

  // Declared tools, then the workflows whose names no tool takes.
  // What the project declares is served; orch's built-in tools only when gantz.yaml declares them.
  const tools = new Map(declaredTools(project.tools).map((t) => [t.name, t]));
  const workflows = new Map(servedWorkflows(project).map((w) => [w.name, w]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...[...tools.values()].map(describeTool), ...[...workflows.values()].map(describeWorkflow)],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    const workflow = workflows.get(name);
    if (!tools.has(name) && !workflow) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    try {
      // The kill switch (`orch stop --all`) refuses new runs from clients as from the CLI.
      assertNotHalted(stateDir, `calling \`${name}\``);
      if (workflow) {
        const signal = options.shutdown ? AbortSignal.any([options.shutdown, extra.signal]) : extra.signal;
        // A client that declares elicitation answers the agents' questions (ask_human) in place.
        const elicit = server.getClientCapabilities()?.elicitation
          ? async (message: string): Promise<string | undefined> => {
              const reply = await server.elicitInput(
                { message, requestedSchema: { type: 'object', properties: { answer: { type: 'string', description: 'Your answer' } }, required: ['answer'] } },
                { signal },
              );
              const text = reply.action === 'accept' ? reply.content?.answer : undefined;
              return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
            }
          : undefined;
        const result = await callWorkflow(project, workflow, request.params.arguments ?? {}, { signal, supervisor: options.supervisor, ...(elicit && { elicit }) });
        return CallToolResultSchema.parse(result);
      }
      const args = request.params.arguments ?? {};
      // The tool gets its arguments as given; what goes back hides the secrets, those given to it included.
      checkInputDepth(args, 'the arguments'); // before anything walks them
      redactor.learn(args);
      const result = await callTool({ kind: 'tool', tool: name }, args, {
        project,
        signal: extra.signal,
        logger: redactingLogger(options.logger(name), (m) => redactor.redactString(m)),
        servers: options.mcp,
        stateDir,
        interceptors,
      });
      return CallToolResultSchema.parse(redactor.redact(toCallResult(result)));
    } catch (err) {
      if (!isOrchError(err)) options.onBug(err);
      return errorResult(err, redactor);
    }
  });
  return server;
}

function describeTool(tool: ToolDef): Tool {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: { ...tool.inputSchema, type: 'object' },
  };
}

/**
 * MCP content passes through as the server sent it (checked against the protocol's
 * schema here, the edge where loosely typed blocks become protocol types); anything
 * else becomes text, with objects also given as structured content.
 */
function toCallResult(result: ToolResult): CallToolResult {
  const { value } = result;
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value) && !result.content ? value : undefined;
  return CallToolResultSchema.parse({
    content: result.content ?? [{ type: 'text', text: resultText(value) }],
    ...(structured === undefined ? {} : { structuredContent: structured }),
  });
}

function errorResult(err: unknown, redactor: Redactor): CallToolResult {
  const lines = [isOrchError(err) ? `${err.code}: ${err.message}` : `internal error: ${err instanceof Error ? err.message : String(err)}`];
  if (err instanceof ToolError) {
    const stderr = err.detail.stderr?.trim();
    if (stderr && !err.message.includes(stderr)) lines.push(stderr);
  }
  if (isOrchError(err) && err.hint) lines.push(`hint: ${err.hint}`);
  return { isError: true, content: [{ type: 'text', text: redactor.redactString(lines.join('\n')) }] };
}
