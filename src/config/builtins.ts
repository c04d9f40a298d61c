/** Handler namespaces built into orch; a user module of the same name overrides one. */
export const BUILTIN_HANDLERS: Readonly<Record<string, readonly string[]>> = {
  orchestration: ['orchestrate', 'assign_task', 'monitor_agents', 'aggregate_results', 'handle_failure', 'scale_agents'],
};

/** File extensions tried, in order, for `handlers/<module>`; `.py` runs through orch's Python bridge. */
export const HANDLER_EXTENSIONS = ['.ts', '.js', '.mjs', '.py'] as const;
