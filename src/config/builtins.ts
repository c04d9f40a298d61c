/** Handler namespaces built into orch; a user module of the same name overrides one. */
export const BUILTIN_HANDLERS: Readonly<Record<string, readonly string[]>> = {
  orchestration: ['orchestrate', 'assign_task', 'monitor_agents', 'aggregate_results', 'handle_failure', 'scale_agents'],
};

/** File extensions tried, in order, for `handlers/<module>`; `.py` runs through orch's Python bridge. */
export const HANDLER_EXTENSIONS = ['.ts', '.js', '.mjs', '.py'] as const;

/**
 * Tools orch gives an LLM agent that lists them (unless gantz.yaml declares a tool of the
 * same name, which then wins): delegation to the team's other agents, their status, and
 * a question to a person.
 */
export const AGENT_TOOLS = ['dispatch_to_agent', 'check_agent_status', 'ask_human'] as const;

export type AgentToolName = (typeof AGENT_TOOLS)[number];

export function isAgentTool(name: string): name is AgentToolName {
  return (AGENT_TOOLS as readonly string[]).includes(name);
}

/** A built-in tool's parameters, as a gantz.yaml map-dialect entry would give them. */
export interface BuiltinToolSpec {
  description: string;
  parameters: Record<string, { type: 'string' | 'number' | 'boolean' | 'object' | 'array'; required?: boolean; description: string }>;
}

/**
 * The orchestration seed's six tools, available in every project as `orch scale` is:
 * `orch run orchestrate ...` and a step's `action: monitor_agents` work without declaring
 * them. A tool of the same name in gantz.yaml takes the place of the built-in one; only
 * declared tools are served by `orch serve` and offered to a model unasked.
 */
export const BUILTIN_TOOLS: Readonly<Record<string, BuiltinToolSpec>> = {
  orchestrate: {
    description: 'Orchestrate multi-agent task',
    parameters: {
      task: { type: 'object', required: true, description: 'The task: `{subtasks: [{id, tool, input, depends_on}], coordination?, policy?}`' },
      agents: { type: 'array', description: 'Only these agent types take part' },
    },
  },
  assign_task: {
    description: 'Assign task to agent',
    parameters: {
      agent_id: { type: 'string', required: true, description: 'The instance to run it on (another of its type if it is busy)' },
      task: { type: 'object', required: true, description: 'The task: `{id?, tool, input}`' },
    },
  },
  monitor_agents: {
    description: 'Monitor agent status',
    parameters: {
      agent_ids: { type: 'array', description: 'Only these instances (default: all)' },
      recommend: {
        type: 'boolean',
        description: "Also ask the planner agent's model for recommendations on the pools (default: true when orchestration.monitor is llm)",
      },
    },
  },
  aggregate_results: {
    description: 'Aggregate agent results',
    parameters: { task_id: { type: 'string', required: true, description: 'A task id orchestrate or assign_task returned' } },
  },
  handle_failure: {
    description: 'Handle agent failure',
    parameters: {
      agent_id: { type: 'string', required: true, description: 'The instance that failed' },
      task_id: { type: 'string', required: true, description: 'The task it failed in' },
    },
  },
  scale_agents: {
    description: 'Scale agent pool',
    parameters: {
      agent_type: { type: 'string', required: true, description: 'A role of agent-team.yaml' },
      count: { type: 'number', description: 'The number of instances' },
    },
  },
};

/** Where built-in tools are "declared", for their origin. */
export const BUILTIN_FILE = '<built-in>';

