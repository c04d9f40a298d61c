import type { EngineTarget } from './target.js';

/**
 * Every Redis key orch keeps beside BullMQ's queues, under the target's prefix. Queues
 * themselves are BullMQ's, one per agent type, under the prefix without its last colon.
 */
export const keys = {
  bullPrefix: (t: EngineTarget) => t.prefix.slice(0, -1),
  /** Hash: worker id → its heartbeat (what it serves, what it runs, when it last beat). */
  workers: (t: EngineTarget) => `${t.prefix}workers`,
  /** Hash: agent type → the pool size `orch scale` set. */
  pools: (t: EngineTarget) => `${t.prefix}pools`,
  /** Stream a run's session reads its workers' requests from. */
  relay: (t: EngineTarget, session: string) => `${t.prefix}relay:${session}`,
  /** Expires unless the session that owns it keeps it alive. */
  session: (t: EngineTarget, session: string) => `${t.prefix}session:${session}`,
  /** Stream a worker reads its answers and cancellations from. */
  replies: (t: EngineTarget, worker: string) => `${t.prefix}reply:${worker}`,
  /** Which session a job's requests go to now (a resumed run takes its jobs over). */
  route: (t: EngineTarget, job: string) => `${t.prefix}route:${job}`,
};
