import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../../src/orchestration/events.js';
import { failure, runSubtasks, subtask, type GraphCall, type SubtaskBehaviour } from '../../helpers/graph-harness.js';
import { prng } from '../../helpers/orchestration.js';
import { together } from '../../helpers/engine-harness.js';

const failing =
  (code = 'ORCH_TOOL_FAILED') =>
  (call: GraphCall): never => {
    throw failure(code, `attempt ${call.attempt} failed`);
  };
const noRecovery = { maxRetries: 0, maxReassignments: 0 } as const;
/** The result of a subtask that never ran. */
const notRun = (code: string, message: string) => ({ status: 'failed', agent_id: null, attempts: 0, error: { code, message } });
const actions = (events: TaskEvent[]) => events.flatMap((e) => (e.type === 'recovery' ? [e.action] : []));

describe('runGraph: order', () => {
  it('runs independent subtasks at once and a dependent one after them, with their results', async () => {
    const meet = together(['a', 'b']);
    const run = await runSubtasks(
      [
        subtask('a'),
        subtask('b'),
        subtask('c', { dependsOn: ['a', 'b'], input: { both: { $from: ['a', 'b'] }, n: { $from: 'a', path: 'n' } } }),
      ],
      {
        behave: {
          a: async () => (await meet('a'), { n: 1 }),
          b: async () => (await meet('b'), { n: 2 }),
        },
      },
    );
    expect(run.calls.map((c) => c.subtask)).toEqual(['a', 'b', 'c']);
    expect(run.calls[2]?.input).toEqual({ both: { a: { n: 1 }, b: { n: 2 } }, n: 1 });
    expect(run.results.get('c')).toEqual({ status: 'succeeded', agent_id: 'w1', attempts: 1, result: { subtask: 'c' } });
    expect(run.events).toEqual([]);
  });

  it('runs a chain one after another', async () => {
    const run = await runSubtasks([subtask('c', { dependsOn: ['b'] }), subtask('b', { dependsOn: ['a'] }), subtask('a')]);
    expect(run.calls.map((c) => c.subtask)).toEqual(['a', 'b', 'c']);
    expect([...run.results.values()].every((r) => r.status === 'succeeded')).toBe(true);
  });

  it("gathers a tool-less manager's dependencies without a call", async () => {
    const run = await runSubtasks([subtask('a'), subtask('lead', { tool: undefined, dependsOn: ['a'] })], { behave: { a: () => 5 } });
    expect(run.calls.map((c) => c.subtask)).toEqual(['a']);
    expect(run.results.get('lead')).toEqual({ status: 'succeeded', agent_id: null, attempts: 0, result: { a: 5 } });
  });

  it('resolves an empty graph to no results', async () => {
    expect((await runSubtasks([])).results.size).toBe(0);
  });
});

describe('runGraph: failures', () => {
  it('fails the dependents of a failed subtask, transitively, without running them', async () => {
    const run = await runSubtasks([subtask('a'), subtask('b', { dependsOn: ['a'] }), subtask('c', { dependsOn: ['b'] }), subtask('d')], {
      policy: { ...noRecovery, onExhausted: 'partial' },
      behave: { a: failing() },
    });
    expect(run.calls.map((c) => c.subtask).sort()).toEqual(['a', 'd']);
    expect(run.results.get('a')).toMatchObject({ status: 'failed', agent_id: 'w1', attempts: 1, error: { code: 'ORCH_TOOL_FAILED' } });
    expect(run.results.get('b')).toEqual(notRun('ORCH_DEPENDENCY_FAILED', 'not run: subtask a failed'));
    expect(run.results.get('c')).toEqual(notRun('ORCH_DEPENDENCY_FAILED', 'not run: subtask b failed'));
    expect(run.results.get('d')?.status).toBe('succeeded');
  });

  it('retries a failed subtask on the same agent, and journals the failure and the decision', async () => {
    const run = await runSubtasks([subtask('a')], {
      policy: { maxRetries: 1, maxReassignments: 0 },
      behave: { a: (call) => (call.attempt === 1 ? failing()(call) : 'ok') },
    });
    expect(run.calls.map((c) => [c.where, c.agentId])).toEqual([
      [{}, 'w1'],
      [{ pin: 'w1' }, 'w1'],
    ]);
    expect(run.results.get('a')).toEqual({ status: 'succeeded', agent_id: 'w1', attempts: 2, result: 'ok' });
    expect(run.events).toEqual([
      {
        type: 'subtask_failed',
        task_id: 'task-1',
        subtask: 'a',
        agent_id: 'w1',
        attempt: 1,
        error: { code: 'ORCH_TOOL_FAILED', message: 'attempt 1 failed' },
      },
      {
        type: 'recovery',
        task_id: 'task-1',
        subtask: 'a',
        agent_id: 'w1',
        action: 'retry',
        reason: 'retry after attempt 1: attempt 1 failed',
      },
    ]);
  });

  it('escalates: retry on the same agent, then reassign away from it, then gives up on the subtask', async () => {
    const run = await runSubtasks([subtask('a'), subtask('b')], {
      policy: { maxRetries: 1, maxReassignments: 1, onExhausted: 'partial' },
      behave: { a: failing() },
    });
    expect(run.calls.filter((c) => c.subtask === 'a').map((c) => [c.where, c.agentId])).toEqual([
      [{}, 'w1'],
      [{ pin: 'w1' }, 'w1'],
      [{ avoid: 'w1' }, 'w2'],
    ]);
    expect(actions(run.events)).toEqual(['retry', 'reassign', 'partial']);
    expect(run.events.flatMap((e) => (e.type === 'subtask_failed' ? [[e.attempt, e.agent_id]] : []))).toEqual([
      [1, 'w1'],
      [2, 'w1'],
      [3, 'w2'],
    ]);
    expect(run.results.get('a')).toMatchObject({ status: 'failed', agent_id: 'w2', attempts: 3, error: { message: 'attempt 3 failed' } });
    expect(run.results.get('b')?.status).toBe('succeeded');
  });

  it('reassigns instead of retrying when the agent that failed is no longer healthy', async () => {
    const run = await runSubtasks([subtask('a')], {
      behave: {
        a: (call, ctx) => {
          if (call.agentId !== 'w1') return 'ok';
          ctx.markUnhealthy('w1');
          throw failure('ORCH_TOOL_FAILED', 'w1 is broken');
        },
      },
    });
    expect(run.calls.map((c) => [c.where, c.agentId])).toEqual([
      [{}, 'w1'],
      [{ avoid: 'w1' }, 'w2'],
    ]);
    expect(run.results.get('a')).toMatchObject({ status: 'succeeded', agent_id: 'w2', attempts: 2 });
  });

  it('aborts: subtasks not yet started fail as ORCH_ABORTED, one already running still settles with its result', async () => {
    const run = await runSubtasks([subtask('a'), subtask('b', { dependsOn: ['a'] }), subtask('c'), subtask('d', { dependsOn: ['c'] })], {
      policy: { ...noRecovery, onExhausted: 'abort' },
      behave: {
        a: failing(),
        c: async (_call, ctx) => (await ctx.event((e) => e.type === 'recovery' && e.action === 'abort'), 'late'),
      },
    });
    expect(run.calls.map((c) => c.subtask).sort()).toEqual(['a', 'c']);
    const aborted = notRun('ORCH_ABORTED', 'not run: the task was aborted after subtask a failed');
    expect(run.results.get('a')).toMatchObject({ status: 'failed', error: { code: 'ORCH_TOOL_FAILED' } });
    expect(run.results.get('b')).toEqual(aborted);
    expect(run.results.get('c')).toMatchObject({ status: 'succeeded', result: 'late' });
    expect(run.results.get('d')).toEqual(aborted);
  });

  it.each(['ORCH_INPUT', 'ORCH_TASK', 'ORCH_UNKNOWN_TOOL', 'ORCH_TOOL_INVALID'])('never retries or reassigns a %s error', async (code) => {
    const policy = { maxRetries: 3, maxReassignments: 3, onExhausted: 'partial' } as const;
    const run = await runSubtasks([subtask('a')], { policy, behave: { a: failing(code) } });
    expect(run.calls).toHaveLength(1);
    expect(actions(run.events)).toEqual(['partial']);
    expect(run.results.get('a')).toMatchObject({ status: 'failed', attempts: 1, error: { code } });
  });

  it('gives up at once when no instance is healthy to take the subtask', async () => {
    const run = await runSubtasks([subtask('a')], { agents: { worker: [] }, policy: { maxRetries: 3, maxReassignments: 3 } });
    expect(run.calls).toHaveLength(1);
    expect(run.results.get('a')).toMatchObject({ status: 'failed', agent_id: null, error: { code: 'ORCH_NO_HEALTHY_AGENT' } });
  });
});

describe('runGraph: cancellation', () => {
  it('settles the cancelled subtask with its error, unstarted ones as cancelled, and recovers nothing', async () => {
    const controller = new AbortController();
    const run = await runSubtasks([subtask('a'), subtask('b', { dependsOn: ['a'] }), subtask('c', { dependsOn: ['b'] })], {
      signal: controller.signal,
      policy: { maxRetries: 3, maxReassignments: 3 },
      behave: {
        a: () => {
          controller.abort();
          throw failure('ORCH_CANCELLED', 'cancelled while running');
        },
      },
    });
    expect(run.calls.map((c) => c.subtask)).toEqual(['a']);
    const ownError = { code: 'ORCH_CANCELLED', message: 'cancelled while running' };
    expect(run.results.get('a')).toEqual({ status: 'failed', agent_id: 'w1', attempts: 1, error: ownError });
    const cancelled = notRun('ORCH_CANCELLED', 'not run: the task was cancelled');
    expect(run.results.get('b')).toEqual(cancelled);
    // As it stands, settling b as cancelled reaches its dependent before the sweep does.
    expect(run.results.get('c')).toEqual(notRun('ORCH_DEPENDENCY_FAILED', 'not run: subtask b failed'));
    expect(run.events.map((e) => e.type)).toEqual(['subtask_failed']);
  });
});

describe('runGraph: every subtask settles exactly once', () => {
  it.each(Array.from({ length: 40 }, (_, seed) => seed))('random graph, seed %i', async (seed) => {
    const random = prng(seed);
    const n = 3 + Math.floor(random() * 8);
    const ids = Array.from({ length: n }, (_, i) => `s${i}`);
    const subtasks = ids.map((id, i) => subtask(id, { dependsOn: ids.slice(0, i).filter(() => random() < 0.3) }));
    const broken = new Set(ids.filter(() => random() < 0.25));
    const policy = {
      maxRetries: Math.floor(random() * 2),
      maxReassignments: Math.floor(random() * 2),
      onExhausted: random() < 0.5 ? ('partial' as const) : ('abort' as const),
    };
    const pauses = new Map(ids.map((id) => [id, Math.floor(random() * 3)]));
    const behaviour: SubtaskBehaviour = async (call) => {
      for (let i = 0; i < (pauses.get(call.subtask) ?? 0); i++) await new Promise((r) => setImmediate(r));
      if (broken.has(call.subtask)) throw failure('ORCH_TOOL_FAILED', `${call.subtask} broke`);
      return call.subtask;
    };
    const run = await runSubtasks(subtasks, { policy, behave: Object.fromEntries(ids.map((id) => [id, behaviour])) });

    expect([...run.results.keys()].sort()).toEqual([...ids].sort());
    const maxCalls = 1 + policy.maxRetries + policy.maxReassignments;
    for (const s of subtasks) {
      const result = run.results.get(s.id);
      const calls = run.calls.filter((c) => c.subtask === s.id).length;
      expect(calls).toBeLessThanOrEqual(maxCalls);
      if (s.dependsOn.some((d) => run.results.get(d)?.status === 'failed')) expect(result?.status).toBe('failed');
      if (calls === 0) expect(result).toMatchObject({ status: 'failed', attempts: 0 });
      if (result?.status === 'succeeded') expect(broken.has(s.id)).toBe(false);
      if (policy.onExhausted === 'partial' && !broken.has(s.id) && s.dependsOn.every((d) => run.results.get(d)?.status === 'succeeded')) {
        expect(result?.status).toBe('succeeded');
      }
    }
  });
});
