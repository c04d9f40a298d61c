/**
 * The agent registry as persisted in `.orch/agents/registry.json`: pools by agent type,
 * their instances and the tasks waiting for an instance. Every orch process reads and
 * writes it under a lock (store.ts), so this is the one truth about pool state.
 */

/** `busy` instances are leased by a running process; `unhealthy` ones get no new work. */
export type AgentStatus = 'available' | 'busy' | 'unhealthy';

/** The process holding a lease: a pid alone is reused, so its start time goes with it. */
export interface LeaseOwner {
  pid: number;
  startTime: string;
}

export interface AgentInstance {
  id: string;
  type: string;
  status: AgentStatus;
  /** Task id the instance works on while busy. */
  currentTask: string | null;
  owner: LeaseOwner | null;
  tasksCompleted: number;
  /** Failures in a row; more than UNHEALTHY_AFTER makes the instance unhealthy. */
  failureCount: number;
  /** Failures over the instance's life, for monitoring. */
  totalFailures: number;
  lastActive: string | null;
  createdAt: string;
}

export interface PoolRecord {
  type: string;
  /** The size asked for; busy instances above it leave the pool when they are released. */
  desired: number;
  /** Next instance number, so ids are never reused within a pool. */
  nextId: number;
  instances: AgentInstance[];
}

/** A task waiting for an instance of its type (assign_task found every one busy). */
export interface QueuedTask {
  id: string;
  agentType: string;
  owner: LeaseOwner;
  queuedAt: string;
}

export interface Registry {
  version: 1;
  pools: Record<string, PoolRecord>;
  queue: QueuedTask[];
}

/** The orchestration seed: an instance is unhealthy once its failure count passes 3. */
export const UNHEALTHY_AFTER = 3;

export function emptyRegistry(): Registry {
  return { version: 1, pools: {}, queue: [] };
}

/** One pool as the monitoring rules see it (the registry's, or a queue engine's). */
export interface PoolSnapshot {
  type: string;
  desired: number;
  instances: number;
  available: number;
  busy: number;
  unhealthy: number;
  /** Tasks waiting for an instance of this type. */
  queued: number;
}
