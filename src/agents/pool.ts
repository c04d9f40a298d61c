import type { AgentType } from './agent-types.js';
import { UNHEALTHY_AFTER, type AgentInstance, type LeaseOwner, type PoolRecord, type Registry } from './types.js';

/**
 * The result fields of the seed's `scale_agents`. `previous_count` and `new_count` are
 * the pool's desired size before and after the call, so `action` says which way the
 * size went. Busy instances above the new size stay until their tasks end: `draining`
 * lists them, so the pool may hold more instances than `new_count` for a while.
 */
export type ScaleResult =
  | { action: 'scale_up'; agent_type: string; previous_count: number; new_count: number; agents_added: string[]; draining: string[] }
  | { action: 'scale_down'; agent_type: string; previous_count: number; new_count: number; agents_removed: string[]; draining: string[] };

/** What an instance did while leased, folded into the registry on release. */
export interface InstanceReport {
  id: string;
  /** Tasks that succeeded. */
  completed: number;
  /** Failures since the last success of the lease. */
  consecutiveFailures: number;
  failures: number;
  lastActive: string | null;
}

function createInstance(pool: PoolRecord, now: string): AgentInstance {
  const id = `${pool.type}-${pool.nextId++}`;
  return {
    id,
    type: pool.type,
    status: 'available',
    currentTask: null,
    owner: null,
    tasksCompleted: 0,
    failureCount: 0,
    totalFailures: 0,
    lastActive: null,
    createdAt: now,
  };
}

/** The pool of a type, created at its declared size the first time it is used. */
export function ensurePool(registry: Registry, type: AgentType, now = new Date().toISOString()): PoolRecord {
  let pool = registry.pools[type.name];
  if (!pool) {
    pool = { type: type.name, desired: type.count, nextId: 1, instances: [] };
    while (pool.instances.length < type.count) pool.instances.push(createInstance(pool, now));
    registry.pools[type.name] = pool;
  }
  return pool;
}

/**
 * Sets a pool's size. Scaling down removes idle instances only, unhealthy ones first;
 * busy ones stay until their lease ends (they are listed as `draining`). Instances
 * still draining from an earlier scale-down count towards a larger size again.
 */
export function scalePool(registry: Registry, type: AgentType, count: number, now = new Date().toISOString()): ScaleResult {
  const pool = ensurePool(registry, type, now);
  const previous = pool.desired;
  pool.desired = count;
  const added: AgentInstance[] = [];
  while (pool.instances.length + added.length < count) added.push(createInstance(pool, now));
  pool.instances.push(...added);
  // Newest idle instances go first, so long-lived ones keep their history.
  const idle = [...pool.instances.filter((a) => a.status === 'unhealthy'), ...pool.instances.filter((a) => a.status === 'available').reverse()];
  const removed = new Set(idle.slice(0, Math.max(0, pool.instances.length - count)).map((a) => a.id));
  pool.instances = pool.instances.filter((a) => !removed.has(a.id));
  const draining = pool.instances.filter((a) => a.status === 'busy').slice(0, Math.max(0, pool.instances.length - count)).map((a) => a.id);
  const common = { agent_type: type.name, previous_count: previous, new_count: count };
  return count > previous
    ? { action: 'scale_up', ...common, agents_added: added.map((a) => a.id), draining }
    : { action: 'scale_down', ...common, agents_removed: [...removed], draining };
}

/** Marks up to `max` available instances busy for `owner`; returns them (maybe none). */
export function leaseInstances(registry: Registry, type: AgentType, max: number, owner: LeaseOwner, task: string, only?: string): AgentInstance[] {
  const pool = ensurePool(registry, type);
  const free = pool.instances.filter((a) => a.status === 'available' && (only === undefined || a.id === only)).slice(0, max);
  for (const agent of free) {
    agent.status = 'busy';
    agent.owner = owner;
    agent.currentTask = task;
  }
  return free;
}

/** Ends leases: folds in what each instance did and frees it, or retires it if unhealthy. */
export function releaseInstances(registry: Registry, reports: readonly InstanceReport[]): void {
  const byId = new Map(reports.map((r) => [r.id, r]));
  for (const pool of Object.values(registry.pools)) {
    for (const agent of pool.instances) {
      const report = byId.get(agent.id);
      if (!report) continue;
      agent.tasksCompleted += report.completed;
      agent.totalFailures += report.failures;
      // A success during the lease resets the run of failures; otherwise they add up.
      agent.failureCount = report.completed > 0 ? report.consecutiveFailures : agent.failureCount + report.failures;
      agent.lastActive = report.lastActive ?? agent.lastActive;
      agent.owner = null;
      agent.currentTask = null;
      agent.status = agent.failureCount > UNHEALTHY_AFTER ? 'unhealthy' : 'available';
    }
  }
}

/** Every instance of the registry, optionally of one type. */
export function instancesOf(registry: Registry, type?: string): AgentInstance[] {
  return Object.values(registry.pools)
    .filter((p) => type === undefined || p.type === type)
    .flatMap((p) => p.instances);
}
