import { isErrorCode, isRetryable, type ErrorCode } from '../error-codes.js';
import { isOrchError } from '../errors.js';
import type { StepContext } from '../agents/llm-action.js';
import type { Usage } from '../agents/runtime.js';
import type { DelegationContext } from '../agents/action.js';

/** Which run, step, task or subtask a piece of work belongs to: carried into audit lines and worker messages. */
export interface WorkIds {
  run?: string;
  step?: string;
  attempt?: number;
  task?: string;
  subtask?: string;
}

/**
 * One unit of work for an agent type: an action with its input. The engine picks the
 * instance; `pin` and `avoid` are constraints a queue backend can honour with
 * per-instance routing.
 */
export interface TaskSpec {
  /** Unique per submission (`run:step:attempt`, `task:subtask`), for logs, reports and job ids. */
  key: string;
  agentType: string;
  /** What the agent is asked to do: a tool it may use, a server tool, or (with a model) an action for its LLM. */
  action: string;
  input: Record<string, unknown>;
  ids: WorkIds;
  /** Run on this instance only (retry on the same agent, assign_task). */
  pin?: string;
  /** Run on any instance but this one (reassignment after a failure). */
  avoid?: string;
  /** A workflow step's label, needed outputs, budget and output schema, for an LLM action. */
  step?: StepContext;
  /** A run another agent delegated (`dispatch_to_agent`): the call it serves and the chain above it. */
  delegation?: DelegationContext;
  /**
   * The fan-in this task's result goes to: the key, agent type and action of the task that
   * will gather it and the other inputs of that task (its first attempt). A queue engine
   * makes them one BullMQ flow, the fan-in the parent of its inputs; the local engine has
   * no use for it. The scheduler still decides whether and with what input the fan-in runs.
   */
  joins?: FanIn;
  /** Trace context (W3C `traceparent` and the like), reserved so every worker message can carry it. */
  carrier?: Record<string, string>;
}

/** The task a fan-out's results are gathered by, named before it is submitted. */
export interface FanIn {
  key: string;
  agentType: string;
  action: string;
}

/** A failure as every scheduler reads it: a stable code, a message, and whether another attempt may succeed. */
export interface TaskFailure {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** How a task ended. Engines resolve with a failure; they never reject for one. */
export type TaskOutcome = (
  | { ok: true; key: string; agentId: string; value: unknown; usage?: Usage; durationMs: number }
  | { ok: false; key: string; agentId: string | null; error: TaskFailure; durationMs: number; cause?: unknown }
) & {
  /** Times the task was started again after the worker running it was lost (the queue engine runs a task at least once). */
  reexecuted?: number;
};

/** Whether another attempt of work that failed with this code may succeed (the registry says). */
export function retryableCode(code: ErrorCode): boolean {
  return isRetryable(code);
}

export function isCancellation(error: Pick<TaskFailure, 'code'>): boolean {
  return error.code === 'ORCH_CANCELLED';
}

/** Whether a failure says something about the instance that ran it, and so counts towards unhealthy. */
export function blamesAgent(error: TaskFailure): boolean {
  return error.retryable && !isCancellation(error);
}

/** Any thrown value as a failure: OrchErrors keep their code; anything else is a tool failure. */
export function toFailure(err: unknown): TaskFailure {
  if (isOrchError(err)) return { code: err.code, message: err.message, retryable: isRetryable(err.code) };
  if (err instanceof Error) {
    const code = 'code' in err && isErrorCode(err.code) ? err.code : 'ORCH_TOOL_FAILED';
    return { code, message: err.message, retryable: isRetryable(code) };
  }
  return { code: 'ORCH_TOOL_FAILED', message: String(err), retryable: true };
}

/** A failure for the report, as `{code, message}` — the shape reports and the task journal have always had. */
export function reportedError(error: TaskFailure): { code: ErrorCode; message: string } {
  return { code: error.code, message: error.message };
}
