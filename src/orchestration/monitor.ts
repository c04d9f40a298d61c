import { ensurePool, instancesOf } from '../agents/pool.js';
import type { AgentInstance, Registry } from '../agents/types.js';
import { suggest } from '../util/suggest.js';
import { ExitCode, OrchError } from '../errors.js';
import type { HandlerContext } from '../tools/module.js';
import { orchestration, type Orchestration } from './context.js';
import { engineTarget, type EngineTarget } from '../engine/redis/target.js';
import { analysePools, recommendationText, utilization, type Bottleneck, type PoolSnapshot, type Recommendation } from './monitor-rules.js';
import { plannerOf, recommendForPools } from './llm-plan.js';
import { newTaskId } from './task-store.js';

export interface AgentView {
  agent_id: string;
  type: string;
  status: AgentInstance['status'];
  health: 'healthy' | 'unhealthy';
  current_task: string | null;
  tasks_completed: number;
  failure_count: number;
  total_failures: number;
  last_active: string | null;
}

/** The seed's `monitor_agents` result, plus pools and queue depth the rules used. */
export interface MonitorReport {
  total_agents: number;
  available: number;
  busy: number;
  unhealthy: number;
  agents: AgentView[];
  utilization: { overall: number; by_type: Record<string, number> };
  pools: PoolSnapshot[];
  bottlenecks: Bottleneck[];
  /** What to do, as sentences: the rules', or the planner model's when it was asked and answered. */
  recommendations: string[];
  /** The same as data. */
  recommended_actions: Recommendation[];
  /** `model`: the planner agent's model made them (its decision is the task `advice_task`'s journal). */
  recommended_by: 'rules' | 'model';
  /** Why a model that was asked is not the one that recommended. */
  recommendation_note?: string;
  advice_task?: string;
}

/** The registry with every declared type's pool present (not saved: reading changes nothing). */
export async function currentRegistry(orch: Orchestration): Promise<Registry> {
  const registry = await orch.agents.read();
  for (const type of orch.types.values()) ensurePool(registry, type);
  return registry;
}

export function poolSnapshots(registry: Registry): PoolSnapshot[] {
  return Object.values(registry.pools).map((pool) => {
    const count = (status: AgentInstance['status']) => pool.instances.filter((a) => a.status === status).length;
    return {
      type: pool.type,
      desired: pool.desired,
      instances: pool.instances.length,
      available: count('available'),
      busy: count('busy'),
      unhealthy: count('unhealthy'),
      queued: registry.queue.filter((q) => q.agentType === pool.type).length,
    };
  });
}

/**
 * `monitor_agents(agent_ids?, recommend?)`: status, health, utilisation, bottlenecks, advice.
 * The advice is the rules' unless the call asks for the planner model's (`recommend: true`,
 * or `orchestration.monitor: llm`); an answer that is unusable, or a planner that cannot be
 * asked now, leaves the rules' advice with a note saying why.
 */
export async function monitorAgents(params: Record<string, unknown>, ctx: HandlerContext): Promise<MonitorReport> {
  const orch = orchestration(ctx);
  const report = await monitor(orch, params);
  const asked = params.recommend ?? orch.project.orchestration?.monitor === 'llm';
  if (typeof asked !== 'boolean') throw new OrchError('ORCH_INPUT', '`recommend` must be true or false', { exitCode: ExitCode.usage });
  if (!asked) return report;
  const planner = plannerOf(orch);
  if (!planner) {
    const note = "no planner agent has a model (an `orchestrator` agent with a `model:`, or orchestration.planner): these are the rules' recommendations";
    return { ...report, recommendation_note: note };
  }
  // The planner may be the agent calling this tool: with no instance free, asking it would wait on itself.
  if ((report.pools.find((p) => p.type === planner)?.available ?? 0) === 0) {
    return { ...report, recommendation_note: `no ${planner} instance is free to ask (the one calling may be it): these are the rules' recommendations` };
  }
  return adviseWithModel(orch, planner, report, ctx.signal);
}

async function adviseWithModel(orch: Orchestration, planner: string, report: MonitorReport, signal: AbortSignal): Promise<MonitorReport> {
  const taskId = newTaskId('monitor');
  const journal = orch.tasks.journal(taskId);
  journal.append({ type: 'task_started', task_id: taskId, tool: 'monitor_agents', subtasks: 0, agents: [] });
  // What the model is told holds no times, so the same pools give the same prompt (and a recording replays).
  const situation = {
    pools: report.pools,
    agents: report.agents.map((a) => ({
      agent_id: a.agent_id,
      type: a.type,
      status: a.status,
      failure_count: a.failure_count,
      total_failures: a.total_failures,
    })),
    bottlenecks: report.bottlenecks,
    rule_based: report.recommended_actions,
  };
  try {
    const actions = await recommendForPools(orch, planner, taskId, situation, journal, signal);
    journal.append({ type: 'task_finished', task_id: taskId, status: 'completed', succeeded: 1, failed: 0 });
    const recommendations = actions.flatMap((a) => recommendationText(a) ?? []);
    return { ...report, recommendations, recommended_actions: actions, recommended_by: 'model', advice_task: taskId };
  } catch (err) {
    // A missing key is the user's to fix; a bad answer (after its repair turn) or a provider down leaves the rules' advice.
    if (err instanceof OrchError && err.code === 'ORCH_LLM_KEY_MISSING') throw err;
    journal.append({ type: 'task_finished', task_id: taskId, status: 'failed', succeeded: 0, failed: 1 });
    const why = err instanceof Error ? err.message : String(err);
    return { ...report, recommendation_note: `the ${planner} model's recommendations could not be used (${why}): these are the rules'`, advice_task: taskId };
  } finally {
    await journal.flush();
  }
}

/** The same for `orch status`. */
export async function monitor(orch: Orchestration, params: Record<string, unknown>): Promise<MonitorReport> {
  const target = engineTarget(orch.project);
  if (target) return queueMonitor(orch, target);
  const registry = await currentRegistry(orch);
  const all = instancesOf(registry);
  const ids = params.agent_ids;
  let agents = all;
  if (ids !== undefined) {
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
      throw new OrchError('ORCH_INPUT', '`agent_ids` must be a list of agent ids', { exitCode: ExitCode.usage });
    }
    const known = new Set(all.map((a) => a.id));
    const unknown = ids.find((id) => !known.has(id));
    if (unknown !== undefined) {
      const guess = suggest(unknown, [...known]);
      throw new OrchError('ORCH_UNKNOWN_AGENT', `no agent \`${unknown}\``, { hint: guess ? `did you mean \`${guess}\`?` : 'orch status lists the agents', exitCode: ExitCode.usage });
    }
    agents = all.filter((a) => ids.includes(a.id));
  }
  const pools = poolSnapshots(registry);
  const busy = agents.filter((a) => a.status === 'busy').length;
  const unhealthy = agents.filter((a) => a.status === 'unhealthy').length;
  return {
    total_agents: agents.length,
    available: agents.filter((a) => a.status === 'available').length,
    busy,
    unhealthy,
    agents: agents.map(view),
    utilization: {
      overall: agents.length - unhealthy === 0 ? 0 : Math.round((busy / (agents.length - unhealthy)) * 100) / 100,
      by_type: Object.fromEntries(pools.map((p) => [p.type, utilization(p)])),
    },
    pools,
    ...rulesAdvice(pools),
  };
}

/**
 * The pools on the queue engine: a type's instances are its pool size (jobs that may run
 * at once across the workers), busy and queued are its queue's active and waiting jobs,
 * and each live worker is one agent per type it serves.
 */
async function queueMonitor(orch: Orchestration, target: EngineTarget): Promise<MonitorReport> {
  const { RedisEngine } = await import('../engine/redis/redis-engine.js');
  const { pools, workers } = await new RedisEngine({ project: orch.project, target }).snapshot();
  const agents: AgentView[] = workers.flatMap((w) =>
    w.types.map((type) => ({
      agent_id: `${type}@${w.id}`,
      type,
      status: w.running > 0 ? 'busy' : 'available',
      health: 'healthy',
      current_task: null,
      tasks_completed: 0,
      failure_count: 0,
      total_failures: 0,
      last_active: new Date(w.beat).toISOString(),
    })),
  );
  const busy = pools.reduce((n, p) => n + p.busy, 0);
  const instances = pools.reduce((n, p) => n + p.instances, 0);
  return {
    total_agents: instances,
    available: pools.reduce((n, p) => n + p.available, 0),
    busy,
    unhealthy: 0,
    agents,
    utilization: {
      overall: instances === 0 ? 0 : Math.round((busy / instances) * 100) / 100,
      by_type: Object.fromEntries(pools.map((p) => [p.type, utilization(p)])),
    },
    pools,
    ...rulesAdvice(pools),
  };
}

/** Bottlenecks and the rules' recommendations, as a report without a model's advice has them. */
function rulesAdvice(pools: readonly PoolSnapshot[]): Pick<MonitorReport, 'bottlenecks' | 'recommendations' | 'recommended_actions' | 'recommended_by'> {
  const { bottlenecks, recommendations, actions } = analysePools(pools);
  return { bottlenecks, recommendations, recommended_actions: actions, recommended_by: 'rules' };
}

function view(a: AgentInstance): AgentView {
  return {
    agent_id: a.id,
    type: a.type,
    status: a.status,
    health: a.status === 'unhealthy' ? 'unhealthy' : 'healthy',
    current_task: a.currentTask,
    tasks_completed: a.tasksCompleted,
    failure_count: a.failureCount,
    total_failures: a.totalFailures,
    last_active: a.lastActive,
  };
}
