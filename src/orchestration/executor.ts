import type { InstanceReport } from '../agents/pool.js';
import { isErrorCode, type ErrorCode } from '../error-codes.js';

/**
 * One unit of work for an agent type. The executor picks the instance; `pin` and `avoid`
 * are constraints a queue backend can honour with per-instance routing.
 */
export interface TaskSpec {
  /** Unique per submission, for logs and the report. */
  key: string;
  agentType: string;
  tool: string;
  input: Record<string, unknown>;
  /** Run on this instance only (retry on the same agent, assign_task). */
  pin?: string;
  /** Run on any instance but this one (reassignment after a failure). */
  avoid?: string;
}

export interface TaskError {
  code: ErrorCode;
  message: string;
}

/** How a task ended. Executors resolve with a failure; they never reject for one. */
export type TaskOutcome =
  | { ok: true; key: string; agentId: string; value: unknown; durationMs: number }
  | { ok: false; key: string; agentId: string | null; error: TaskError; durationMs: number };

/** What a pool of one type can still do, for reassignment and monitoring. */
export interface Capacity {
  healthy: number;
  busy: number;
  queued: number;
}

/**
 * Runs tasks on pools of agent instances. The local executor queues per agent type in
 * this process; a distributed one (one queue per agent type, scale = worker concurrency)
 * implements the same calls, so orchestration code never knows which one runs its tasks.
 */
export interface Executor {
  submit(task: TaskSpec): Promise<TaskOutcome>;
  capacity(agentType: string): Capacity;
  /** Ids of the type's instances that may still take work. */
  healthyAgents(agentType: string): string[];
  /** What each instance did, to fold into the registry when the leases end. */
  reports(): InstanceReport[];
  /** Stops workers; queued tasks resolve as cancelled. */
  close(): Promise<void>;
}

/** Runs one tool call on one instance; throws when the tool fails. */
export type TaskRunner = (agent: { id: string; type: string }, tool: string, input: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** Codes of a task that was stopped, not one that failed: never retried, never held against an agent. */
const CANCELLED = new Set<ErrorCode>(['ORCH_CANCELLED']);

/** Codes of errors in the call itself (bad input, unknown or misdeclared tool): no agent can do better. */
const CALLER_ERRORS = new Set<ErrorCode>(['ORCH_INPUT', 'ORCH_TASK', 'ORCH_UNKNOWN_TOOL', 'ORCH_TOOL_INVALID']);

export function isCancellation(error: TaskError): boolean {
  return CANCELLED.has(error.code);
}

export function isCallerError(error: TaskError): boolean {
  return CALLER_ERRORS.has(error.code);
}

/** Whether a failure says something about the instance that ran it, and so counts towards unhealthy. */
export function blamesAgent(error: TaskError): boolean {
  return !isCancellation(error) && !isCallerError(error);
}

/** An error as a report shows it: a stable code and a message. */
export function taskError(err: unknown): TaskError {
  if (err instanceof Error) {
    const code = 'code' in err && isErrorCode(err.code) ? err.code : 'ORCH_TOOL_FAILED';
    return { code, message: err.message };
  }
  return { code: 'ORCH_TOOL_FAILED', message: String(err) };
}
