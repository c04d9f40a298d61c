import type { AgentDef, Project } from '../config/model.js';
import { declaredTools } from '../config/tools.js';
import { ExitCode, OrchError } from '../errors.js';
import { recordingFetch, replayingFetch } from '../llm/cassette.js';
import type { Redactor } from '../secrets/redact.js';
import { missingKey, resolveModel } from '../llm/models.js';
import type { ActionChannel } from './action-channel.js';
import { remaining, tightest, type Budget } from './budget.js';
import { isAgentTool, type AgentToolName } from '../config/builtins.js';
import { runLoop, usageAttributes, WithUsage, type LoopResult, type OfferedTool } from './llm-loop.js';
import { inSpan, withCarrier } from '../util/tracing.js';
import type { ChatMessage } from '../llm/chat.js';
import { addUsage } from '../state/run-state.js';
import { resultText } from '../tools/result.js';
import type { CassetteSpec, LlmSettings, Performance, PerformContext, Performer } from './action.js';

/** Tool results longer than this reach the model cut, with a note (`max_tool_result_chars`). */
export const DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000;

export type { CassetteSpec, LlmSettings, StepContext } from './action.js';

/** The LLM settings of a run: keys from `env`, and the cassette its flags ask for. */
export function llmSettings(spec: CassetteSpec | undefined, env: NodeJS.ProcessEnv, redactor: Redactor): LlmSettings {
  if (spec?.replay) return { env, cassette: replayingFetch(spec.replay, { redactor }), replaying: true, spec };
  if (spec?.record) return { env, cassette: recordingFetch(spec.record, { redactor }), replaying: false, spec };
  return { env, replaying: false };
}

/**
 * An action carried out by the agent's model: the tool-use loop over exactly the tools
 * the agent may use, within the tightest of the team's, the agent's and the step's budgets.
 */
export async function performWithModel(
  agent: Performer,
  action: string,
  input: Record<string, unknown>,
  ctx: PerformContext & { channel?: ActionChannel },
  run: (tool: string, input: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>,
): Promise<Performance> {
  const def = ctx.project.agents.get(agent.role);
  if (!def) throw new OrchError('ORCH_UNKNOWN_AGENT', `the team has no agent \`${agent.role}\``);
  const llm = ctx.llm ?? { env: process.env, replaying: false };
  const model = resolveModel(ctx.project, agent.role, llm.env);
  if (!llm.replaying) {
    const variable = missingKey(model, llm.env);
    if (variable) throw keyMissing(agent.role, def.model ?? model.model, variable);
  }
  const team = ctx.project.team?.budget;
  const budget = tightest(remaining(team, ctx.channel?.runUsage()), def.budget, ctx.step?.budget);
  const prompt = userPrompt(action, input, ctx.step?.needs);
  let result: LoopResult = await runLoop({
    model,
    system: systemPrompt(ctx.project, def, action),
    prompt,
    tools: await offeredTools(ctx, def, run),
    budget,
    outputSchema: ctx.step?.outputSchema,
    maxToolResultChars: def.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS,
    label: ctx.step?.label ?? `agent ${agent.role}`,
    env: llm.env,
    cassette: llm.cassette,
    channel: ctx.channel,
    ...(ctx.delegation && { delegation: { via: ctx.delegation.via, agent: agent.role } }),
    signal: ctx.signal,
  });
  // Handoffs: the agent taken over gets the conversation so far and finishes the step.
  let usage = result.usage;
  let from = def;
  const seen = new Set([def.role]);
  while (result.handoff) {
    const { to, callId, note } = result.handoff;
    const next = ctx.project.agents.get(to);
    if (!next) throw new OrchError('ORCH_UNKNOWN_AGENT', `agent \`${from.role}\` handed off to \`${to}\`, which the team lacks`);
    if (seen.has(to)) throw new OrchError('ORCH_HANDOFF_LOOP', `handoffs went round in a circle: ${[...seen, to].join(' → ')}`, { exitCode: ExitCode.runFailed });
    seen.add(to);
    const handover = `The conversation so far, handed over to you by the \`${from.role}\` agent${note ? ` with the note: ${note}` : ''}:\n${transcript(result.handoff.messages)}\n\nFinish the task.`;
    result = await runLoop({
      model: resolveModel(ctx.project, to, llm.env),
      system: systemPrompt(ctx.project, next, action),
      prompt: `${prompt}\n\n${handover}`,
      tools: await offeredTools(ctx, next, run),
      budget: remaining(budget, usage) ?? budget,
      outputSchema: ctx.step?.outputSchema,
      maxToolResultChars: next.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS,
      label: `${ctx.step?.label ?? `agent ${agent.role}`} (handed to ${to})`,
      env: llm.env,
      cassette: llm.cassette,
      channel: ctx.channel,
      delegation: { via: `handoff:${callId}`, agent: to },
      signal: ctx.signal,
    });
    usage = result.usage && usage ? addUsage(usage, result.usage) : (result.usage ?? usage);
    from = next;
  }
  return { output: result.output, ...(usage && { usage }) };
}

/** A conversation as text for the agent it is handed to: who said what, which tools ran and what they gave. */
function transcript(messages: readonly ChatMessage[]): string {
  const lines: string[] = [];
  for (const m of messages) {
    if (m.role === 'user') lines.push(`[task] ${m.text}`);
    else if (m.role === 'assistant') {
      if (m.text) lines.push(`[agent] ${m.text}`);
      for (const c of m.toolCalls) lines.push(`[agent called ${c.name}] ${JSON.stringify(c.input)}`);
    } else for (const r of m.results) lines.push(`[${r.name} ${r.isError ? 'failed' : 'returned'}] ${resultText(r.output)}`);
  }
  return lines.join('\n');
}

/** How many agents deep delegation may go when the team does not say. */
export const DEFAULT_MAX_DELEGATION_DEPTH = 3;

/** The error of a run that needs a key nobody set; checked before any step runs, and again here. */
export function keyMissing(role: string, model: string, variable: string): OrchError {
  return new OrchError('ORCH_LLM_KEY_MISSING', `agent \`${role}\` uses model \`${model}\`, which needs ${variable}, and it is not set`, {
    hint: `export ${variable}=...; or run offline from a recording with --replay <dir>`,
  });
}

/**
 * Exactly the tools the agent may use: its `tools:` list (or, without one, every declared
 * tool and every server tool), described as the model sees them. A tool needs approval
 * when its entry says `approval: required`, or when the agent has `approval: destructive`
 * and the tool is destructive (a gantz tool's `destructive: true`, an MCP tool's `destructiveHint`).
 */
async function offeredTools(ctx: PerformContext, def: AgentDef, run: (tool: string, input: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>): Promise<OfferedTool[]> {
  const wanted = def.tools;
  const needsServers = wanted === undefined || wanted.some((name) => !ctx.project.tools.has(name));
  const serverTools = needsServers && ctx.servers?.describeTools ? await ctx.servers.describeTools() : [];
  const byServerName = new Map(serverTools.map((t) => [t.name, t]));
  const bare = new Map<string, (typeof serverTools)[number][]>();
  for (const t of serverTools) {
    const name = t.name.slice(t.name.indexOf('.') + 1);
    bare.set(name, [...(bare.get(name) ?? []), t]);
  }
  const offered: OfferedTool[] = [];
  const offer = (name: string, description: string, inputSchema: Record<string, unknown>, destructive: boolean, readOnly: boolean) =>
    offered.push({
      name,
      description,
      inputSchema,
      approval: (def.approvalRequired?.includes(name) ?? false) || (def.approval === 'destructive' && destructive),
      ...(readOnly && { readOnly: true }),
      run: (toolInput, signal) => run(name, toolInput, signal),
    });
  // Without a list of its own, an agent's model is offered the tools the project declares, not orch's built-in ones.
  for (const name of wanted ?? [...declaredTools(ctx.project.tools).map((t) => t.name), ...byServerName.keys()]) {
    const declared = ctx.project.tools.get(name);
    if (declared) {
      offer(name, declared.description || name, { ...declared.inputSchema, type: 'object' }, declared.destructive === true, declared.readOnly === true);
      continue;
    }
    if (isAgentTool(name)) {
      const tool = agentTool(name, ctx, def);
      offered.push({ ...tool, approval: def.approvalRequired?.includes(name) ?? false });
      continue;
    }
    const server = byServerName.get(name) ?? (bare.get(name)?.length === 1 ? bare.get(name)?.[0] : undefined);
    if (server) offer(name, server.description, server.inputSchema, server.destructive, server.readOnly);
  }
  // Handoffs: one tool that passes the conversation on, to the roles the agent names.
  if ((def.handoffs ?? []).length > 0 && !ctx.project.tools.has('transfer_to_agent')) {
    const roles = def.handoffs ?? [];
    offered.push({
      name: 'transfer_to_agent',
      description: `Hands this conversation to another agent, who finishes the task; you stop here. Agents: ${roles.join(', ')}.`,
      inputSchema: {
        type: 'object',
        properties: { agent: { type: 'string', enum: roles }, note: { type: 'string', description: 'What the next agent should know' } },
        required: ['agent'],
      },
      approval: false,
      handoff: true,
      run: async (input) => {
        const to = typeof input.agent === 'string' ? input.agent : '';
        if (!roles.includes(to)) throw new Error(`\`${to}\` is not an agent you may hand off to; you may hand off to: ${roles.join(', ')}`);
        return `handed the conversation to ${to}`;
      },
    });
  }
  return offered;
}

/**
 * A tool orch gives the agent itself: `dispatch_to_agent` runs another agent of the team
 * on a task (its own loop, tools and budget, on an instance of its pool) and returns its
 * answer; `check_agent_status` reports the pools. Delegation is bounded: never to an agent
 * already on the call chain, never deeper than `max_delegation_depth`; either is an error
 * the model reads, not a failure of the step.
 */
function agentTool(name: AgentToolName, ctx: PerformContext, def: AgentDef): Omit<OfferedTool, 'approval'> {
  const roles = [...ctx.project.agents.keys()].filter((r) => r !== def.role);
  const rolesText = roles.map((r) => {
    const d = ctx.project.agents.get(r)?.description;
    return d ? `${r} (${d})` : r;
  });
  switch (name) {
    case 'dispatch_to_agent':
      return {
        name,
        description: `Hands a task to another agent of the team and returns its final answer. Several calls in one turn run in parallel. Agents: ${rolesText.join('; ') || '(none)'}.`,
        inputSchema: {
          type: 'object',
          properties: {
            agent: { type: 'string', enum: roles, description: 'The role of the agent to hand the task to' },
            task: { description: 'What the agent should do: a sentence, or an object `{action, input}`' },
          },
          required: ['agent', 'task'],
        },
        run: async (input, signal, call) => {
          const role = typeof input.agent === 'string' ? input.agent : '';
          if (!ctx.project.agents.has(role)) throw new Error(`the team has no agent \`${role}\`; its agents are: ${roles.join(', ') || '(none)'}`);
          const chain = [...(ctx.delegation?.chain ?? []), def.role];
          if (chain.includes(role)) {
            throw new Error(`delegation cycle: ${[...chain, role].join(' → ')}; an agent may not delegate to one already on the call chain — answer with what you have, or ask another agent`);
          }
          const max = ctx.project.team?.maxDelegationDepth ?? DEFAULT_MAX_DELEGATION_DEPTH;
          if (chain.length > max) {
            throw new Error(`delegation too deep: ${[...chain, role].join(' → ')} would be ${chain.length} levels, and max_delegation_depth is ${max}; carry out the task yourself or answer with what you have`);
          }
          if (!ctx.team) throw new Error('delegation is not available where this agent runs (outside an engine session)');
          const team = ctx.team;
          const task = taskOf(input.task);
          const attributes = {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': name,
            'gen_ai.tool.call.id': call.callId,
            'orch.agent.type': def.role,
            'orch.delegate.agent': role,
          };
          return inSpan(`execute_tool ${name}`, attributes, async (span) => {
            const done = await team.delegate({
              role,
              ...task,
              delegation: { via: call.callId, chain },
              label: `${ctx.step?.label ?? `agent ${def.role}`} → ${role}`,
              budget: call.budget,
              ids: ctx.ids,
              channel: ctx.channel,
              signal,
              ...withCarrier(),
            });
            if (done.usage) span.set(usageAttributes(done.usage));
            return new WithUsage(done.output, done.usage);
          });
        },
      };
    case 'check_agent_status':
      return {
        name,
        description: `The status of the team's agent pools: instances, how many are available, busy or unhealthy. Agents: ${[def.role, ...roles].join(', ')}.`,
        inputSchema: { type: 'object', properties: { agent: { type: 'string', description: 'One role; all when absent' } } },
        run: async (input) => {
          if (!ctx.team) throw new Error('agent status is not available where this agent runs');
          return ctx.team.status(typeof input.agent === 'string' ? input.agent : undefined);
        },
      };
    case 'ask_human':
      return {
        name,
        description: 'Asks a person a question and returns their answer. Use it when you cannot go on without a decision or information only a person has.',
        inputSchema: { type: 'object', properties: { question: { type: 'string', description: 'The question, complete enough to answer without context' } }, required: ['question'] },
        question: true,
        // Never called: the loop takes a question to a person (the terminal, or `orch answer` after a pause).
        run: async () => {
          throw new Error('ask_human is answered by a person, not run');
        },
      };
  }
}

/** A delegated task as the agent's action: a sentence is the action itself; an object may name one and its input. */
function taskOf(task: unknown): { action: string; input: Record<string, unknown> } {
  if (typeof task === 'string') return { action: task, input: {} };
  if (task !== null && typeof task === 'object' && !Array.isArray(task)) {
    const { action, input, ...rest } = task as Record<string, unknown>;
    if (typeof action === 'string') {
      const given = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
      return { action, input: { ...rest, ...given } };
    }
    return { action: 'carry out the task', input: task as Record<string, unknown> };
  }
  return { action: 'carry out the task', input: { task } };
}

function systemPrompt(project: Project, def: AgentDef, action: string): string {
  const team = project.team?.name ?? project.name ?? 'the team';
  const others = [...project.agents.keys()].filter((r) => r !== def.role);
  const preamble = [
    `You are the \`${def.role}\` agent of ${team}, run by orch.${others.length ? ` The other agents are: ${others.join(', ')}.` : ''}`,
    `Your task now is the action \`${action}\`. Use the tools you are given when they help; when you are done, answer with the result alone` +
      ' (as JSON when it is data), without asking questions back.',
  ].join('\n');
  return def.systemPrompt ? `${def.systemPrompt.trim()}\n\n${preamble}` : preamble;
}

function userPrompt(action: string, input: Record<string, unknown>, needs: Record<string, unknown> | undefined): string {
  const parts = [`Action: ${action}`];
  if (Object.keys(input).length > 0) parts.push(`Input:\n${JSON.stringify(input, null, 2)}`);
  if (needs && Object.keys(needs).length > 0) parts.push(`Results of the steps before this one:\n${JSON.stringify(needs, null, 2)}`);
  return parts.join('\n\n');
}
