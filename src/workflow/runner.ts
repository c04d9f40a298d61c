import { planAction } from '../agents/runtime.js';
import type { Project, StepDef } from '../config/model.js';
import type { EngineSession } from '../engine/engine.js';
import { ExitCode, OrchError } from '../errors.js';
import type { StepRunner } from './engine.js';

/**
 * Refuses, before any step runs, a workflow that needs an LLM: orch does not run LLM
 * agents yet, and a run that fails halfway would be worse than one that never starts.
 */
export function assertRunnable(project: Project, steps: readonly StepDef[]): void {
  const llm = steps.filter((s) => planAction(project, s.agent, s.action).kind === 'llm');
  if (llm.length === 0) return;
  const list = llm.map((s) => `\`${s.id}\` (${s.agent}: ${s.action})`).join(', ');
  throw new OrchError('ORCH_LLM_UNAVAILABLE', `step${llm.length > 1 ? 's' : ''} ${list} need${llm.length > 1 ? '' : 's'} an LLM agent, which this version of orch cannot run yet`, {
    hint: 'make the action a tool the agent lists in `tools` (declared in gantz.yaml or provided by an MCP server)',
    exitCode: ExitCode.usage,
  });
}

/**
 * Runs each step as a task on the engine: queued for an instance of its agent's pool,
 * performed by the agent runtime there. `on_failure: reassign` asks for another
 * instance than the one that failed, when the run holds another healthy one.
 */
export function sessionRunner(session: EngineSession, runId: string): StepRunner {
  return async ({ step, args, attempt, reassignFrom, signal, started }) => {
    const others = reassignFrom === undefined ? [] : (await session.healthyAgents(step.agent)).filter((id) => id !== reassignFrom);
    const outcome = await session.submit(
      {
        key: `${runId}:${step.id}:${attempt}`,
        agentType: step.agent,
        action: step.action,
        input: args,
        ids: { run: runId, step: step.id, attempt },
        avoid: others.length > 0 ? reassignFrom : undefined,
      },
      { onStart: started, signal },
    );
    if (outcome.ok) return { output: outcome.value, usage: outcome.usage };
    // The error as it was thrown inline (a ToolError keeps the script's stderr); a worker's by its code.
    throw outcome.cause ?? new OrchError(outcome.error.code, outcome.error.message, { exitCode: ExitCode.runFailed });
  };
}
