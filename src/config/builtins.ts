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
