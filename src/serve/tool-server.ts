import { declaredTools } from '../config/tools.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type LoggingLevel,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Project, ToolDef } from '../config/model.js';
import { isOrchError } from '../errors.js';
import { redactingLogger, type Logger, type McpCaller, type ProgressUpdate } from '../tools/context.js';
import { defaultInterceptors } from '../agents/interceptors.js';
import { callTool } from '../agents/runtime.js';
import { assertNotHalted } from '../state/halt.js';
import { secretsRedactor, type Redactor } from '../secrets/redact.js';
import { resolveStateDir } from '../state/state-dir.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { checkInputDepth } from '../util/json-depth.js';
import { Gateway, type Confirm } from './gateway.js';
import { serveResources } from './serve-resources.js';
import { callWorkflow, describeWorkflow, servedWorkflows } from './workflow-tools.js';
import { resultText, ToolError, type ToolResult } from '../tools/result.js';
import { packageVersion } from '../util/package-root.js';

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
  /** `--expose`: MCP servers whose tools are re-served as `<server>.<tool>` (a gateway). */
  expose?: readonly string[];
}

/**
 * The project's declared tools as an MCP server (one instance per session; they share
 * the project and the supervisor). Input schemas come from the parameters; a tool that
 * fails, or is called with bad input, answers `isError` with the reason so that a model
 * can correct itself; only an unknown tool is a protocol error. Forwarded tools keep the
 * server's structured content and output schema, progress is relayed to a caller that
 * sent a progress token, and the tools' messages reach the client as log notifications.
 * Runs are resources, LLM agents' system prompts are prompts.
 */
export function createToolServer(project: Project, options: ToolServerOptions): Server {
  const server = new Server(
    { name: project.name ?? 'orch', version: project.version ?? packageVersion },
    { capabilities: { tools: {}, logging: {}, resources: {}, prompts: {} } },
  );

  const stateDir = resolveStateDir(project.dir);
  // A result or an error (a script's or server's stderr) can carry secrets: they are taken out before it leaves.
  const redactor = secretsRedactor(process.env, project.servers.values());
  // Every served call is audited with the rest, through the agent runtime's interceptors.
  const interceptors = defaultInterceptors(stateDir, project.servers.values());
  const gateway = options.supervisor && options.expose?.length ? new Gateway(project, options.supervisor, options.expose) : undefined;

  // Declared tools, then the workflows whose names no tool takes.
  // What the project declares is served; orch's built-in tools only when gantz.yaml declares them.
  const tools = new Map(declaredTools(project.tools).map((t) => [t.name, t]));
  const workflows = new Map(servedWorkflows(project).map((w) => [w.name, w]));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      ...(await Promise.all([...tools.values()].map((t) => describeTool(t, options.supervisor)))),
      ...[...workflows.values()].map(describeWorkflow),
      ...(gateway ? (await gateway.list()).filter((t) => !tools.has(t.name) && !workflows.has(t.name)) : []),
    ],
  }));
  serveResources(server, project, stateDir, redactor);

  /** Asks the client's user (when it declares elicitation) a yes/no question. */
  const confirm =
    (signal: AbortSignal): Confirm =>
    async (message) => {
      if (!server.getClientCapabilities()?.elicitation) return undefined;
      const reply = await server.elicitInput(
        { message, requestedSchema: { type: 'object', properties: { approve: { type: 'boolean', title: 'Approve', description: 'Yes to go on, no to refuse' } }, required: ['approve'] } },
        { signal },
      );
      return reply.action === 'accept' && reply.content?.approve === true;
    };

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    const workflow = workflows.get(name);
    const exposed = !tools.has(name) && !workflow && gateway?.serverOf(name) !== undefined;
    if (!tools.has(name) && !workflow && !exposed) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const token = request.params._meta?.progressToken;
    // Sent in order, and all of them before the result (which ends the request's stream).
    let sent: Promise<unknown> = Promise.resolve();
    const onProgress =
      token === undefined
        ? undefined
        : (p: ProgressUpdate) => {
            const params = { progressToken: token, ...p, ...(p.message && { message: redactor.redactString(p.message) }) };
            sent = sent.then(() => extra.sendNotification({ method: 'notifications/progress', params })).catch(() => undefined);
          };
    const answer = async (result: CallToolResult): Promise<CallToolResult> => {
      await sent;
      return result;
    };
    // The tool's messages go to orch's own log and, as log notifications, to the client (at the level it set).
    const local = options.logger(name);
    const toClient = (level: LoggingLevel, message: string) => void server.sendLoggingMessage({ level, logger: name, data: message }, extra.sessionId).catch(() => undefined);
    const logger = redactingLogger(
      {
        debug: (m) => (local.debug(m), toClient('debug', m)),
        info: (m) => (local.info(m), toClient('info', m)),
        warn: (m) => (local.warn(m), toClient('warning', m)),
        error: (m) => (local.error(m), toClient('error', m)),
      },
      (m) => redactor.redactString(m),
    );
    try {
      // The kill switch (`orch stop --all`) refuses new runs from clients as from the CLI.
      assertNotHalted(stateDir, `calling \`${name}\``);
      if (workflow) {
        const signal = options.shutdown ? AbortSignal.any([options.shutdown, extra.signal]) : extra.signal;
        // A client that declares elicitation answers the agents' questions (ask_human) and decides the gates in place.
        const elicitation = server.getClientCapabilities()?.elicitation !== undefined;
        const elicit = elicitation
          ? async (message: string): Promise<string | undefined> => {
              const reply = await server.elicitInput(
                { message, requestedSchema: { type: 'object', properties: { answer: { type: 'string', description: 'Your answer' } }, required: ['answer'] } },
                { signal },
              );
              const text = reply.action === 'accept' ? reply.content?.answer : undefined;
              return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
            }
          : undefined;
        const result = await callWorkflow(project, workflow, request.params.arguments ?? {}, {
          signal,
          supervisor: options.supervisor,
          ...(elicit && { elicit, confirm: confirm(signal) }),
          ...(onProgress && { onProgress }),
          logger,
        });
        return answer(CallToolResultSchema.parse(result));
      }
      const args = request.params.arguments ?? {};
      // The tool gets its arguments as given; what goes back hides the secrets, those given to it included.
      checkInputDepth(args, 'the arguments'); // before anything walks them
      redactor.learn(args);
      if (exposed && gateway?.needsApproval(name)) {
        const approved = await confirm(extra.signal)(`Approve the call of \`${name}\` with ${redactor.redactString(resultText(args))}?`);
        if (approved !== true) return Gateway.refused(name, approved);
      }
      const result = await callTool(exposed ? { kind: 'server', name } : { kind: 'tool', tool: name }, args, {
        project,
        signal: extra.signal,
        logger,
        servers: options.mcp,
        stateDir,
        interceptors,
        ...(onProgress && { onProgress }),
      });
      return answer(CallToolResultSchema.parse(redactor.redact(toCallResult(result))));
    } catch (err) {
      if (!isOrchError(err)) options.onBug(err);
      return answer(errorResult(err, redactor));
    }
  });
  return server;
}

/**
 * A declared tool as MCP lists it: always with a description (its name when none is
 * declared); a tool forwarded to a server tool (`mcp:`) takes that tool's output schema
 * and annotations, when the server is running or starts.
 */
async function describeTool(tool: ToolDef, supervisor: Supervisor | undefined): Promise<Tool> {
  const described: Tool = {
    name: tool.name,
    description: tool.description || tool.name,
    inputSchema: { ...tool.inputSchema, type: 'object' },
    ...((tool.destructive === true || tool.readOnly === true) && {
      annotations: { ...(tool.destructive === true && { destructiveHint: true }), ...(tool.readOnly === true && { readOnlyHint: true }) },
    }),
  };
  if (tool.handler.kind !== 'mcp' || !supervisor) return described;
  const { server, tool: upstreamName } = tool.handler;
  const registry = await supervisor.registry([server]).catch(() => undefined);
  const upstream = registry?.all().find((t) => t.server === server && t.tool.name === upstreamName)?.tool;
  if (!upstream) return described;
  return {
    ...described,
    ...(upstream.outputSchema && { outputSchema: upstream.outputSchema }),
    ...(upstream.annotations && { annotations: { ...upstream.annotations, ...described.annotations } }),
  };
}

/**
 * MCP content passes through as the server sent it (checked against the protocol's
 * schema here, the edge where loosely typed blocks become protocol types), with its
 * structured content; anything else becomes text, with objects also given as structured
 * content.
 */
function toCallResult(result: ToolResult): CallToolResult {
  const { value } = result;
  const structured = result.structured ?? (value !== null && typeof value === 'object' && !Array.isArray(value) && !result.content ? value : undefined);
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
