import { under, type IssueSink } from './locate.js';
import type { AgentDef, Project, StepDef, ToolDef, WorkflowDef } from './model.js';
import { findCycle } from '../util/cycle.js';
import { checkArguments, checkExpressions } from './step-rules.js';
import { suggest } from '../util/suggest.js';
import { placeholderPaths } from '../lang/placeholders.js';

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

/** Tool names a step of this agent may call directly (undefined list: every declared tool). */
function mayUse(agent: AgentDef, project: Project, action: string): boolean {
  if (agent.tools) return agent.tools.includes(action);
  return project.tools.has(action) || (project.servers.size > 0 && resolveToolName(project, action).kind !== 'unknown-server');
}

/** Cross-file rules, run once every file has passed its schema. */
/**
 * Cross-file rules. With `crossFile: false` (another file failed its schema) only the
 * rules that one file can answer run: what it says about tools, servers or agents
 * declared elsewhere is not known yet.
 */
export function checkRules(project: Project, sink: IssueSink, options: { crossFile: boolean } = { crossFile: true }): void {
  for (const tool of project.tools.values()) checkTool(project, tool, sink, options.crossFile);
  if (options.crossFile) for (const agent of project.agents.values()) checkAgentTools(project, agent, sink);
  for (const workflow of project.workflows.values()) checkWorkflow(project, workflow, sink, options.crossFile);
}

function checkTool(project: Project, tool: ToolDef, sink: IssueSink, crossFile: boolean): void {
  const h = tool.handler;
  if (!crossFile) {
    // Servers may be declared in the file that failed; only the tool's own text is checked.
  } else if (h.kind === 'mcp' && project.servers.has(h.server)) {
    const viaHandler = typeof sink.valueAt(under(tool.origin, 'handler')) === 'string';
    sink.unverified(`${h.server}.${h.tool}`, under(tool.origin, viaHandler ? 'handler' : 'mcp'), `\`${h.server}.${h.tool}\` (forwarded to by tool \`${tool.name}\`) can only be confirmed by its MCP server`);
  }
  if (crossFile && h.kind === 'mcp' && !project.servers.has(h.server)) {
    const guess = suggest(h.server, [...project.servers.keys()]);
    const viaHandler = typeof sink.valueAt(under(tool.origin, 'handler')) === 'string';
    sink.error('ORCH_UNKNOWN_SERVER', under(tool.origin, viaHandler ? 'handler' : 'mcp'), `tool \`${tool.name}\` forwards to unknown MCP server \`${h.server}\``, {
      hint: guess ? `did you mean \`${guess}\`?` : 'declare it under `mcpServers` (in gantz.yaml, agent-team.yaml or .mcp.json)',
    });
  }
  const names = new Set(tool.params.map((p) => p.name));
  const templates: [string, (string | number)[]][] = [];
  if (h.kind === 'script') {
    if (h.shell !== undefined) templates.push([h.shell, ['script', 'shell']]);
    h.args.forEach((a, i) => templates.push([a, ['script', 'args', i]]));
  } else if (h.kind === 'http') {
    templates.push([h.url, ['http', 'url']]);
    for (const [k, v] of Object.entries(h.headers)) templates.push([v, ['http', 'headers', k]]);
    if (h.body !== undefined) templates.push([JSON.stringify(h.body), ['http', 'body']]);
  }
  for (const [text, sub] of templates) {
    // Exactly what the handlers will substitute: `{{json .State}}` or awk's `{{print $1}}`
    // are not placeholders and pass through as written.
    for (const path of placeholderPaths(text)) {
      const param = /^[A-Za-z_][\w-]*/.exec(path)?.[0] ?? '';
      if (names.has(param)) continue;
      const guess = suggest(param, [...names]);
      sink.error('ORCH_UNKNOWN_PARAM', under(tool.origin, ...sub), `\`{{${param}}}\` is not a parameter of tool \`${tool.name}\``, {
        hint: guess ? `did you mean \`{{${guess}}}\`?` : 'declare it under `parameters`',
      });
    }
  }
}

function checkAgentTools(project: Project, agent: AgentDef, sink: IssueSink): void {
  (agent.tools ?? []).forEach((name, i) => {
    if (sink.brokenTools.has(name)) return;
    const at = under(agent.origin, 'tools', i);
    const r = resolveToolName(project, name);
    switch (r.kind) {
      case 'declared':
        return;
      case 'server':
      case 'unverified':
        sink.unverified(name, at, `tool \`${name}\` of agent \`${agent.role}\` is not declared in gantz.yaml; only an MCP server could provide it`);
        return;
      case 'unknown-server':
        sink.error('ORCH_UNKNOWN_SERVER', at, `tool \`${name}\` names unknown MCP server \`${r.server}\``, {
          hint: suggestOr(r.server, [...project.servers.keys()], 'declare the server under `mcpServers`'),
        });
        return;
      case 'missing':
        sink.error('ORCH_UNKNOWN_TOOL', at, `agent \`${agent.role}\` lists unknown tool \`${name}\``, {
          hint: suggestOr(name, [...project.tools.keys()], 'declare it in gantz.yaml, or add the MCP server that provides it'),
        });
        return;
      default: {
        const never: never = r;
        return never;
      }
    }
  });
}

export function suggestOr(word: string, candidates: string[], fallback: string): string {
  const guess = suggest(word, candidates);
  return guess ? `did you mean \`${guess}\`?` : fallback;
}

function checkWorkflow(project: Project, workflow: WorkflowDef, sink: IssueSink, crossFile: boolean): void {
  const ids = new Set(workflow.steps.map((s) => s.id));
  for (const step of workflow.steps) {
    const agent = project.agents.get(step.agent);
    if (!agent) {
      sink.error('ORCH_UNKNOWN_AGENT', under(step.origin, 'agent'), `step \`${step.id}\` names unknown agent \`${step.agent}\``, {
        hint: suggestOr(step.agent, [...project.agents.keys()], project.agents.size ? `agents: ${[...project.agents.keys()].join(', ')}` : 'declare it under `agents` with this `role`'),
      });
    } else if (crossFile) {
      checkAction(project, workflow, step, agent, sink);
    }
    step.needs.forEach((need, i) => {
      if (ids.has(need)) return;
      // A `needs: x` string has no index; locate() then stops at `needs` itself.
      sink.error('ORCH_UNKNOWN_STEP', under(step.origin, 'needs', i), `step \`${step.id}\` needs unknown step \`${need}\``, {
        hint: suggestOr(need, [...ids], `steps of ${workflow.name}: ${[...ids].join(', ')}`),
      });
    });
    checkExpressions(step, workflow, sink);
    if (agent && crossFile) checkArguments(project, step, agent, sink);
  }
  // Duplicate ids are reported on their own; any cycle through them would be an echo.
  const cycle = ids.size === workflow.steps.length ? findCycle(new Map(workflow.steps.map((s) => [s.id, s.needs]))) : undefined;
  if (cycle) {
    const first = workflow.steps.find((s) => s.id === cycle[0]);
    if (first) {
      sink.error('ORCH_CYCLE', under(first.origin, 'needs'), `steps of \`${workflow.name}\` form a cycle: ${cycle.join(' → ')}`, {
        hint: 'remove one of these `needs` so the steps can run in some order',
      });
    }
  }
}

function checkAction(project: Project, workflow: WorkflowDef, step: StepDef, agent: AgentDef, sink: IssueSink): void {
  if (sink.brokenTools.has(step.action)) return;
  if (mayUse(agent, project, step.action)) {
    if (!agent.tools && !project.tools.has(step.action) && !agent.model) {
      sink.unverified(step.action, under(step.origin, 'action'), `action \`${step.action}\` is not declared in gantz.yaml; only an MCP server could provide it`);
    }
    return;
  }
  if (agent.model) return;
  const usable = agent.tools ?? [...project.tools.keys()];
  sink.error('ORCH_UNRESOLVED_ACTION', under(step.origin, 'action'), `step \`${step.id}\` of \`${workflow.name}\`: \`${step.action}\` is not a tool agent \`${agent.role}\` may use, and the agent has no \`model\``, {
    hint: suggestOr(step.action, usable, `add \`${step.action}\` to the agent's \`tools\` (and declare it), or give the agent a \`model\``),
  });
}
