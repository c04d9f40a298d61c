import type { PoolSnapshot } from '../agents/types.js';

export type { PoolSnapshot };

export type BottleneckKind = 'saturated' | 'near_capacity' | 'unhealthy' | 'no_healthy';

export interface Bottleneck {
  agent_type: string;
  kind: BottleneckKind;
  detail: string;
}

/** At or above this share of healthy instances busy, a pool is near capacity. */
const NEAR_CAPACITY = 0.8;

export function utilization(pool: PoolSnapshot): number {
  const healthy = pool.instances - pool.unhealthy;
  return healthy === 0 ? 0 : Math.round((pool.busy / healthy) * 100) / 100;
}

const scaleTo = (type: string, n: number) => `scale ${type} to ${n} (orch scale --agent-type ${type} --count ${n})`;

/**
 * Bottlenecks and recommendations by rule, from pool counts and queue depth alone, so the
 * same state always gives the same advice.
 */
export function analysePools(pools: readonly PoolSnapshot[]): { bottlenecks: Bottleneck[]; recommendations: string[] } {
  const bottlenecks: Bottleneck[] = [];
  const recommendations: string[] = [];
  for (const pool of pools) {
    const healthy = pool.instances - pool.unhealthy;
    const { type } = pool;
    if (pool.instances > 0 && healthy === 0) {
      bottlenecks.push({ agent_type: type, kind: 'no_healthy', detail: `all ${pool.instances} instances are unhealthy` });
      recommendations.push(`replace the unhealthy ${type} instances: orch scale --agent-type ${type} --count 0, then --count ${pool.instances}`);
      continue;
    }
    if (pool.queued > 0 && pool.available === 0) {
      bottlenecks.push({ agent_type: type, kind: 'saturated', detail: `${pool.busy} of ${healthy} busy, ${pool.queued} task${pool.queued === 1 ? '' : 's'} waiting` });
      recommendations.push(scaleTo(type, pool.instances + pool.queued));
    } else if (healthy > 0 && utilization(pool) >= NEAR_CAPACITY) {
      bottlenecks.push({ agent_type: type, kind: 'near_capacity', detail: `${pool.busy} of ${healthy} busy` });
      recommendations.push(scaleTo(type, Math.ceil(pool.instances * 1.5)));
    }
    if (pool.unhealthy > 0) {
      bottlenecks.push({ agent_type: type, kind: 'unhealthy', detail: `${pool.unhealthy} of ${pool.instances} instances unhealthy (more than 3 failures in a row)` });
      recommendations.push(`replace ${pool.unhealthy} unhealthy ${type} instance${pool.unhealthy === 1 ? '' : 's'}: scale down to ${pool.instances - pool.unhealthy}, then back to ${pool.instances}`);
    }
  }
  return { bottlenecks, recommendations };
}
