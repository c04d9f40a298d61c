import { describe, expect, it } from 'vitest';
import type { AgentType } from '../../../src/agents/agent-types.js';
import { ensurePool, leaseInstances, releaseInstances, scalePool } from '../../../src/agents/pool.js';
import { emptyRegistry } from '../../../src/agents/types.js';

const worker: AgentType = { name: 'worker', tools: 'all', count: 2, isolation: 'inline' };
const owner = { pid: process.pid, startTime: 'x' };

describe('agent pools', () => {
  it('start at the declared size', () => {
    const registry = emptyRegistry();
    expect(ensurePool(registry, worker).instances.map((a) => a.id)).toEqual(['worker-1', 'worker-2']);
  });

  it('scale up adds instances with ids never used before', () => {
    const registry = emptyRegistry();
    scalePool(registry, worker, 1);
    const up = scalePool(registry, worker, 3);
    expect(up).toEqual({ action: 'scale_up', agent_type: 'worker', previous_count: 1, new_count: 3, agents_added: ['worker-3', 'worker-4'], draining: [] });
  });

  it('counts from the size asked for before, not from instances still draining', () => {
    const registry = emptyRegistry();
    scalePool(registry, worker, 4);
    leaseInstances(registry, worker, 4, owner, 't');
    expect(scalePool(registry, worker, 2)).toMatchObject({ action: 'scale_down', previous_count: 4, new_count: 2, agents_removed: [], draining: ['worker-1', 'worker-2'] });
    // Four busy instances, two of them draining: asking for three is growth from two.
    const up = scalePool(registry, worker, 3);
    expect(up).toEqual({ action: 'scale_up', agent_type: 'worker', previous_count: 2, new_count: 3, agents_added: [], draining: ['worker-1'] });
    expect(scalePool(registry, worker, 6)).toMatchObject({ action: 'scale_up', previous_count: 3, agents_added: ['worker-5', 'worker-6'], draining: [] });
    expect(registry.pools.worker?.instances).toHaveLength(6);
  });

  it('scale down removes unhealthy then idle instances, newest first, and leaves busy ones to drain', () => {
    const registry = emptyRegistry();
    scalePool(registry, worker, 5);
    const pool = ensurePool(registry, worker);
    leaseInstances(registry, worker, 1, owner, 't', 'worker-5');
    pool.instances[0]!.status = 'unhealthy';
    const down = scalePool(registry, worker, 2);
    expect(down).toMatchObject({ action: 'scale_down', previous_count: 5, new_count: 2, agents_removed: ['worker-1', 'worker-4', 'worker-3'] });
    expect(pool.instances.map((a) => a.id)).toEqual(['worker-2', 'worker-5']);
    const none = scalePool(registry, worker, 0);
    expect(none).toMatchObject({ agents_removed: ['worker-2'], draining: ['worker-5'] });
    expect(pool.instances.map((a) => a.status)).toEqual(['busy']);
  });

  it('release folds in counts and marks an instance unhealthy after more than 3 failures in a row', () => {
    const registry = emptyRegistry();
    leaseInstances(registry, worker, 2, owner, 't');
    releaseInstances(registry, [
      { id: 'worker-1', completed: 5, failures: 1, consecutiveFailures: 0, lastActive: 'now' },
      { id: 'worker-2', completed: 0, failures: 3, consecutiveFailures: 3, lastActive: 'now' },
    ]);
    const [a, b] = registry.pools.worker!.instances;
    expect(a).toMatchObject({ status: 'available', tasksCompleted: 5, failureCount: 0, totalFailures: 1, owner: null });
    expect(b).toMatchObject({ status: 'available', failureCount: 3 });
    leaseInstances(registry, worker, 1, owner, 't', 'worker-2');
    releaseInstances(registry, [{ id: 'worker-2', completed: 0, failures: 1, consecutiveFailures: 1, lastActive: 'now' }]);
    expect(b).toMatchObject({ status: 'unhealthy', failureCount: 4 });
  });
});
