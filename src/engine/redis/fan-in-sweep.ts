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
  // What decides each gate, read for all of them at once: its fan-in, the fan-in's data,
  // and whether the run that holds it still has a session.
  const parents = (await Promise.all(gateIds.map((id) => redis.hget(`${prefix}:${GATE_QUEUE}:${id}`, 'parentKey')))).map((key) => {
    const parent = key?.startsWith(`${prefix}:`) ? key.slice(prefix.length + 1) : undefined;
    const at = parent?.indexOf(':') ?? -1;
    return parent !== undefined && at > 0 ? { queue: parent.slice(0, at), id: parent.slice(at + 1), key: parent } : undefined;
  });
  const datas = await Promise.all(
    parents.map(async (p) => {
      const raw = p && (await redis.hget(`${prefix}:${p.key}`, 'data'));
      return raw ? (JSON.parse(raw) as Partial<JobData>) : undefined;
    }),
  );
  const alive = await Promise.all(datas.map(async (d) => d?.session !== undefined && (await redis.exists(keys.session(target, d.session))) === 1));
  let swept = 0;
  try {
    for (const [i, gateId] of gateIds.entries()) {
      // Its run's session lives: the run may yet give it its task, or is lifting its gate.
      if (alive[i]) continue;
      const parent = parents[i];
      // Still held, it goes; given its task already, lifting the gate lets it run.
      if (parent && datas[i]?.held) await queue(parent.queue).remove(parent.id, { removeChildren: false });
      if ((await queue(GATE_QUEUE).remove(gateId)) === 1) swept++;
    }
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
  return swept;
}
