import type { Project, StepDef } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import type { Supervisor } from '../mcp/supervisor.js';
import { resolveStateDir } from '../state/state-dir.js';
import type { Logger } from '../tools/context.js';
import { invokeTool } from '../tools/invoke.js';
import { fromMcpResult } from '../tools/mcp.js';
import type { StepRunner } from './engine.js';

/** How a step's action is carried out, decided before the run starts. */
export type ActionKind = { kind: 'tool' } | { kind: 'server'; name: string } | { kind: 'llm' };

/** DESIGN section 4: a tool the agent may use is called directly; otherwise an agent with a model would ask an LLM. */
export function actionKind(project: Project, step: StepDef): ActionKind {
  const agent = project.agents.get(step.agent);
  const allowed = agent?.tools === undefined || agent.tools.includes(step.action);
  if (allowed && project.tools.has(step.action)) return { kind: 'tool' };
  if (agent?.model && (agent.tools === undefined || !agent.tools.includes(step.action))) return { kind: 'llm' };
  return { kind: 'server', name: step.action };
}

/**
 * Refuses, before any step runs, a workflow that needs an LLM: orch does not run LLM
 * agents yet, and a run that fails halfway would be worse than one that never starts.
 */
export function assertRunnable(project: Project, steps: readonly StepDef[]): void {
  const llm = steps.filter((s) => actionKind(project, s).kind === 'llm');
  if (llm.length === 0) return;
  const list = llm.map((s) => `\`${s.id}\` (${s.agent}: ${s.action})`).join(', ');
  throw new OrchError('ORCH_LLM_UNAVAILABLE', `step${llm.length > 1 ? 's' : ''} ${list} need${llm.length > 1 ? '' : 's'} an LLM agent, which this version of orch cannot run yet`, {
    hint: 'make the action a tool the agent lists in `tools` (declared in gantz.yaml or provided by an MCP server)',
    exitCode: ExitCode.usage,
  });
}

/** Runs steps: declared tools through their handlers, server tools through the supervisor. */
export function stepRunner(project: Project, supervisor: Supervisor | undefined, logger: Logger): StepRunner {
  const stateDir = resolveStateDir(project.dir);
  return async (step, args, signal) => {
    const kind = actionKind(project, step);
    if (kind.kind === 'tool') {
      const result = await invokeTool(project, step.action, args, { signal, logger, mcp: supervisor, stateDir });
      return result.value;
    }
    if (kind.kind === 'llm' || !supervisor) {
      throw new OrchError('ORCH_UNRESOLVED_ACTION', `\`${step.action}\` is not a declared tool and no MCP server is configured`, { exitCode: ExitCode.usage });
    }
    const result = await supervisor.call(kind.name, args, { signal });
    return fromMcpResult(kind.name, result).value;
  };
}
