import { Blackboard } from '../blackboard.js';
import type { Execute } from '../run-graph.js';
import { flat } from './centralized.js';
import { takesParam, type Pattern } from './pattern.js';

/** A writer that keeps losing the race gives up after this many fresh reads. */
const MAX_CONFLICTS = 20;

/**
 * Agents work on shared state: each subtask gets the board (as its `board` parameter
 * when its tool declares one) and may return `{writes: {key: value}}`, committed with
 * compare-and-set. A commit refused because someone wrote first re-runs the subtask on
 * the fresh board, so no update is ever lost.
 */
export const blackboard: Pattern = (spec, ctx) => {
  const subtasks = flat(spec.subtasks, ctx, 'blackboard');
  const board = new Blackboard();
  let conflicts = 0;
  const wrap = (execute: Execute): Execute => async (subtask, input, where) => {
    for (let attempt = 0; ; attempt++) {
      const { values, versions } = board.snapshot();
      const withBoard = takesParam(ctx.project, subtask, 'board') ? { ...input, board: values } : input;
      const outcome = await execute(subtask, withBoard, where);
      const writes = outcome.ok ? writesOf(outcome.value) : undefined;
      if (!outcome.ok || !writes) return outcome;
      const commit = board.compareAndSet(writes, versions, outcome.agentId);
      if (commit.ok) return outcome;
      conflicts++;
      if (attempt >= MAX_CONFLICTS) {
        return { ok: false, key: outcome.key, agentId: outcome.agentId, durationMs: outcome.durationMs, error: { code: 'ORCH_CONFLICT', message: `gave up after ${attempt + 1} conflicting writes to ${commit.conflicts.join(', ')}`, retryable: true } };
      }
    }
  };
  return {
    subtasks,
    wrap,
    combine: () => ({ result: board.snapshot().values, details: { board: board.toJSON(), conflicts } }),
  };
};

/** The `{writes: {key: value}}` a member returned, if it returned any (blackboard, swarm). */
export function writesOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || !('writes' in value)) return undefined;
  const writes: unknown = value.writes;
  return typeof writes === 'object' && writes !== null && !Array.isArray(writes) ? { ...writes } : undefined;
}
