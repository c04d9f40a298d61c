import type { Project } from '../config/model.js';
import { mayRun, requireType, typesFor, type AgentType } from '../agents/agent-types.js';
import { suggest } from '../util/suggest.js';
import { referencedIds } from './refs.js';
import { taskError } from './task-spec.js';
import { findCycle } from '../util/cycle.js';

/** A subtask ready to schedule: its agent type is known and may run its tool. */
export interface Subtask {
  id: string;
  agentType: string;
  /** Undefined for a hierarchical manager that only gathers its sub-team's results. */
  tool?: string;
  input: Record<string, unknown>;
  dependsOn: string[];
}

/** What a pattern needs to turn the caller's subtasks into a plan. */
export interface PlanContext {
  project: Project;
  types: ReadonlyMap<string, AgentType>;
}

/** The type that runs `tool`: the one asked for (checked), else the best able type. */
export function resolveType(ctx: PlanContext, id: string, tool: string | undefined, asked: string | undefined): string {
  // An action that is no tool, asked of an agent with a model, is its model's to carry out.
  if (asked !== undefined && byModel(ctx.project, asked, tool)) return requireType(ctx.types, asked).name;
  // A remote A2A agent is sent the action by name: it need not be a tool of the project.
  if (tool !== undefined && (asked === undefined || ctx.types.get(asked)?.remote !== true)) checkTool(ctx, id, tool);
  if (asked !== undefined) {
    const type = requireType(ctx.types, asked);
    if (tool !== undefined && !mayRun(type, tool)) {
      const able = typesFor(ctx.types, tool).map((t) => t.name);
      throw taskError(`subtask \`${id}\`: agent type \`${asked}\` may not run tool \`${tool}\``, able.length ? `agent types that may: ${able.join(', ')}` : `add \`${tool}\` to the tools of \`${asked}\` in agent-team.yaml`);
    }
    return type.name;
  }
  if (tool === undefined) return [...ctx.types.keys()][0] ?? 'worker';
  const best = typesFor(ctx.types, tool)[0];
  if (!best) throw taskError(`subtask \`${id}\`: no agent type may run tool \`${tool}\``, `add \`${tool}\` to an agent's tools in agent-team.yaml`);
  return best.name;
}

function checkTool(ctx: PlanContext, id: string, tool: string): void {
  if (isTool(ctx.project, tool)) return;
  const guess = suggest(tool, [...ctx.project.tools.keys()]);
  const models = [...ctx.project.agents.keys()].filter((role) => hasModel(ctx.project, role));
  const byAgent = models.length > 0 ? `; for an action an agent's model carries out, name its agent_type (${models.join(', ')})` : '';
  throw taskError(`subtask \`${id}\` names unknown tool \`${tool}\``, guess ? `did you mean \`${guess}\`?` : `declare it in gantz.yaml, or name an MCP server tool as \`server.tool\`${byAgent}`);
}

/** A tool of gantz.yaml, or `server.tool` of a configured MCP server. */
function isTool(project: Project, name: string): boolean {
  const dot = name.indexOf('.');
  return project.tools.has(name) || (dot > 0 && project.servers.has(name.slice(0, dot)));
}

/**
 * Whether the agent type's model carries out the action: it names no tool, and the agent
 * has a model (and is not a remote A2A agent). Such a member reads its whole input.
 */
export function byModel(project: Project, agentType: string, action: string | undefined): boolean {
  return action !== undefined && hasModel(project, agentType) && !isTool(project, action);
}

/** Whether the agent type has a model of its own (a remote A2A agent's is not orch's to call). */
export function hasModel(project: Project, agentType: string): boolean {
  const agent = project.agents.get(agentType);
  return agent?.model !== undefined && agent.a2a === undefined;
}

/**
 * Adds the dependencies `$from` references imply and checks the graph: every dependency
 * names a subtask and there is no cycle. Returns subtasks in a runnable order.
 */
export function checkGraph(subtasks: readonly Subtask[]): Subtask[] {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const withRefs = subtasks.map((s) => ({ ...s, dependsOn: [...new Set([...s.dependsOn, ...referencedIds(s.input)])] }));
  for (const s of withRefs) {
    for (const dep of s.dependsOn) {
      if (dep === s.id) throw taskError(`subtask \`${s.id}\` depends on itself`);
      if (!byId.has(dep)) {
        const guess = suggest(dep, [...byId.keys()]);
        throw taskError(`subtask \`${s.id}\` depends on unknown subtask \`${dep}\``, guess ? `did you mean \`${guess}\`?` : undefined);
      }
    }
  }
  const cycle = findCycle(new Map(withRefs.map((s) => [s.id, s.dependsOn])));
  if (cycle) throw taskError(`subtasks form a dependency cycle: ${cycle.join(' → ')}`, 'remove one of these dependencies so the subtasks can run in some order');
  return withRefs;
}

