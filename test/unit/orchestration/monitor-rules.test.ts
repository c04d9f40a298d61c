import { describe, expect, it } from 'vitest';
import { analysePools, type PoolSnapshot } from '../../../src/orchestration/monitor-rules.js';

const pool = (over: Partial<PoolSnapshot>): PoolSnapshot => ({ type: 'worker', desired: 4, instances: 4, available: 4, busy: 0, unhealthy: 0, queued: 0, ...over });

describe('monitoring rules', () => {
  it('an idle pool has nothing to report', () => {
    expect(analysePools([pool({})])).toEqual({ bottlenecks: [], recommendations: [], actions: [] });
  });

  it('all busy with work waiting: scale to cover the queue', () => {
    const { recommendations, actions } = analysePools([pool({ available: 0, busy: 4, queued: 3 })]);
    expect(recommendations).toEqual(['scale worker to 7 (orch scale --agent-type worker --count 7)']);
    expect(actions).toEqual([{ agent_type: 'worker', action: 'scale_up', count: 7, reason: '4 of 4 busy, 3 tasks waiting' }]);
  });

  it('near capacity without a queue: grow by half', () => {
    expect(analysePools([pool({ available: 0, busy: 4 })]).bottlenecks[0]?.kind).toBe('near_capacity');
    expect(analysePools([pool({ available: 2, busy: 2 })]).bottlenecks).toEqual([]);
  });

  it('unhealthy instances are named, and a pool with none healthy is called out', () => {
    expect(analysePools([pool({ available: 3, unhealthy: 1 })]).bottlenecks.map((b) => b.kind)).toEqual(['unhealthy']);
    expect(analysePools([pool({ available: 0, unhealthy: 4 })]).bottlenecks.map((b) => b.kind)).toEqual(['no_healthy']);
  });
});
