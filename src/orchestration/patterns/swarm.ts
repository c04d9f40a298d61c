import type { TaskOutcome } from '../../engine/task.js';
import type { Subtask } from '../plan.js';
import type { Execute } from '../run-graph.js';
import { writesOf } from './blackboard.js';
import { flat, noDependencies } from './centralized.js';
import { takesParam, type Pattern } from './pattern.js';
import { Rounds } from './rounds.js';

const DEFAULT_ROUNDS = 5;

/**
 * Many light members of one kind over a shared board, each following the same simple
 * rule: every subtask becomes `swarm_size` members (default: its pool's size), ids
 * `<id>-1`... Round by round every member reads the board (its `board` parameter, and
 * `member`, when its tool declares them) and may return `{writes: {key: value}}`; the
 * round's writes are applied once all members have answered, in member order. The swarm
 * stops when a round changes nothing (it has settled) or after `max_rounds` rounds; the
 * result is the board.
 */
export const swarm: Pattern = (spec, ctx) => {
  noDependencies(spec.subtasks, 'swarm');
  const templates = flat(spec.subtasks, ctx, 'swarm');
  const subtasks: Subtask[] = templates.flatMap((t) => {
    const size = spec.swarmSize ?? Math.max(1, ctx.types.get(t.agentType)?.count ?? 1);
    return Array.from({ length: size }, (_, i) => ({ ...t, id: `${t.id}-${i + 1}` }));
  });
  const maxRounds = spec.maxRounds ?? DEFAULT_ROUNDS;
  const rounds = new Rounds<Record<string, unknown> | undefined>(subtasks.map((s) => s.id));
  const board: Record<string, unknown> = {};
  let applied = 0;
  let settledIn: number | undefined;

  const wrap = (execute: Execute): Execute => async (subtask, input, where) => {
    if (!rounds.has(subtask.id)) return execute(subtask, input, where);
    let outcome: TaskOutcome | undefined;
    for (let round = 1; round <= maxRounds; round++) {
      const seesBoard = takesParam(ctx.project, subtask, 'board');
      const withBoard = seesBoard
        ? { ...input, board: { ...board }, ...(takesParam(ctx.project, subtask, 'member') && { member: subtask.id }) }
        : input;
      outcome = await execute(subtask, withBoard, where);
      if (!outcome.ok) {
        rounds.leave(subtask.id);
        return outcome;
      }
      const writes = await rounds.arrive(round, subtask.id, writesOf(outcome.value));
      // Every member gets the same map; the first to see the round applies it, once.
      if (applied < round) {
        applied = round;
        let changed = false;
        for (const w of writes.values()) {
          for (const [key, value] of Object.entries(w ?? {})) {
            if (JSON.stringify(board[key]) !== JSON.stringify(value)) changed = true;
            board[key] = value;
          }
        }
        if (!changed) settledIn ??= round;
      }
      if (settledIn !== undefined) return outcome;
    }
    return outcome as TaskOutcome;
  };

  return {
    subtasks,
    wrap,
    combine: () => ({ result: { ...board }, details: { settled: settledIn !== undefined, rounds: applied, max_rounds: maxRounds, members: subtasks.length } }),
  };
};
