import type { PoolSnapshot } from '../agents/types.js';

export type { PoolSnapshot };

export type BottleneckKind = 'saturated' | 'near_capacity' | 'unhealthy' | 'no_healthy';

export interface Bottleneck {
  agent_type: string;
  kind: BottleneckKind;
  detail: string;
}

/** What to do about one pool, as data: the rules' and a model's recommendations share this shape. */
export interface Recommendation {
  agent_type: string;
  action: 'scale_up' | 'scale_down' | 'investigate' | 'none';
  /** For scale_up and scale_down: the pool size to set (as `orch scale --count`). */
  count?: number;
  reason: string;
}

export const RECOMMENDATION_ACTIONS = ['scale_up', 'scale_down', 'investigate', 'none'] as const;

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
export function analysePools(pools: readonly PoolSnapshot[]): {
  bottlenecks: Bottleneck[];
  recommendations: string[];
  actions: Recommendation[];
} {
  const bottlenecks: Bottleneck[] = [];
  const recommendations: string[] = [];
  const actions: Recommendation[] = [];
  for (const pool of pools) {
    const healthy = pool.instances - pool.unhealthy;
    const { type } = pool;
    if (pool.instances > 0 && healthy === 0) {
      const detail = `all ${pool.instances} instances are unhealthy`;
      bottlenecks.push({ agent_type: type, kind: 'no_healthy', detail });
      recommendations.push(`replace the unhealthy ${type} instances: orch scale --agent-type ${type} --count 0, then --count ${pool.instances}`);
      actions.push({ agent_type: type, action: 'investigate', reason: `${detail}: find why, then replace them` });
      continue;
    }
    if (pool.queued > 0 && pool.available === 0) {
      const detail = `${pool.busy} of ${healthy} busy, ${pool.queued} task${pool.queued === 1 ? '' : 's'} waiting`;
      bottlenecks.push({ agent_type: type, kind: 'saturated', detail });
      recommendations.push(scaleTo(type, pool.instances + pool.queued));
      actions.push({ agent_type: type, action: 'scale_up', count: pool.instances + pool.queued, reason: detail });
    } else if (healthy > 0 && utilization(pool) >= NEAR_CAPACITY) {
      const detail = `${pool.busy} of ${healthy} busy`;
      bottlenecks.push({ agent_type: type, kind: 'near_capacity', detail });
      recommendations.push(scaleTo(type, Math.ceil(pool.instances * 1.5)));
      actions.push({ agent_type: type, action: 'scale_up', count: Math.ceil(pool.instances * 1.5), reason: detail });
    }
    if (pool.unhealthy > 0) {
      const detail = `${pool.unhealthy} of ${pool.instances} instances unhealthy (more than 3 failures in a row)`;
      bottlenecks.push({ agent_type: type, kind: 'unhealthy', detail });
      recommendations.push(`replace ${pool.unhealthy} unhealthy ${type} instance${pool.unhealthy === 1 ? '' : 's'}: scale down to ${pool.instances - pool.unhealthy}, then back to ${pool.instances}`);
      actions.push({ agent_type: type, action: 'investigate', reason: detail });
    }
  }
  return { bottlenecks, recommendations, actions };
}

/** A recommendation as the sentence `recommendations` lists; `none` says nothing. */
export function recommendationText(r: Recommendation): string | undefined {
  switch (r.action) {
    case 'scale_up':
    case 'scale_down':
      if (r.count === undefined) return `${r.action === 'scale_up' ? 'grow' : 'shrink'} ${r.agent_type}: ${r.reason}`;
      return `${scaleTo(r.agent_type, r.count)}: ${r.reason}`;
    case 'investigate':
      return `investigate ${r.agent_type}: ${r.reason}`;
    case 'none':
      return undefined;
    default: {
      const never: never = r.action;
      throw new Error(`unknown recommendation ${String(never)}`);
    }
  }
}
