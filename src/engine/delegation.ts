import type { DelegationRequest, Performance } from '../agents/action.js';
import { OrchError } from '../errors.js';
import type { SubmitHooks } from './engine.js';
import type { TaskOutcome, TaskSpec } from './task.js';

/** A delegated run (`dispatch_to_agent`) as a task of the session that owns the caller's run. */
export function delegatedTask(owner: string, r: DelegationRequest): { spec: TaskSpec; hooks: SubmitHooks } {
  return {
    spec: {
      key: `${owner}:${r.delegation.via}`,
      agentType: r.role,
      action: r.action,
      input: r.input,
      ids: r.ids ?? {},
      step: { label: r.label, budget: r.budget },
      delegation: r.delegation,
      ...(r.carrier && { carrier: r.carrier }),
    },
    hooks: { signal: r.signal, channel: r.channel },
  };
}

/** A delegated task's outcome as its caller's action sees it: the output, or the failure thrown. */
export function delegatedResult(outcome: TaskOutcome): Performance {
  if (outcome.ok) return { output: outcome.value, usage: outcome.usage };
  throw outcome.cause ?? new OrchError(outcome.error.code, outcome.error.message);
}
