import type { AgentDef, Project, ToolDef } from '../model.js';

/** How a tool name an agent refers to resolves before any server has been started. */
export type ToolResolution =
  | { kind: 'declared'; tool: ToolDef }
  | { kind: 'server'; server: string; tool: string }
  | { kind: 'unverified'; name: string }
  | { kind: 'unknown-server'; server: string; tool: string }
  | { kind: 'missing'; name: string };

export function resolveToolName(project: Project, name: string): ToolResolution {
  const declared = project.tools.get(name);
  if (declared) return { kind: 'declared', tool: declared };
  const dot = name.indexOf('.');
  if (dot > 0) {
    const server = name.slice(0, dot);
    const tool = name.slice(dot + 1);
    return project.servers.has(server) ? { kind: 'server', server, tool } : { kind: 'unknown-server', server, tool };
  }
  return project.servers.size > 0 ? { kind: 'unverified', name } : { kind: 'missing', name };
}

/** Whether a step of this agent may call `action` directly (no `tools` list: every declared tool, and server tools). */
export function mayUse(agent: AgentDef, project: Project, action: string): boolean {
  if (agent.tools) return agent.tools.includes(action);
  return project.tools.has(action) || (project.servers.size > 0 && resolveToolName(project, action).kind !== 'unknown-server');
}
