import { keyMissing } from '../agents/llm-action.js';
import { planAction } from '../agents/runtime.js';
import { missingKey, resolveModel } from '../llm/models.js';
import type { Project, StepDef } from '../config/model.js';
import type { EngineSession } from '../engine/engine.js';
import { ExitCode, OrchError } from '../errors.js';
import type { StepDone, StepRequest, StepRunner } from './engine.js';
import { fanIns } from '../engine/fan-in.js';
import type { FanIn, TaskOutcome } from '../engine/task.js';
import { withCarrier } from '../util/tracing.js';

/**
 * Refuses, before any step runs, a workflow that could not finish: a step whose agent's
 * model needs a key that is not set (unless the run replays a recording), or a model
 * orch cannot place. A run that fails halfway would be worse than one that never starts.
 */
export function assertRunnable(project: Project, steps: readonly StepDef[], env: NodeJS.ProcessEnv, replaying: boolean): void {
  for (const s of steps) {
    if (planAction(project, s.agent, s.action).kind !== 'llm') continue;
    const model = resolveModel(project, s.agent, env);
    const variable = replaying ? undefined : missingKey(model, env);
    if (variable) throw keyMissing(s.agent, project.agents.get(s.agent)?.model ?? model.model, variable);
  }
}

/**
 * Runs each step as a task on the engine: queued for an instance of its agent's pool,
 * performed by the agent runtime there. `on_failure: reassign` asks for another
 * instance than the one that failed, when the run holds another healthy one.
 */
export function sessionRunner(session: EngineSession, runId: string, steps: readonly StepDef[]): StepRunner {
  // Each step that feeds a fan-in step alone names that step's first attempt: a queue engine makes them one flow.
  const joins = new Map<string, FanIn>();
  for (const [id, to] of fanIns(steps.map((s) => ({ id: s.id, needs: s.needs, task: true, step: s })))) {
    joins.set(id, { key: stepKey(runId, to.id, 1), agentType: to.step.agent, action: to.step.action });
  }
  // A plain promise chain, not an async function: this runs for every step.
  return (request) => {
    const { step, reassignFrom } = request;
    const join = joins.get(step.id);
    if (reassignFrom === undefined) return submitStep(session, runId, request, undefined, join);
    return session.healthyAgents(step.agent).then((healthy) => submitStep(session, runId, request, healthy.some((id) => id !== reassignFrom) ? reassignFrom : undefined, join));
  };
}

const stepKey = (runId: string, step: string, attempt: number): string => `${runId}:${step}:${attempt}`;

/** Queues the step's attempt, avoiding an instance when another healthy one can take it. */
function submitStep(session: EngineSession, runId: string, { step, args, attempt, signal, started, channel, needs }: StepRequest, avoid: string | undefined, joins: FanIn | undefined): Promise<StepDone> {
  try {
    const task = {
      key: stepKey(runId, step.id, attempt),
      agentType: step.agent,
      action: step.action,
      input: args,
      ids: { run: runId, step: step.id, attempt },
      avoid,
      joins,
      step: { label: `step ${step.id}`, needs, budget: step.budget, outputSchema: step.outputSchema },
      ...withCarrier(),
    };
    return session.submit(task, { onStart: started, signal, channel }).then(stepDone);
  } catch (err) {
    return Promise.reject(err);
  }
}

function stepDone(outcome: TaskOutcome): StepDone {
  if (outcome.ok) return { output: outcome.value, usage: outcome.usage };
  // The error as it was thrown inline (a ToolError keeps the script's stderr); a worker's by its code.
  throw outcome.cause ?? new OrchError(outcome.error.code, outcome.error.message, { exitCode: ExitCode.runFailed });
}
