import type { AgentType } from '../agents/agent-types.js';
import { ensurePool, leaseInstances, releaseInstances, type InstanceReport } from '../agents/pool.js';
import type { AgentStore } from '../agents/store.js';
import type { LeaseOwner, QueuedTask, Registry } from '../agents/types.js';
import { ExitCode, OrchError } from '../errors.js';
import { identify } from '../process/identity.js';

const POLL_MS = 100;

/** This process as the owner of leases: if it dies, others take its instances back. */
export function selfOwner(): LeaseOwner {
  return { pid: process.pid, startTime: identify(process.pid)?.startTime ?? '' };
}

export interface LeaseRequest {
  owner: string;
  wanted: ReadonlyMap<string, number>;
  signal: AbortSignal;
}

/**
 * Leases instances for a run or task: for each agent type, up to `wanted` of its
 * available instances (at least one, waiting while every instance is busy in another
 * process). A pool of size 0, or one with only unhealthy instances, cannot run
 * anything: a clear error at once, for workflow steps and subtasks alike.
 */
export async function acquire(store: AgentStore, types: ReadonlyMap<string, AgentType>, request: LeaseRequest): Promise<Map<string, string[]>> {
  const owner = selfOwner();
  const leased = new Map<string, string[]>();
  for (;;) {
    const blocked = await store.update((registry) => {
      const problems: OrchError[] = [];
      for (const [typeName, count] of request.wanted) {
        const type = types.get(typeName);
        if (!type) {
          problems.push(unknownType(typeName));
          continue;
        }
        if ((leased.get(typeName)?.length ?? 0) > 0) continue;
        const pool = ensurePool(registry, type);
        if (pool.instances.length === 0) problems.push(emptyPool(typeName));
        else if (pool.instances.every((a) => a.status === 'unhealthy')) problems.push(allUnhealthy(typeName, pool.instances.length));
        else leased.set(typeName, leaseInstances(registry, type, count, owner, request.owner).map((a) => a.id));
      }
      return problems;
    });
    if (blocked.length > 0) {
      await release(store, leased, []);
      throw blocked[0];
    }
    if ([...request.wanted.keys()].every((t) => (leased.get(t)?.length ?? 0) > 0)) return leased;
    if (request.signal.aborted) {
      await release(store, leased, []);
      throw cancelled('cancelled while waiting for a free agent');
    }
    await sleep(POLL_MS);
  }
}

/**
 * Leases one instance for one task, preferring `prefer` (assign_task). When none may take
 * it now, the task waits in the registry's queue (visible to `monitor_agents` in any
 * process) and runs, first come first served, as soon as an instance of its type is free.
 */
export async function acquireOne(
  store: AgentStore,
  type: AgentType,
  request: { owner: string; signal: AbortSignal; prefer?: string; only?: boolean; avoid?: string },
): Promise<string> {
  const owner = selfOwner();
  for (;;) {
    const agentId = await store.update((registry) => {
      const pool = ensurePool(registry, type);
      if (pool.instances.length === 0) throw emptyPool(type.name);
      const usable = pool.instances.filter((a) => a.status !== 'unhealthy' && a.id !== request.avoid && (!request.only || a.id === request.prefer));
      if (usable.length === 0) {
        throw new OrchError('ORCH_NO_HEALTHY_AGENT', `no healthy ${type.name} instance can take task ${request.owner}`, {
          hint: `orch scale --agent-type ${type.name} --count ${pool.instances.length + 1}`,
          exitCode: ExitCode.runFailed,
        });
      }
      const first = registry.queue.find((q) => q.agentType === type.name);
      if (first && first.id !== request.owner) return enqueue(registry, type.name, request.owner, owner);
      const preferred = request.prefer === undefined ? undefined : leaseInstances(registry, type, 1, owner, request.owner, request.prefer)[0];
      const other = preferred || request.only ? undefined : usable.find((a) => a.status === 'available');
      const pick = preferred ?? (other && leaseInstances(registry, type, 1, owner, request.owner, other.id)[0]);
      if (!pick) return enqueue(registry, type.name, request.owner, owner);
      registry.queue = registry.queue.filter((q) => q.id !== request.owner);
      return pick.id;
    });
    if (agentId !== undefined) return agentId;
    if (request.signal.aborted) {
      await store.update((registry) => void (registry.queue = registry.queue.filter((q) => q.id !== request.owner)));
      throw cancelled(`cancelled while task ${request.owner} waited for a free ${type.name}`);
    }
    await sleep(POLL_MS);
  }
}

/** Ends the leases, folding in what each instance did. */
export async function release(store: AgentStore, leased: ReadonlyMap<string, readonly string[]>, reports: readonly InstanceReport[]): Promise<void> {
  const ids = [...leased.values()].flat();
  if (ids.length === 0) return;
  const done = new Set(reports.map((r) => r.id));
  const idle = ids.filter((id) => !done.has(id)).map((id) => ({ id, completed: 0, failures: 0, consecutiveFailures: 0, lastActive: null }));
  await store.update((registry) => releaseInstances(registry, [...reports, ...idle]));
}

/**
 * Refuses, before anything runs, work for an agent type whose pool was scaled to 0:
 * the same answer for a workflow step and an orchestrate subtask.
 */
export function checkPools(registry: Registry, types: ReadonlyMap<string, AgentType>, used: Iterable<string>): void {
  for (const name of used) {
    const pool = registry.pools[name];
    const size = pool ? pool.desired : types.get(name)?.count;
    if (size === 0) throw emptyPool(name);
  }
}


function enqueue(registry: Registry, agentType: string, id: string, owner: LeaseOwner): undefined {
  const queue: QueuedTask[] = registry.queue;
  if (!queue.some((q) => q.id === id)) queue.push({ id, agentType, owner, queuedAt: new Date().toISOString() });
  return undefined;
}

function emptyPool(type: string): OrchError {
  return new OrchError('ORCH_POOL_EMPTY', `agent type \`${type}\` has no instances (its pool is scaled to 0)`, {
    hint: `scale it up first: orch scale --agent-type ${type} --count 1`,
    exitCode: ExitCode.usage,
  });
}

function allUnhealthy(type: string, count: number): OrchError {
  return new OrchError('ORCH_NO_HEALTHY_AGENT', `every instance of \`${type}\` (${count}) is unhealthy`, {
    hint: `replace them: orch scale --agent-type ${type} --count 0, then --count ${count}`,
    exitCode: ExitCode.runFailed,
  });
}

function unknownType(type: string): OrchError {
  return new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `agent type \`${type}\` is no longer declared`, { exitCode: ExitCode.usage });
}

function cancelled(message: string): OrchError {
  return new OrchError('ORCH_CANCELLED', message, { exitCode: ExitCode.sigint });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
