import { ensurePool, leaseInstances, releaseInstances } from '../agents/pool.js';
import type { LeaseOwner } from '../agents/types.js';
import { ExitCode, OrchError } from '../errors.js';
import { identify } from '../process/identity.js';
import type { Orchestration } from './context.js';

const POLL_MS = 100;

/** This process as the owner of leases: if it dies, others take its instances back. */
export function selfOwner(): LeaseOwner {
  return { pid: process.pid, startTime: identify(process.pid)?.startTime ?? '' };
}

/**
 * Leases instances for a task: for each agent type, up to `wanted` of its available
 * instances (at least one, waiting while every instance is busy in another process).
 * A type with no instance, or only unhealthy ones, cannot run anything: a clear error.
 */
export async function acquire(orch: Orchestration, wanted: ReadonlyMap<string, number>, taskId: string, signal: AbortSignal): Promise<Map<string, string[]>> {
  const owner = selfOwner();
  const leased = new Map<string, string[]>();
  for (;;) {
    const blocked = await orch.agents.update((registry) => {
      const problems: OrchError[] = [];
      for (const [typeName, count] of wanted) {
        const type = orch.types.get(typeName);
        if (!type || (leased.get(typeName)?.length ?? 0) > 0) continue;
        const pool = ensurePool(registry, type);
        if (pool.instances.length === 0) problems.push(emptyPool(typeName));
        else if (pool.instances.every((a) => a.status === 'unhealthy')) problems.push(allUnhealthy(typeName, pool.instances.length));
        else leased.set(typeName, leaseInstances(registry, type, count, owner, taskId).map((a) => a.id));
      }
      return problems;
    });
    if (blocked.length > 0) {
      await release(orch, leased, []);
      throw blocked[0];
    }
    if ([...wanted.keys()].every((t) => (leased.get(t)?.length ?? 0) > 0)) return leased;
    if (signal.aborted) {
      await release(orch, leased, []);
      throw new OrchError('ORCH_CANCELLED', 'cancelled while waiting for a free agent', { exitCode: ExitCode.sigint });
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Ends the leases, folding in what each instance did. */
export async function release(
  orch: Orchestration,
  leased: ReadonlyMap<string, readonly string[]>,
  reports: Parameters<typeof releaseInstances>[1],
): Promise<void> {
  const ids = [...leased.values()].flat();
  if (ids.length === 0) return;
  const done = new Set(reports.map((r) => r.id));
  const idle = ids.filter((id) => !done.has(id)).map((id) => ({ id, completed: 0, failures: 0, consecutiveFailures: 0, lastActive: null }));
  await orch.agents.update((registry) => releaseInstances(registry, [...reports, ...idle]));
}

function emptyPool(type: string): OrchError {
  return new OrchError('ORCH_POOL_EMPTY', `agent type \`${type}\` has no instances`, {
    hint: `orch scale --agent-type ${type} --count 1`,
    exitCode: ExitCode.usage,
  });
}

function allUnhealthy(type: string, count: number): OrchError {
  return new OrchError('ORCH_NO_HEALTHY_AGENT', `every instance of \`${type}\` (${count}) is unhealthy`, {
    hint: `replace them: orch scale --agent-type ${type} --count 0, then --count ${count}`,
    exitCode: ExitCode.runFailed,
  });
}
