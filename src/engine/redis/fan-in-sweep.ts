import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import { GATE_QUEUE } from './link.js';
import type { JobData } from './protocol.js';
import type { EngineTarget } from './target.js';

/** Gates looked at in one sweep. */
const SWEEP_BATCH = 1000;

/**
 * Removes the fan-ins held for runs whose session is gone — a run killed during its fan-out
 * that may never be resumed — with their gates, and gates whose fan-in is gone. Nothing is
 * lost: a run resumed later sends its fan-in as a job of its own. Returns how many gates went.
 */
export async function sweepHeldFanIns(redis: Redis, target: EngineTarget): Promise<number> {
  const prefix = keys.bullPrefix(target);
  const gateIds = await redis.lrange(`${prefix}:${GATE_QUEUE}:wait`, 0, SWEEP_BATCH - 1);
  if (gateIds.length === 0) return 0;
  const queues = new Map<string, Queue>();
  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      q.on('error', () => {});
      queues.set(name, q);
    }
    return q;
  };
  let swept = 0;
  try {
    for (const gateId of gateIds) {
      const parentKey = await redis.hget(`${prefix}:${GATE_QUEUE}:${gateId}`, 'parentKey');
      const parent = parentKey?.startsWith(`${prefix}:`) ? parentKey.slice(prefix.length + 1) : undefined;
      const at = parent?.indexOf(':') ?? -1;
      if (parent !== undefined && at > 0) {
        const raw = await redis.hget(`${prefix}:${parent}`, 'data');
        const data = raw === null ? undefined : (JSON.parse(raw) as Partial<JobData>);
        // Its run's session lives: the run may yet give it its task, or is lifting its gate.
        if (data?.session !== undefined && (await redis.exists(keys.session(target, data.session))) === 1) continue;
        // Still held, it goes; given its task already, lifting the gate lets it run.
        if (data?.held) await queue(parent.slice(0, at)).remove(parent.slice(at + 1), { removeChildren: false });
      }
      if ((await queue(GATE_QUEUE).remove(gateId)) === 1) swept++;
    }
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
  return swept;
}
