import type { BudgetDef } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import type { UsageRecord } from '../state/events.js';

/** Limits on an LLM action (DESIGN section 6). Every field is optional; the tightest of team, agent and step applies. */
export type Budget = BudgetDef;

/** The default when no level sets `max_turns`. */
export const DEFAULT_MAX_TURNS = 20;

/** The tightest of several budgets, field by field. */
export function tightest(...budgets: (Budget | undefined)[]): Budget {
  const out: Budget = {};
  for (const b of budgets) {
    if (!b) continue;
    for (const key of ['maxTurns', 'maxTokens', 'maxCostUsd', 'timeoutMs'] as const) {
      const value = b[key];
      if (value !== undefined) out[key] = Math.min(out[key] ?? Infinity, value);
    }
  }
  return out;
}

/** A team budget, less what the run used before this step: what the step may still spend of it. */
export function remaining(team: Budget | undefined, used: UsageRecord | undefined): Budget | undefined {
  if (!team || !used) return team;
  return {
    ...team,
    maxTokens: team.maxTokens === undefined ? undefined : Math.max(0, team.maxTokens - used.input_tokens - used.output_tokens),
    maxCostUsd: team.maxCostUsd === undefined || used.cost_usd === undefined ? team.maxCostUsd : Math.max(0, team.maxCostUsd - used.cost_usd),
  };
}

/** The error that ends a step whose budget ran out; the usage so far goes with it. */
export class BudgetExceeded extends OrchError {
  constructor(
    what: string,
    readonly usage: UsageRecord,
    readonly turns: number,
  ) {
    const cost = usage.cost_usd === undefined ? '' : `, $${usage.cost_usd.toFixed(4)}`;
    super('ORCH_BUDGET_EXCEEDED', `budget exceeded: ${what} (used ${turns} turn${turns === 1 ? '' : 's'}, ${usage.input_tokens} input + ${usage.output_tokens} output tokens${cost})`, {
      hint: 'raise `budget:` on the step, the agent or the team in agent-team.yaml, or give the agent a narrower task',
      exitCode: ExitCode.runFailed,
    });
    this.name = 'BudgetExceeded';
  }
}

/** Throws when a model call may not be made: turns, tokens, cost or time are used up. */
export function checkBefore(budget: Budget, turns: number, usage: UsageRecord, startedAt: number, now = Date.now()): void {
  const maxTurns = budget.maxTurns ?? DEFAULT_MAX_TURNS;
  if (turns >= maxTurns) throw new BudgetExceeded(`max_turns ${maxTurns} reached`, usage, turns);
  checkSpent(budget, turns, usage);
  if (budget.timeoutMs !== undefined && now - startedAt >= budget.timeoutMs) throw new BudgetExceeded(`timeout ${budget.timeoutMs} ms reached`, usage, turns);
}

/** Throws when what has been used already passes the token or cost limit. */
export function checkSpent(budget: Budget, turns: number, usage: UsageRecord): void {
  const tokens = usage.input_tokens + usage.output_tokens;
  if (budget.maxTokens !== undefined && tokens > budget.maxTokens) throw new BudgetExceeded(`max_tokens ${budget.maxTokens} passed (${tokens})`, usage, turns);
  if (budget.maxCostUsd !== undefined && (usage.cost_usd ?? 0) > budget.maxCostUsd) {
    throw new BudgetExceeded(`max_cost_usd ${budget.maxCostUsd} passed ($${(usage.cost_usd ?? 0).toFixed(4)})`, usage, turns);
  }
}
