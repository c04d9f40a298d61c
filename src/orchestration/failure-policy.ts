import { ExitCode, OrchError } from '../errors.js';

/**
 * What happens when a subtask fails, escalating in the seed's order: retry on the same
 * agent, reassign to another instance, then give up on the subtask (`partial`: the rest
 * goes on) or on the whole task (`abort`).
 */
export interface FailurePolicy {
  maxRetries: number;
  maxReassignments: number;
  onExhausted: 'partial' | 'abort';
}

export type RecoveryAction = 'retry' | 'reassign' | 'partial' | 'abort';

export const DEFAULT_POLICY: FailurePolicy = { maxRetries: 1, maxReassignments: 1, onExhausted: 'partial' };

/** The defaults overridden by each given part in turn; unset fields do not override. */
export function mergePolicy(...parts: (Partial<FailurePolicy> | undefined)[]): FailurePolicy {
  const policy = { ...DEFAULT_POLICY };
  for (const part of parts) {
    if (part?.maxRetries !== undefined) policy.maxRetries = part.maxRetries;
    if (part?.maxReassignments !== undefined) policy.maxReassignments = part.maxReassignments;
    if (part?.onExhausted !== undefined) policy.onExhausted = part.onExhausted;
  }
  return policy;
}

/** Attempts made so far after the first one. */
export interface RecoveryHistory {
  retries: number;
  reassignments: number;
}

/** The next step for a failed subtask, from the policy and what is still possible. */
export function decideRecovery(
  policy: FailurePolicy,
  history: RecoveryHistory,
  can: { retry: boolean; reassign: boolean },
): RecoveryAction {
  if (history.retries < policy.maxRetries && can.retry) return 'retry';
  if (history.reassignments < policy.maxReassignments && can.reassign) return 'reassign';
  return policy.onExhausted;
}

/** `{max_retries, max_reassignments, on_exhausted}` as a caller writes it. */
export function readPolicy(raw: unknown): Partial<FailurePolicy> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw policyError('`failure_policy` must be an object');
  const value: Record<string, unknown> = { ...raw };
  const out: Partial<FailurePolicy> = {};
  if (value.max_retries !== undefined) out.maxRetries = count(value.max_retries, 'max_retries');
  if (value.max_reassignments !== undefined) out.maxReassignments = count(value.max_reassignments, 'max_reassignments');
  if (value.on_exhausted !== undefined) {
    if (value.on_exhausted !== 'partial' && value.on_exhausted !== 'abort') throw policyError('`failure_policy.on_exhausted` must be `partial` or `abort`');
    out.onExhausted = value.on_exhausted;
  }
  return out;
}

function count(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
    throw policyError(`\`failure_policy.${key}\` must be a whole number from 0 to 100`);
  }
  return value;
}

function policyError(message: string): OrchError {
  return new OrchError('ORCH_TASK', message, { exitCode: ExitCode.usage });
}
