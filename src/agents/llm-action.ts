import type { AgentDef, Project } from '../config/model.js';
import { declaredTools } from '../config/tools.js';
import { OrchError } from '../errors.js';
import { recordingFetch, replayingFetch } from '../llm/cassette.js';
import type { Redactor } from '../secrets/redact.js';
import { missingKey, resolveModel } from '../llm/models.js';
import type { ActionChannel } from './action-channel.js';
import { remaining, tightest, type Budget } from './budget.js';
import { runLoop, type OfferedTool } from './llm-loop.js';
import type { CassetteSpec, LlmSettings, Performance, PerformContext, Performer } from './action.js';

/** Tool results longer than this reach the model cut, with a note (`max_tool_result_chars`). */
export const DEFAULT_MAX_TOOL_RESULT_CHARS = 20_000;

export type { CassetteSpec, LlmSettings, StepContext } from './action.js';

/** The LLM settings of a run: keys from `env`, and the cassette its flags ask for. */
export function llmSettings(spec: CassetteSpec | undefined, env: NodeJS.ProcessEnv, redactor: Redactor): LlmSettings {
  if (spec?.replay) return { env, cassette: replayingFetch(spec.replay, { redactor }), replaying: true };
  if (spec?.record) return { env, cassette: recordingFetch(spec.record, { redactor }), replaying: false };
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
  return runLoop({
    model,
    system: systemPrompt(ctx.project, def, action),
    prompt: userPrompt(action, input, ctx.step?.needs),
    tools: await offeredTools(ctx, def, run),
    budget: tightest(remaining(team, ctx.channel?.runUsage()), def.budget, ctx.step?.budget),
    outputSchema: ctx.step?.outputSchema,
    maxToolResultChars: def.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS,
    label: ctx.step?.label ?? `agent ${agent.role}`,
    env: llm.env,
    cassette: llm.cassette,
    channel: ctx.channel,
    signal: ctx.signal,
  });
}

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
  const offer = (name: string, description: string, inputSchema: Record<string, unknown>, destructive: boolean) =>
    offered.push({
      name,
      description,
      inputSchema,
      approval: (def.approvalRequired?.includes(name) ?? false) || (def.approval === 'destructive' && destructive),
      run: (toolInput, signal) => run(name, toolInput, signal),
    });
  // Without a list of its own, an agent's model is offered the tools the project declares, not orch's built-in ones.
  for (const name of wanted ?? [...declaredTools(ctx.project.tools).map((t) => t.name), ...byServerName.keys()]) {
    const declared = ctx.project.tools.get(name);
    if (declared) {
      offer(name, declared.description || name, { ...declared.inputSchema, type: 'object' }, declared.destructive === true);
      continue;
    }
    const server = byServerName.get(name) ?? (bare.get(name)?.length === 1 ? bare.get(name)?.[0] : undefined);
    if (server) offer(name, server.description, server.inputSchema, server.destructive);
  }
  return offered;
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
