import { ExitCode, OrchError } from '../errors.js';
import { reportedError, type TaskOutcome } from '../engine/task.js';
import type { HandlerContext } from '../tools/module.js';
import type { Orchestration } from './context.js';
import type { TaskError } from './run-graph.js';
import { withCarrier } from '../util/tracing.js';

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

export type SingleOutcome =
  | { ok: true; value: unknown; durationMs: number }
  | { ok: false; error: TaskError; durationMs: number };

export interface SingleRun {
  outcome: SingleOutcome;
  agentId: string;
  /** How long the job waited for a free instance. */
  queuedMs: number;
}

/**
 * Runs one action on one instance leased through the engine. When none may take it
 * now, the job waits in the registry's queue (visible to `monitor_agents` in any
 * process) and runs, first come first served, as soon as an instance is released.
 */
export async function runOnPool(orch: Orchestration, ctx: HandlerContext, job: Job): Promise<SingleRun> {
  if (!orch.types.has(job.agentType)) {
    throw new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `agent type \`${job.agentType}\` is no longer declared`, { exitCode: ExitCode.usage });
  }
  const queuedAt = Date.now();
  const session = await orch.engine.open({
    owner: job.taskId,
    wanted: new Map([[job.agentType, 1]]),
    signal: ctx.signal,
    single: { prefer: job.prefer, only: job.onlyPreferred, avoid: job.avoid },
  });
  const queuedMs = Date.now() - queuedAt;
  const [agentId = ''] = session.leased().get(job.agentType) ?? [];
  try {
    const outcome: TaskOutcome = await session.submit({ key: job.taskId, agentType: job.agentType, action: job.tool, input: job.input, ids: { task: job.taskId }, ...withCarrier() });
    // The instance that ran it: on a queue engine, whichever worker took the job.
    const ran = outcome.agentId ?? agentId;
    return { outcome: outcome.ok ? { ok: true, value: outcome.value, durationMs: outcome.durationMs } : { ok: false, error: reportedError(outcome.error), durationMs: outcome.durationMs }, agentId: ran, queuedMs };
  } finally {
    await session.close();
  }
}
