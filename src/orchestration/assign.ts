import { instancesOf } from '../agents/pool.js';
import type { AgentInstance } from '../agents/types.js';
import { suggest } from '../util/suggest.js';
import { ExitCode, OrchError } from '../errors.js';
import type { HandlerContext } from '../tools/module.js';
import { orchestration, type Orchestration } from './context.js';
import type { TaskError } from './run-graph.js';
import { currentRegistry } from './monitor.js';
import { newTaskId } from './task-store.js';
import { resolveType } from './plan.js';
import { buildReport } from './report.js';
import { runOnPool } from './single-run.js';
import { readTask } from './task-spec.js';

export type AssignResult =
  | { agent_id: string; requested_agent: string; task_id: string; status: 'completed'; result: unknown; execution_time: number; queued_time: number }
  | { agent_id: string; requested_agent: string; task_id: string; status: 'failed'; error: TaskError; execution_time: number; queued_time: number };

/**
 * `assign_task(agent_id, task)`: runs `{id?, tool, input}` on that agent; if it is busy,
 * on another available instance of its type; if every one is busy, the task waits in
 * the queue and runs when one frees up. The outcome is kept for aggregate_results and
 * handle_failure under the task's id.
 */
export async function assignTask(params: Record<string, unknown>, ctx: HandlerContext): Promise<AssignResult> {
  const orch = orchestration(ctx);
  orch.tasks.learn(params);
  const agent = await findAgent(orch, params.agent_id);
  const task = readTask({ subtasks: [params.task] }).subtasks[0];
  if (!task?.tool) throw new OrchError('ORCH_TASK', '`task` must name the `tool` to run', { exitCode: ExitCode.usage });
  const named = typeof params.task === 'object' && params.task !== null && 'id' in params.task && typeof params.task.id === 'string';
  const taskId = named ? task.id : newTaskId();
  orch.tasks.dir(taskId); // an id that cannot name a folder is refused before anything runs
  const agentType = resolveType({ project: orch.project, types: orch.types }, task.id, task.tool, agent.type);
  const startedAt = Date.now();
  // Journalled like orchestrate's tasks, so `orch runs` and `orch logs` show it alike.
  const journal = orch.tasks.journal(taskId);
  journal.append({ type: 'task_started', task_id: taskId, tool: 'assign_task', coordination: 'centralized', subtasks: 1, agents: [agent.id] });
  let run: Awaited<ReturnType<typeof runOnPool>>;
  try {
    run = await runOnPool(orch, ctx, { taskId, agentType, tool: task.tool, input: task.input, prefer: agent.id });
    const ok = run.outcome.ok;
    journal.append({ type: 'task_finished', task_id: taskId, status: ok ? 'completed' : 'failed', succeeded: ok ? 1 : 0, failed: ok ? 0 : 1 });
  } finally {
    await journal.flush();
  }
  const { outcome } = run;
  const subtask = { id: taskId, agentType, tool: task.tool, input: task.input, dependsOn: [] };
  const entry = outcome.ok
    ? { status: 'succeeded' as const, agent_id: run.agentId, attempts: 1, result: outcome.value }
    : { status: 'failed' as const, agent_id: run.agentId, attempts: 1, error: outcome.error };
  const report = buildReport({ taskId, coordination: 'centralized', subtasks: [subtask], results: new Map([[taskId, entry]]), result: outcome.ok ? outcome.value : null, startedAt });
  await orch.tasks.saveReport(report);
  await orch.tasks.savePlan(taskId, [subtask]);
  const common = { agent_id: run.agentId, requested_agent: agent.id, task_id: taskId, execution_time: outcome.durationMs / 1000, queued_time: run.queuedMs / 1000 };
  // Redacted as the saved report is, so the caller sees what aggregate_results will.
  return orch.tasks.redact(outcome.ok ? { ...common, status: 'completed', result: outcome.value } : { ...common, status: 'failed', error: outcome.error });
}

/** The instance of that id, or a usage error suggesting the closest. */
export async function findAgent(orch: Orchestration, id: unknown): Promise<FoundAgent> {
  if (typeof id !== 'string') throw new OrchError('ORCH_INPUT', '`agent_id` must be a string', { exitCode: ExitCode.usage });
  const all = instancesOf(await currentRegistry(orch));
  const agent = all.find((a) => a.id === id);
  if (agent) return agent;
  // On a queue engine, the instances its reports name are its workers' (`type@worker`): a
  // live one may take work; one gone (or draining) no longer can, but its failures are handled.
  const live = (await orch.engine.instances?.()) ?? [];
  const worker = live.find((i) => i.id === id);
  const type = worker?.type ?? (orch.engine.name === 'redis' && id.includes('@') ? id.slice(0, id.indexOf('@')) : undefined);
  if (type !== undefined && orch.types.has(type)) {
    const peers = live.some((i) => i.type === type && i.id !== id);
    return engineInstance({ id, type }, worker ? 'available' : 'unhealthy', peers);
  }
  const guess = suggest(id, [...all.map((a) => a.id), ...live.map((i) => i.id)]);
  throw new OrchError('ORCH_UNKNOWN_AGENT', `no agent \`${id}\``, { hint: guess ? `did you mean \`${guess}\`?` : 'orch status lists the agents', exitCode: ExitCode.usage });
}

/** An agent `findAgent` found: the registry's, or a queue engine's worker instance, which knows whether another live worker serves its type. */
export type FoundAgent = AgentInstance & { livePeers?: boolean };

/** An engine's instance as the registry would hold it: it has no record there, so no failure is counted against it. */
function engineInstance({ id, type }: { id: string; type: string }, status: AgentInstance['status'], livePeers: boolean): FoundAgent {
  return { id, type, status, currentTask: null, owner: null, tasksCompleted: 0, failureCount: 0, totalFailures: 0, lastActive: null, createdAt: new Date().toISOString(), livePeers };
}
