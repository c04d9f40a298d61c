import type { TaskOutcome } from '../../engine/task.js';
import { taskError } from '../task-spec.js';
import type { Execute } from '../run-graph.js';
import { flat, noDependencies } from './centralized.js';
import { takesParam, type Pattern } from './pattern.js';
import { Rounds, unanimous } from './rounds.js';

const DEFAULT_ROUNDS = 3;

/**
 * Peers talk to each other directly, round by round, with no one in charge: in each round
 * every peer runs with what the others answered in the round before (its `messages`
 * parameter, by peer id, and `round`, when its tool declares them). The exchange ends as
 * soon as every peer answers the same (agreement), or after `max_rounds` rounds; the
 * result is the agreed answer, or every peer's last answer.
 */
export const peerToPeer: Pattern = (spec, ctx) => {
  noDependencies(spec.subtasks, 'peer-to-peer');
  const subtasks = flat(spec.subtasks, ctx, 'peer-to-peer');
  if (subtasks.length < 2) throw taskError('peer-to-peer coordination needs at least two peers', 'give the task two or more subtasks, one per peer');
  const maxRounds = spec.maxRounds ?? DEFAULT_ROUNDS;
  const rounds = new Rounds<unknown>(subtasks.map((s) => s.id));
  const history: Record<string, unknown>[] = [];
  let agreedIn: number | undefined;

  const wrap = (execute: Execute): Execute => async (subtask, input, where) => {
    // A peer that left (it failed) and is tried again just runs once, outside the exchange.
    if (!rounds.has(subtask.id)) return execute(subtask, input, where);
    let outcome: TaskOutcome | undefined;
    let heard: Record<string, unknown> = {};
    for (let round = 1; round <= maxRounds; round++) {
      const talks = takesParam(ctx.project, subtask, 'messages');
      const withMessages = talks ? { ...input, messages: heard, ...(takesParam(ctx.project, subtask, 'round') && { round }) } : input;
      outcome = await execute(subtask, withMessages, where);
      if (!outcome.ok) {
        rounds.leave(subtask.id);
        return outcome;
      }
      const answers = await rounds.arrive(round, subtask.id, outcome.value);
      history[round - 1] = Object.fromEntries(answers);
      if (unanimous([...answers.values()])) {
        agreedIn ??= round;
        return outcome;
      }
      heard = Object.fromEntries([...answers].filter(([id]) => id !== subtask.id));
    }
    return outcome as TaskOutcome;
  };

  return {
    subtasks,
    wrap,
    combine: (results) => {
      const last = history.at(-1) ?? {};
      const result = agreedIn !== undefined ? Object.values(last)[0] : Object.fromEntries([...results].map(([id, r]) => [id, r.status === 'succeeded' ? r.result : null]));
      return { result, details: { agreed: agreedIn !== undefined, rounds: history.length, max_rounds: maxRounds, exchange: history } };
    },
  };
};
