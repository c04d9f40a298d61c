import { instancesOf } from '../agents/pool.js';
import type { Registry } from '../agents/types.js';
import type { HandlerContext } from '../tools/module.js';
import { orchestration, type Orchestration } from './context.js';
import { mergePolicy } from './failure-policy.js';
import { patternFor } from './patterns/index.js';
import type { PatternContext } from './patterns/pattern.js';
import { checkGraph } from './plan.js';
import { buildReport, type OrchestrationReport } from './report.js';
import { runGraph, type Execute } from './run-graph.js';
import { readTask, taskError } from './task-spec.js';
import { newTaskId } from './task-store.js';
import { outcomeForModel, planTask, plannerOf, synthesise } from './llm-plan.js';
import { inSpan, withCarrier } from '../util/tracing.js';
import { fanIns } from '../engine/fan-in.js';
import type { FanIn } from '../engine/task.js';

/**
 * `orchestrate(task, agents?)`: plan the subtasks by the coordination pattern, lease
 * instances from the pools, run them with the failure policy, and report every
 * subtask's result or error (redacted of secrets, like the report it saves). Bad input
 * is an OrchError (exit 2) before anything runs.
 */
export async function orchestrate(params: Record<string, unknown>, ctx: HandlerContext): Promise<OrchestrationReport> {
  const orch = restrict(orchestration(ctx), params.agents);
  // The subtasks get their inputs as given; the task's files and report hide them.
  orch.tasks.learn(params);
  const taskId = newTaskId();
  const startedAt = Date.now();
  const journal = orch.tasks.journal(taskId);
  // No subtasks given: the planner's model decomposes the task (AI task decomposition).
  const given = params.task;
  const planner = isPlainObject(given) && !hasSubtasks(given) ? plannerOf(orch) : undefined;
  let taskInput = given;
  if (planner && isPlainObject(given)) {
    try {
      taskInput = { ...given, subtasks: await planTask(orch, planner, taskId, given, journal, ctx.signal) };
    } finally {
      await journal.flush();
    }
  }
  const spec = readTask(taskInput);
  const coordination = spec.coordination ?? orch.project.team?.coordination ?? 'centralized';
  const registry = await orch.agents.read();
  const prepared = patternFor(coordination)(spec, patternContext(orch, registry));
  const subtasks = checkGraph(prepared.subtasks);
  const policy = mergePolicy(orch.project.orchestration?.failurePolicy, spec.policy);

  const wanted = new Map<string, number>();
  for (const s of subtasks) if (s.tool !== undefined) wanted.set(s.agentType, (wanted.get(s.agentType) ?? 0) + 1);
  const session = await orch.engine.open({ owner: taskId, wanted, signal: ctx.signal, fresh: true });
  const leased = session.leased();
  journal.append({ type: 'task_started', task_id: taskId, tool: 'orchestrate', coordination, subtasks: subtasks.length, agents: [...leased.values()].flat() });
  // What waits for the disk overlaps the work: the plan (which handle_failure reads once the
  // task is over) is saved while the subtasks run, and the session closes while the report
  // is saved — the workers would otherwise wait for both, idle, between one task and the next.
  let planSaved: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await session.close();
      for (const agent of await unhealthyAmong(orch, leased)) {
        journal.append({ type: 'agent_unhealthy', task_id: taskId, agent_id: agent.id, failure_count: agent.failureCount });
      }
    })());
  try {
    // When each subtask started and ended (over all its attempts), for the report's timeline.
    const timings = new Map<string, { startedAt: number; endedAt: number }>();
    // Each time a subtask is sent (a retry, a reassignment, a pattern's next round) it is a
    // task of its own: `task:subtask`, then `task:subtask:2`... A queue engine keeps a
    // finished job under its key, so sending it again under that key would run nothing.
    const attempts = new Map<string, number>();
    // A subtask that feeds a fan-in alone names the fan-in's first send: a queue engine makes them one flow.
    const joins = new Map<string, FanIn>();
    for (const [id, to] of fanIns(subtasks.map((s) => ({ id: s.id, needs: s.dependsOn, task: s.tool !== undefined, s })))) {
      joins.set(id, { key: `${taskId}:${to.id}`, agentType: to.s.agentType, action: to.s.tool ?? '' });
    }
    const base: Execute = async (subtask, input, where) => {
      const startedAt = timings.get(subtask.id)?.startedAt ?? Date.now();
      const attempt = (attempts.get(subtask.id) ?? 0) + 1;
      attempts.set(subtask.id, attempt);
      try {
        return await inSpan(`subtask ${subtask.id}`, { 'orch.task.id': taskId, 'orch.subtask.id': subtask.id, 'orch.agent.type': subtask.agentType }, async (span) => {
          const outcome = await session.submit({
            key: attempt === 1 ? `${taskId}:${subtask.id}` : `${taskId}:${subtask.id}:${attempt}`,
            agentType: subtask.agentType,
            action: subtask.tool ?? '',
            input,
            ids: { task: taskId, subtask: subtask.id },
            joins: joins.get(subtask.id),
            // Names the subtask in a model's errors and replay misses, when its agent's model carries it out.
            step: { label: `subtask ${subtask.id}` },
            ...where,
            ...withCarrier(),
          });
          span.set({ 'orch.agent.instance': outcome.agentId ?? undefined, 'orch.outcome': outcome.ok ? 'ok' : outcome.error.code });
          if (!outcome.ok) span.fail(outcome.error.message);
          return outcome;
        });
      } finally {
        timings.set(subtask.id, { startedAt, endedAt: Date.now() });
      }
    };
    const running = runGraph(subtasks, {
      taskId,
      executor: session,
      policy,
      execute: prepared.wrap ? prepared.wrap(base) : base,
      onEvent: (event) => journal.append(event),
      signal: ctx.signal,
    });
    // Once the first subtasks have gone out (they leave at the end of this turn).
    planSaved = new Promise<void>((resolve) => setImmediate(resolve)).then(() => orch.tasks.savePlan(taskId, subtasks));
    planSaved.catch(() => undefined);
    const results = await running;
    const { result, details } = prepared.combine(results);
    const report = buildReport({ taskId, coordination, subtasks, results, result, startedAt, details, timings });
    const aggregator = orch.project.orchestration?.aggregate === 'llm' ? (planner ?? plannerOf(orch)) : undefined;
    if (aggregator) {
      const outputs = Object.fromEntries(Object.entries(report.subtasks).map(([id, s]) => [id, outcomeForModel(s, { instance: false })]));
      const synthesis = await synthesise(orch, aggregator, taskId, given, outputs, journal, ctx.signal, session);
      report.result = synthesis.result;
      report.summary = synthesis.summary;
      report.quality_score = synthesis.quality_score;
    }
    journal.append({ type: 'task_finished', task_id: taskId, status: report.status, succeeded: countOf(report, 'succeeded'), failed: countOf(report, 'failed') });
    // The caller gets the report as saved, secrets replaced, as a workflow's output is.
    const [saved] = await Promise.all([orch.tasks.saveReport(report), planSaved, close()]);
    return saved;
  } finally {
    // Ended by an error (a cancelled run's, a pattern's), the session closes here; the plan is kept all the same.
    await close();
    await planSaved?.catch(() => undefined);
    await journal.flush();
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function hasSubtasks(task: Record<string, unknown>): boolean {
  return Array.isArray(task.subtasks) && task.subtasks.length > 0;
}

function countOf(report: OrchestrationReport, status: 'succeeded' | 'failed'): number {
  return Object.values(report.subtasks).filter((s) => s.status === status).length;
}

async function unhealthyAmong(orch: Orchestration, leased: ReadonlyMap<string, readonly string[]>) {
  const ids = new Set([...leased.values()].flat());
  return instancesOf(await orch.agents.read()).filter((a) => ids.has(a.id) && a.status === 'unhealthy');
}

function patternContext(orch: Orchestration, registry: Registry): PatternContext {
  return {
    project: orch.project,
    types: orch.types,
    load: (type) => {
      const pool = registry.pools[type];
      if (!pool) return { instances: orch.types.get(type)?.count ?? 0, busy: 0 };
      return { instances: pool.instances.filter((a) => a.status !== 'unhealthy').length, busy: pool.instances.filter((a) => a.status === 'busy').length };
    },
  };
}

/** The seed's `agents` parameter: only these agent types take part. */
function restrict(orch: Orchestration, agents: unknown): Orchestration {
  if (agents === undefined) return orch;
  if (!Array.isArray(agents) || !agents.every((a): a is string => typeof a === 'string')) throw taskError('`agents` must be a list of agent type names');
  for (const name of agents) if (!orch.types.has(name)) throw taskError(`\`agents\` names unknown agent type \`${name}\``, `agent types: ${[...orch.types.keys()].join(', ')}`);
  return { ...orch, types: new Map([...orch.types].filter(([name]) => agents.includes(name))) };
}
