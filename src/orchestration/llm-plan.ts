import type { EngineSession } from '../engine/engine.js';
import { ExitCode, OrchError } from '../errors.js';
import type { Orchestration } from './context.js';
import type { LlmDecision, TaskEvent } from './events.js';
import type { SubtaskEntry } from './report.js';
import { RECOMMENDATION_ACTIONS, type Recommendation } from './monitor-rules.js';
import { withCarrier } from '../util/tracing.js';
import { byModel, hasModel } from './plan.js';

/**
 * LLM orchestration: with no `task.subtasks`, the planner agent's model decomposes the
 * task into subtasks of the same shape a caller writes, and with `orchestration.aggregate:
 * llm` synthesises the results. Both run as actions of the planner agent on an instance
 * of its pool, through the agent runtime (its budget, its provider, --record/--replay).
 */

/** The plan the model must answer with: explicit subtasks, as `orchestrate` takes them. */
export const PLAN_SCHEMA = {
  type: 'object',
  required: ['subtasks'],
  properties: {
    subtasks: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'input'],
        anyOf: [{ required: ['tool'] }, { required: ['action', 'agent_type'] }],
        properties: {
          id: { type: 'string', minLength: 1 },
          agent_type: { type: 'string' },
          tool: { type: 'string', minLength: 1 },
          action: { type: 'string', minLength: 1 },
          input: { type: 'object' },
          depends_on: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

const SYNTHESIS_SCHEMA = {
  type: 'object',
  required: ['result', 'summary', 'quality_score'],
  properties: { result: {}, summary: { type: 'string' }, quality_score: { type: 'number', minimum: 0, maximum: 1 } },
} as const;

/** Tools a plan may never name: orchestrating from inside a plan would recurse. */
const NOT_IN_PLANS = new Set(['orchestrate', 'assign_task', 'handle_failure', 'scale_agents']);

/**
 * What a model is told of a subtask's outcome: what ran and what came of it, not when or for
 * how long (nor, unless `instance`, on which instance of its pool), all of which differ
 * between runs of the same task: the same outcomes give the same prompt, so a recorded
 * decision replays.
 */
export function outcomeForModel(entry: SubtaskEntry, options: { instance: boolean }): Record<string, unknown> {
  const { started_at: _started, duration_ms: _took, agent_id: agentId, ...outcome } = entry;
  return options.instance ? { ...outcome, agent_id: agentId } : outcome;
}

/** The agent that plans: `orchestration.planner`, else an `orchestrator` agent with a model. */
export function plannerOf(orch: Orchestration): string | undefined {
  const named = orch.project.orchestration?.planner;
  const role = named ?? 'orchestrator';
  const agent = orch.project.agents.get(role);
  if (named !== undefined && !agent?.model) {
    throw new OrchError('ORCH_TASK', `orchestration.planner \`${named}\` is not an agent with a model`, { hint: 'give it a `model:`, or name another agent', exitCode: ExitCode.usage });
  }
  return agent?.model ? role : undefined;
}

type Journal = { append(event: TaskEvent): void };

/** The action each decision is, for the planner: what its model is asked to do (and its journal and traces show). */
const DECISION_ACTIONS: Record<LlmDecision, string> = {
  plan: 'plan_task',
  aggregate: 'synthesise_results',
  recovery: 'choose_recovery',
  monitor: 'recommend_for_pools',
};

/** Runs one action of the planner on its own instance and journals the decision. */
async function decide(
  orch: Orchestration,
  planner: string,
  taskId: string,
  decision: LlmDecision,
  input: Record<string, unknown>,
  schema: object,
  journal: Journal,
  signal: AbortSignal,
  /** The task's own session: used when it holds the planner's type (its subtasks ran there), else one is opened. */
  held?: EngineSession,
): Promise<unknown> {
  let session: EngineSession | undefined;
  try {
    const own = held?.leased().has(planner) === true;
    if (!own) session = await orch.engine.open({ owner: taskId, wanted: new Map([[planner, 1]]), signal, single: {}, fresh: true });
    const outcome = await (own && held ? held : session!).submit({
      key: `${taskId}:${decision}`,
      agentType: planner,
      action: DECISION_ACTIONS[decision],
      input,
      ids: { task: taskId },
      step: { label: `orchestrate ${decision}`, outputSchema: schema as Record<string, unknown> },
      ...withCarrier(),
    });
    if (!outcome.ok) {
      if (decision === 'plan' && outcome.error.code === 'ORCH_OUTPUT_INVALID') {
        throw new OrchError('ORCH_PLAN_INVALID', `the ${planner} model's plan is not a valid list of subtasks: ${outcome.error.message}`, {
          hint: 'give the task `subtasks` yourself, or say more in the planner\'s system_prompt',
          exitCode: ExitCode.runFailed,
        });
      }
      throw outcome.cause ?? new OrchError(outcome.error.code, outcome.error.message, { exitCode: ExitCode.runFailed });
    }
    journal.append({ type: 'llm_decision', task_id: taskId, decision, agent: planner, ...(outcome.usage && { usage: outcome.usage }), output: outcome.value });
    return outcome.value;
  } finally {
    await session?.close();
  }
}

/** The model's plan for `task`, checked: every tool and agent type it names exists. */
export async function planTask(orch: Orchestration, planner: string, taskId: string, task: Record<string, unknown>, journal: Journal, signal: AbortSignal): Promise<Record<string, unknown>[]> {
  const tools = [...orch.project.tools.values()]
    .filter((t) => !NOT_IN_PLANS.has(t.name))
    .map((t) => ({ name: t.name, description: t.description, parameters: t.inputSchema }));
  const agentTypes = [...orch.types.keys()].filter((t) => t !== planner);
  const thinking = agentTypes.filter((t) => hasModel(orch.project, t));
  const input = {
    instructions:
      'Decompose the task into subtasks. Each subtask runs one of the tools below with its input, on an agent type' +
      (thinking.length > 0 ? ', or gives an agent type of model_agent_types an action of your wording that its model carries out ("action" instead of "tool")' : '') +
      '; depends_on lists the ids of subtasks whose results it needs first. Answer with JSON only: ' +
      '{"subtasks": [{"id": "...", "tool": "<tool>", "agent_type": "<agent type>", "input": {...}, "depends_on": []}]}.',
    task,
    tools,
    agent_types: agentTypes,
    ...(thinking.length > 0 && { model_agent_types: thinking }),
  };
  const plan = (await decide(orch, planner, taskId, 'plan', input, PLAN_SCHEMA, journal, signal)) as { subtasks: Record<string, unknown>[] };
  const problems: string[] = [];
  for (const s of plan.subtasks) {
    if (s.tool === undefined && byModel(orch.project, String(s.agent_type), String(s.action))) continue;
    const tool = String(s.tool ?? s.action);
    if (!orch.project.tools.has(tool) || NOT_IN_PLANS.has(tool)) problems.push(`subtask \`${String(s.id)}\` names tool \`${tool}\`, which the project does not offer to plans`);
    if (s.agent_type !== undefined && !orch.types.has(String(s.agent_type))) problems.push(`subtask \`${String(s.id)}\` names agent type \`${String(s.agent_type)}\`, which the team lacks`);
  }
  if (problems.length > 0) {
    throw new OrchError('ORCH_PLAN_INVALID', `the ${planner} model's plan cannot run: ${problems.join('; ')}`, {
      hint: `tools a plan may use: ${tools.map((t) => t.name).join(', ') || '(none)'}; agent types: ${agentTypes.join(', ')}`,
      exitCode: ExitCode.runFailed,
    });
  }
  return plan.subtasks;
}

/**
 * The planner's choice of how to recover from an agent's failure, among the actions the
 * failure policy allows now; undefined when its answer is unusable (the caller then keeps
 * the rule-based choice). The choice and its reason are journalled with the usage.
 */
export async function chooseRecovery(
  orch: Orchestration,
  planner: string,
  taskId: string,
  situation: Record<string, unknown>,
  allowed: readonly string[],
  journal: Journal,
  signal: AbortSignal,
): Promise<{ action: string; reason: string } | undefined> {
  const input = {
    instructions: `An agent failed subtasks of this task. Choose how to recover: one of ${allowed.join(', ')} (retry: run them again on the same agent; reassign: on another instance of its type; partial: accept the task without them; abort: stop the task). Answer with JSON only: {"action": "...", "reason": "<one sentence>"}.`,
    ...situation,
  };
  const schema = { type: 'object', required: ['action', 'reason'], properties: { action: { enum: [...allowed] }, reason: { type: 'string' } } };
  try {
    const choice = (await decide(orch, planner, taskId, 'recovery', input, schema, journal, signal)) as { action: string; reason: string };
    return allowed.includes(choice.action) ? choice : undefined;
  } catch (err) {
    // A missing key is the user's to fix; anything else (a bad answer, a provider down) falls back to the rules.
    if (err instanceof OrchError && err.code === 'ORCH_LLM_KEY_MISSING') throw err;
    return undefined;
  }
}

/** The planner's synthesis of the subtask results: the task's result, a summary and a quality score. */
export async function synthesise(
  orch: Orchestration,
  planner: string,
  taskId: string,
  task: unknown,
  results: Record<string, unknown>,
  journal: Journal,
  signal: AbortSignal,
  held?: EngineSession,
): Promise<{ result: unknown; summary: string; quality_score: number }> {
  const input = {
    instructions: 'Synthesise the subtask results into the task\'s result. Answer with JSON only: {"result": ..., "summary": "<one paragraph>", "quality_score": <0 to 1>}.',
    task,
    results,
  };
  return (await decide(orch, planner, taskId, 'aggregate', input, SYNTHESIS_SCHEMA, journal, signal, held)) as { result: unknown; summary: string; quality_score: number };
}

/**
 * The planner's recommendations on the pools `monitor_agents` reports: one per agent type
 * it has something to say about, checked against a schema (one repair turn, in the loop).
 * Throws when the answer is unusable; the caller keeps the rules' recommendations then.
 */
export async function recommendForPools(
  orch: Orchestration,
  planner: string,
  taskId: string,
  situation: Record<string, unknown>,
  journal: Journal,
  signal: AbortSignal,
): Promise<Recommendation[]> {
  const types = [...orch.types.keys()];
  const input = {
    instructions:
      'Recommend what to do about the agent pools below: for an agent type that needs it, scale_up or scale_down (count: the pool size to set), ' +
      'investigate (unhealthy instances, failures), or none. rule_based lists what simple rules over the counts suggest; agree or do better. ' +
      'Answer with JSON only: {"recommendations": [{"agent_type": "...", "action": "scale_up|scale_down|investigate|none", ' +
      '"count": <pool size, for scale_up and scale_down>, "reason": "<one sentence>"}]}.',
    ...situation,
  };
  const schema = {
    type: 'object',
    required: ['recommendations'],
    properties: {
      recommendations: {
        type: 'array',
        items: {
          type: 'object',
          required: ['agent_type', 'action', 'reason'],
          properties: {
            agent_type: { enum: types },
            action: { enum: [...RECOMMENDATION_ACTIONS] },
            count: { type: 'integer', minimum: 0 },
            reason: { type: 'string', minLength: 1 },
          },
          if: { properties: { action: { enum: ['scale_up', 'scale_down'] } } },
          then: { required: ['count'] },
        },
      },
    },
  };
  const answer = (await decide(orch, planner, taskId, 'monitor', input, schema, journal, signal)) as { recommendations: Recommendation[] };
  return answer.recommendations.map(({ agent_type, action, count, reason }) => ({ agent_type, action, ...(count !== undefined && { count }), reason }));
}
