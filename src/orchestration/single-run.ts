import { ensurePool, leaseInstances } from '../agents/pool.js';
import type { LeaseOwner, QueuedTask } from '../agents/types.js';
import { ExitCode, OrchError } from '../errors.js';
import type { HandlerContext } from '../tools/module.js';
import type { Orchestration } from './context.js';
import type { TaskOutcome, TaskRunner } from './executor.js';
import { release, selfOwner } from './lease.js';
import { LocalExecutor } from './local-executor.js';
import { ProcessRunners } from './process-runner.js';

const POLL_MS = 100;

export interface Job {
  taskId: string;
  agentType: string;
  tool: string;
  input: Record<string, unknown>;
  /** Run on this instance when it is free. */
  prefer?: string;
  /** Only on `prefer`: wait for it rather than take another instance. */
  onlyPreferred?: boolean;
  /** Never on this instance. */
  avoid?: string;
}

export interface SingleRun {
  outcome: TaskOutcome;
  agentId: string;
  /** How long the job waited in the registry's queue for a free instance. */
  queuedMs: number;
}

/**
 * Runs one tool call on one leased instance. When none may take it now, the job waits
 * in the registry's queue (visible to `monitor_agents` in any process) and runs, first
 * come first served, as soon as an instance of its type is released.
 */
export async function runOnPool(orch: Orchestration, ctx: HandlerContext, job: Job): Promise<SingleRun> {
  const type = orch.types.get(job.agentType);
  if (!type) throw new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `agent type \`${job.agentType}\` is no longer declared`, { exitCode: ExitCode.usage });
  const owner = selfOwner();
  const queuedAt = Date.now();
  let agentId: string | undefined;
  for (;;) {
    agentId = await orch.agents.update((registry) => {
      const pool = ensurePool(registry, type);
      const usable = pool.instances.filter((a) => a.status !== 'unhealthy' && a.id !== job.avoid && (!job.onlyPreferred || a.id === job.prefer));
      if (usable.length === 0) throw new OrchError('ORCH_NO_HEALTHY_AGENT', `no healthy ${job.agentType} instance can take task ${job.taskId}`, { hint: `orch scale --agent-type ${job.agentType} --count ${pool.instances.length + 1}`, exitCode: ExitCode.runFailed });
      const first = registry.queue.find((q) => q.agentType === job.agentType);
      if (first && first.id !== job.taskId) return enqueue(registry.queue, job, owner);
      const preferred = job.prefer === undefined ? undefined : leaseInstances(registry, type, 1, owner, job.taskId, job.prefer)[0];
      const other = preferred || job.onlyPreferred ? undefined : usable.find((a) => a.status === 'available');
      const pick = preferred ?? (other && leaseInstances(registry, type, 1, owner, job.taskId, other.id)[0]);
      if (!pick) return enqueue(registry.queue, job, owner);
      registry.queue = registry.queue.filter((q) => q.id !== job.taskId);
      return pick.id;
    });
    if (agentId !== undefined) break;
    if (ctx.signal.aborted) {
      await orch.agents.update((registry) => void (registry.queue = registry.queue.filter((q) => q.id !== job.taskId)));
      throw new OrchError('ORCH_CANCELLED', `cancelled while task ${job.taskId} waited for a free ${job.agentType}`, { exitCode: ExitCode.sigint });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const queuedMs = Date.now() - queuedAt;
  const leased = new Map([[job.agentType, [agentId]]]);
  const processes = new ProcessRunners(orch.project);
  const inline: TaskRunner = (_agent, tool, input) => ctx.callTool(tool, input);
  const executor = new LocalExecutor(leased, () => (type.isolation === 'process' ? processes.runner : inline), ctx.signal);
  try {
    const outcome = await executor.submit({ key: job.taskId, agentType: job.agentType, tool: job.tool, input: job.input });
    return { outcome, agentId, queuedMs };
  } finally {
    await executor.close();
    await processes.close();
    await release(orch, leased, executor.reports());
  }
}

function enqueue(queue: QueuedTask[], job: Job, owner: LeaseOwner): undefined {
  if (!queue.some((q) => q.id === job.taskId)) queue.push({ id: job.taskId, agentType: job.agentType, owner, queuedAt: new Date().toISOString() });
  return undefined;
}
