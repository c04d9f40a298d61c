import type { Project } from '../config/model.js';
import { displayPath } from '../config/source.js';
import type { Issue } from '../errors.js';
import type { Supervisor } from './supervisor.js';

/** A tool name the configuration uses, and where it stands. */
export interface ToolNameUse {
  name: string;
  file: string;
  line?: number;
  column?: number;
  path?: string;
}

/**
 * `orch validate --connect`: starts every server, then reports each server that does not
 * start (ORCH_SERVER_START) and each tool name no running server provides, bare or as
 * `server.tool` (ORCH_TOOL_NOT_PROVIDED). The caller owns `supervisor` (the servers of
 * `project`) and shuts it down.
 */
export async function checkServerTools(supervisor: Supervisor, project: Project, toolNames: ToolNameUse[]): Promise<Issue[]> {
  const outcomes = await supervisor.start();
  const issues: Issue[] = [];
  const failed = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    failed.add(outcome.server);
    const def = supervisor.server(outcome.server).def;
    issues.push({
      severity: 'error',
      code: 'ORCH_SERVER_START',
      message: outcome.error.message,
      file: displayPath(def.origin.file, project.dir),
      path: def.origin.path.join('.'),
      hint: outcome.error.hint,
    });
  }
  const registry = supervisor.runningTools();
  for (const use of toolNames) {
    if (registry.find(use.name)) continue;
    const server = use.name.includes('.') ? use.name.slice(0, use.name.indexOf('.')) : undefined;
    if (server !== undefined && failed.has(server)) continue; // its start failure says it already
    const others = failed.size > 0 ? ` (not started: ${[...failed].join(', ')})` : '';
    issues.push({
      severity: 'error',
      code: 'ORCH_TOOL_NOT_PROVIDED',
      message: `no MCP server provides a tool "${use.name}"${others}`,
      file: use.file,
      line: use.line,
      column: use.column,
      path: use.path,
      hint: 'check the name against `orch mcp tools`; write `server.tool` when several servers provide it',
    });
  }
  return issues;
}
