import type { Project } from '../config/model.js';
import { suggest } from '../util/suggest.js';
import { ExitCode, OrchError } from '../errors.js';

/** What an agent type may do and how its instances run. */
export interface AgentType {
  name: string;
  /** Tools it may run; `all` for an agent without a `tools` list (or the default worker). */
  tools: ReadonlySet<string> | 'all';
  /** Pool size declared in agent-team.yaml, used until `orch scale` says otherwise. */
  count: number;
  isolation: 'inline' | 'process';
  /** A remote A2A agent (`a2a:`): it takes any action asked of it by name, and is never picked for a tool by itself. */
  remote?: boolean;
}

/** The default type of a project without a team: one instance that may run every tool. */
export const DEFAULT_TYPE = 'worker';

/** Agent types of a project: the roles of agent-team.yaml, or the default `worker`. */
export function agentTypes(project: Project): Map<string, AgentType> {
  const types = new Map<string, AgentType>();
  for (const agent of project.agents.values()) {
    types.set(agent.role, {
      name: agent.role,
      tools: agent.a2a ? new Set() : agent.tools ? new Set(agent.tools) : 'all',
      count: agent.count,
      isolation: agent.isolation,
      ...(agent.a2a && { remote: true }),
    });
  }
  if (types.size === 0) types.set(DEFAULT_TYPE, { name: DEFAULT_TYPE, tools: 'all', count: 1, isolation: 'inline' });
  return types;
}

export function mayRun(type: AgentType, tool: string): boolean {
  return type.remote === true || type.tools === 'all' || type.tools.has(tool);
}

/** The named type, or a usage error suggesting the closest one. */
export function requireType(types: ReadonlyMap<string, AgentType>, name: string): AgentType {
  const type = types.get(name);
  if (type) return type;
  const names = [...types.keys()];
  const guess = suggest(name, names);
  throw new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `no agent type \`${name}\``, {
    hint: guess ? `did you mean \`${guess}\`?` : `agent types: ${names.join(', ')} (the roles of agent-team.yaml)`,
    exitCode: ExitCode.usage,
  });
}

/** Types that may run a tool, best first: specialists that list it, then generalists. */
export function typesFor(types: ReadonlyMap<string, AgentType>, tool: string): AgentType[] {
  const able = [...types.values()].filter((t) => !t.remote && mayRun(t, tool));
  return [...able.filter((t) => t.tools !== 'all'), ...able.filter((t) => t.tools === 'all')];
}
