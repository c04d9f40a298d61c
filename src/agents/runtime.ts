import type { AgentDef, Project } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import { checkInputDepth } from '../util/json-depth.js';
import { invokeTool } from '../tools/invoke.js';
import { fromMcpResult } from '../tools/mcp.js';
import type { ToolResult } from '../tools/result.js';
import { runChain, type CallIds, type ToolCall } from './interceptors.js';
import type { Performance, PerformContext, Performer } from './action.js';
import { performWithModel } from './llm-action.js';
import { inSpan, tracingOn } from '../util/tracing.js';
import { usageAttributes } from './llm-loop.js';
import { plainCopy } from '../util/plain-copy.js';

export type { Performance, PerformContext, Performer, ServerTools, Usage } from './action.js';

/** How an action is carried out (DESIGN section 4), decided from the project alone. */
export type ActionPlan = { kind: 'tool'; tool: string } | { kind: 'server'; name: string } | { kind: 'llm'; model: string } | { kind: 'a2a'; url: string };

/**
 * DESIGN section 4's action resolution, the one place it is decided: (1) a tool the agent
 * may use — a tool of gantz.yaml, else a tool of an MCP server (`server.tool` or a bare
 * name) — is called directly; (2) otherwise an agent with a model runs its LLM loop;
 * (3) otherwise the action cannot be carried out. An agent without a `tools` list may
 * use every tool; a role the team does not declare (the default `worker`) likewise.
 */
export function planAction(project: Project, role: string, action: string): ActionPlan {
  const agent: AgentDef | undefined = project.agents.get(role);
  // A remote agent (`a2a:`) is sent every action: it decides how to carry it out.
  if (agent?.a2a) return { kind: 'a2a', url: agent.a2a.url };
  const name = action.includes('/') && !project.tools.has(action) ? action.replace('/', '.') : action;
  const allowed = agent?.tools === undefined || agent.tools.includes(action) || agent.tools.includes(name);
  if (allowed && project.tools.has(name)) return { kind: 'tool', tool: name };
  if (agent?.model && !(agent.tools ?? []).includes(action)) return { kind: 'llm', model: agent.model };
  if (allowed) return { kind: 'server', name };
  throw new OrchError('ORCH_UNRESOLVED_ACTION', `agent \`${role}\` may not use \`${action}\`, and has no \`model\` to act otherwise`, {
    hint: `add \`${action}\` to the agent's \`tools\` in agent-team.yaml`,
    exitCode: ExitCode.usage,
  });
}

/**
 * The agent runtime: the only place where an agent performs an action, for workflow
 * steps, orchestrate subtasks and process workers alike. Tool calls pass through the
 * interceptor chain; an LLM loop and a remote A2A agent are the other ways an action is carried out.
 */
export async function perform(agent: Performer, action: string, input: Record<string, unknown>, ctx: PerformContext): Promise<Performance> {
  const plan = planAction(ctx.project, agent.role, action);
  if (!tracingOn()) return carryOut(plan, agent, action, input, ctx);
  const attributes = {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': agent.role,
    'orch.agent.type': agent.role,
    'orch.agent.instance': agent.instance,
    'orch.action': action,
    'orch.action.kind': plan.kind,
    'orch.run.id': ctx.ids?.run,
    'orch.step.id': ctx.ids?.step,
    'orch.task.id': ctx.ids?.task,
    'orch.subtask.id': ctx.ids?.subtask,
    'orch.delegated.via': ctx.delegation?.via,
    'orch.delegated.by': ctx.delegation?.chain.at(-1),
  };
  // The carrier makes the span a child of the step (or subtask, or delegating call) that sent the task, in whichever process.
  return inSpan(
    `invoke_agent ${agent.role}`,
    attributes,
    async (span) => {
      const done = await carryOut(plan, agent, action, input, ctx);
      if (done.usage) span.set(usageAttributes(done.usage));
      return done;
    },
    { carrier: ctx.carrier },
  );
}

async function carryOut(plan: ActionPlan, agent: Performer, action: string, input: Record<string, unknown>, ctx: PerformContext): Promise<Performance> {
  switch (plan.kind) {
    case 'tool':
    case 'server': {
      // Object.assign, not a spread with keys after it, which costs several times more: this runs for every step and subtask.
      const result = await callTool(plan, input, Object.assign({}, ctx, { ids: Object.assign({}, ctx.ids, { agent: agent.role, instance: agent.instance }) }));
      return { output: result.value };
    }
    case 'llm': {
      const ids = { ...ctx.ids, agent: agent.role, instance: agent.instance };
      return performWithModel(agent, action, input, ctx, async (tool, toolInput, signal) => (await callNamedTool(tool, toolInput, { ...ctx, signal, ids })).value);
    }
    case 'a2a':
      // The A2A client is loaded only for a remote agent's action.
      return (await import('./a2a-action.js')).performRemote(agent, action, input, ctx);
    default: {
      const never: never = plan;
      throw new Error(`unknown action plan ${JSON.stringify(never)}`);
    }
  }
}

type CallContext = Omit<PerformContext, 'ids'> & { ids?: CallIds };

/**
 * Calls one tool through the interceptor chain: a declared tool through its handler, a
 * server tool through the supervisor. A module handler's own `ctx.callTool` comes back
 * here, so nested calls are audited as well.
 */
export function callTool(target: { kind: 'tool'; tool: string } | { kind: 'server'; name: string }, input: Record<string, unknown>, ctx: CallContext): Promise<ToolResult> {
  // A plain promise chain (it rejects, never throws), not an async function: this runs for every call.
  try {
    // Before any link of the chain: audit and redaction walk the input recursively.
    checkInputDepth(input, `the input of ${target.kind === 'tool' ? target.tool : target.name}`);
    const ids = ctx.ids ?? {};
    const call: ToolCall =
      target.kind === 'tool'
        ? { tool: target.tool, kind: ctx.project.tools.get(target.tool)?.handler.kind ?? 'module', args: input, ids }
        : { tool: target.name, kind: 'server', args: input, ids };
    return runChain(ctx.interceptors, call, (c) => dispatch(c, ctx));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A tool by the name a handler or a user gives it: declared in gantz.yaml, else a server tool. */
export function callNamedTool(name: string, input: Record<string, unknown>, ctx: CallContext): Promise<ToolResult> {
  if (ctx.project.tools.has(name) || !ctx.servers) return callTool({ kind: 'tool', tool: name }, input, ctx);
  // `server/tool` is `server.tool`; a bare name is resolved among the servers' tools.
  const qualified = /^([^./]+)\/(.+)$/.exec(name);
  return callTool({ kind: 'server', name: qualified ? `${qualified[1]}.${qualified[2]}` : name }, input, ctx);
}

function dispatch(call: ToolCall, ctx: CallContext): Promise<ToolResult> {
  try {
    return dispatchNow(call, ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}

function dispatchNow(call: ToolCall, ctx: CallContext): Promise<ToolResult> {
  if (call.kind !== 'server') {
    return invokeTool(ctx.project, call.tool, call.args, {
      signal: ctx.signal,
      logger: ctx.logger,
      mcp: ctx.servers,
      stateDir: ctx.stateDir,
      // A copy: user code may reuse the object and change it for its next call, after the
      // audit has recorded this one (its line is written later, with its batch).
      callTool: async (name, args) => (await callNamedTool(name, ownCopy(args), { ...ctx, ids: call.ids })).value,
      ...(ctx.onProgress && { onProgress: ctx.onProgress }),
      ...(ctx.llm?.spec && { cassette: ctx.llm.spec }),
    });
  }
  if (!ctx.servers) {
    throw new OrchError('ORCH_UNRESOLVED_ACTION', `\`${call.tool}\` is not a declared tool and no MCP server is configured`, {
      hint: 'declare it in gantz.yaml, or configure the MCP server that provides it in mcpServers',
      exitCode: ExitCode.usage,
    });
  }
  // The chain's audit link records this call, so the supervisor does not record it again.
  const tool = call.tool;
  return ctx.servers.call(tool, call.args, { signal: ctx.signal, audited: true, ...(ctx.onProgress && { onProgress: ctx.onProgress }) }).then((result) => fromMcpResult(tool, result));
}

/** A deep copy of a handler's arguments; ones that cannot be copied (a function inside) as they are. */
function ownCopy(args: Record<string, unknown>): Record<string, unknown> {
  try {
    return plainCopy(args);
  } catch {
    return args;
  }
}
