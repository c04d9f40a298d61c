import type { EngineSession } from '../engine/engine.js';
import { isCancellation, reportedError, type TaskFailure, type TaskOutcome } from '../engine/task.js';
import type { TaskError, TaskEvent } from './events.js';
import { decideRecovery, type FailurePolicy, type RecoveryHistory } from './failure-policy.js';
import type { Subtask } from './plan.js';
import { resolveInput } from './refs.js';

export type { TaskError } from './events.js';

/** How one subtask ended; each appears exactly once in a report. */
export type SubtaskResult = (
  | { status: 'succeeded'; agent_id: string | null; attempts: number; result: unknown }
  | { status: 'failed'; agent_id: string | null; attempts: number; error: TaskError }
) & {
  /** Times a worker that was lost had started it, so that it ran again (queue engine: at least once). */
  reexecuted?: number;
};

export type Execute = (subtask: Subtask, input: Record<string, unknown>, where: { pin?: string; avoid?: string }) => Promise<TaskOutcome>;

export interface GraphOptions {
  taskId: string;
  executor: Pick<EngineSession, 'healthyAgents'>;
  policy: FailurePolicy;
  /** Runs one attempt; patterns (blackboard) wrap the executor here. */
  execute: Execute;
  onEvent: (event: TaskEvent) => void;
  signal?: AbortSignal;
}

/** Errors no retry or other agent can fix: the call's own, or no instance left to take it. */
function permanent(error: TaskFailure): boolean {
  return !error.retryable;
}

/**
 * Runs subtasks as their dependencies allow, as many at once as the pools take, and
 * settles every one exactly once: succeeded, failed (after the failure policy), failed
 * because a dependency failed, or failed because the task was aborted.
 */
export function runGraph(subtasks: readonly Subtask[], options: GraphOptions): Promise<Map<string, SubtaskResult>> {
  const results = new Map<string, SubtaskResult>();
  const values = new Map<string, unknown>();
  const waitingOn = new Map(subtasks.map((s) => [s.id, new Set(s.dependsOn)]));
  const dependents = new Map<string, Subtask[]>();
  for (const s of subtasks) for (const dep of s.dependsOn) dependents.set(dep, [...(dependents.get(dep) ?? []), s]);
  let aborted: TaskError | undefined;
  const started = new Set<string>();

  return new Promise((resolve) => {
    const settle = (id: string, result: SubtaskResult): void => {
      if (results.has(id)) throw new Error(`subtask ${id} settled twice`);
      results.set(id, result);
      if (result.status === 'succeeded') values.set(id, result.result);
      for (const next of dependents.get(id) ?? []) {
        if (results.has(next.id)) continue;
        if (result.status === 'failed') {
          settle(next.id, { status: 'failed', agent_id: null, attempts: 0, error: { code: 'ORCH_DEPENDENCY_FAILED', message: `not run: subtask ${id} failed` } });
          continue;
        }
        const pending = waitingOn.get(next.id);
        pending?.delete(id);
        if (pending?.size === 0) start(next);
      }
      if (results.size === subtasks.length) resolve(results);
    };
    const abortAll = (reason: TaskError): void => {
      aborted ??= reason;
      for (const s of subtasks) if (!started.has(s.id) && !results.has(s.id)) settle(s.id, { status: 'failed', agent_id: null, attempts: 0, error: reason });
    };
    const start = (subtask: Subtask): void => {
      if (aborted) return settle(subtask.id, { status: 'failed', agent_id: null, attempts: 0, error: aborted });
      started.add(subtask.id);
      void runOne(subtask, values, options, abortAll).then((result) => settle(subtask.id, result));
    };
    options.signal?.addEventListener('abort', () => abortAll({ code: 'ORCH_CANCELLED', message: 'not run: the task was cancelled' }), { once: true });
    if (subtasks.length === 0) resolve(results);
    for (const s of subtasks) if (s.dependsOn.length === 0) start(s);
  });
}

/** A subtask's attempts, and how many of them the queue engine had to start again after losing a worker. */
async function runOne(subtask: Subtask, values: ReadonlyMap<string, unknown>, options: GraphOptions, abortAll: (reason: TaskError) => void): Promise<SubtaskResult> {
  let reexecuted = 0;
  const execute: Execute = async (s, input, where) => {
    const outcome = await options.execute(s, input, where);
    reexecuted += outcome.reexecuted ?? 0;
    return outcome;
  };
  const result = await runAttempts(subtask, values, { ...options, execute }, abortAll);
  return reexecuted > 0 ? { ...result, reexecuted } : result;
}

async function runAttempts(subtask: Subtask, values: ReadonlyMap<string, unknown>, options: GraphOptions, abortAll: (reason: TaskError) => void): Promise<SubtaskResult> {
  const input = resolveInput(subtask.input, values);
  // A manager without a tool (hierarchical) gathers its sub-team's results.
  if (subtask.tool === undefined) return { status: 'succeeded', agent_id: null, attempts: 0, result: Object.fromEntries(subtask.dependsOn.map((d) => [d, values.get(d)])) };
  const history: RecoveryHistory = { retries: 0, reassignments: 0 };
  let where: { pin?: string; avoid?: string } = {};
  // The last attempt that reached an agent; a retry cancelled while queued never did.
  let ran: { agentId: string | null; attempts: number } = { agentId: null, attempts: 0 };
  for (let attempt = 1; ; attempt++) {
    const outcome = await options.execute(subtask, input, where);
    if (outcome.ok) return { status: 'succeeded', agent_id: outcome.agentId, attempts: attempt, result: outcome.value };
    const { agentId } = outcome;
    const error = reportedError(outcome.error);
    if (agentId !== null) ran = { agentId, attempts: attempt };
    options.onEvent({ type: 'subtask_failed', task_id: options.taskId, subtask: subtask.id, agent_id: agentId, attempt, error });
    // Stopped on purpose: no recovery, and the report names the agent it was running on.
    if (isCancellation(error)) return { status: 'failed', agent_id: ran.agentId, attempts: ran.attempts, error };
    const healthy = await options.executor.healthyAgents(subtask.agentType);
    const fixable = !permanent(outcome.error) && agentId !== null;
    const action = decideRecovery(options.policy, history, {
      retry: fixable && healthy.includes(agentId),
      reassign: fixable && healthy.some((id) => id !== agentId),
    });
    const reason = `${action} after attempt ${attempt}: ${error.message}`;
    options.onEvent({ type: 'recovery', task_id: options.taskId, subtask: subtask.id, agent_id: agentId, action, reason });
    switch (action) {
      case 'retry':
        history.retries++;
        where = agentId === null ? {} : { pin: agentId };
        break;
      case 'reassign':
        history.reassignments++;
        where = agentId === null ? {} : { avoid: agentId };
        break;
      case 'partial':
        return { status: 'failed', agent_id: agentId, attempts: attempt, error };
      case 'abort':
        abortAll({ code: 'ORCH_ABORTED', message: `not run: the task was aborted after subtask ${subtask.id} failed` });
        return { status: 'failed', agent_id: agentId, attempts: attempt, error };
      default: {
        const never: never = action;
        throw new Error(`unknown recovery ${String(never)}`);
      }
    }
  }
}
