import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../../../src/agents/store.js';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { callAs, orchProject, prng, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

let p: OrchProject | undefined;
afterEach(() => p?.cleanup());

const orchestrate = (task: Record<string, unknown>) => callAs<OrchestrationReport>(p!, 'orchestrate', { task });

function journal(taskId: string): { type: string; action?: string }[] {
  const text = readFileSync(path.join(p!.stateDir, 'tasks', taskId, 'journal.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line));
}

describe('orchestrate', () => {
  it('runs subtasks by their dependencies and reports each one by id', async () => {
    p = await orchProject();
    const report = await orchestrate({
      subtasks: [
        { id: 'one', tool: 'add', input: { n: 1 } },
        { id: 'two', tool: 'add', input: { n: 2, input: { $from: 'one' } } },
        { id: 'ten', tool: 'echo', input: { value: 10 } },
        { id: 'total', tool: 'sum', input: { results: { $from: ['two', 'ten'] } } },
      ],
    });
    expect(report.status).toBe('completed');
    expect(report.subtasks_executed).toBe(4);
    expect(Object.keys(report.subtasks).sort()).toEqual(['one', 'ten', 'total', 'two']);
    expect(report.subtasks.two).toMatchObject({ status: 'succeeded', result: 3, agent_type: 'adder' });
    expect(report.result).toEqual({ total: 13 });
    // The report is kept for aggregate_results.
    const kept = JSON.parse(readFileSync(path.join(p.stateDir, 'tasks', report.task_id, 'report.json'), 'utf8'));
    expect(kept.subtasks.total.result).toBe(13);
  });

  it.each([
    ['an unknown agent type', [{ id: 'a', tool: 'echo', agent_type: 'wroker' }], /no agent type `wroker`/],
    ['a tool the agent type may not run', [{ id: 'a', tool: 'echo', agent_type: 'adder' }], /agent type `adder` may not run tool `echo`/],
    ['an unknown tool', [{ id: 'a', tool: 'ecko' }], /unknown tool `ecko`/],
    ['a dependency cycle', [{ id: 'a', tool: 'echo', depends_on: ['b'] }, { id: 'b', tool: 'echo', depends_on: ['a'] }], /cycle: a → b → a/],
    ['an unknown dependency', [{ id: 'a', tool: 'echo', depends_on: ['zz'] }], /unknown subtask `zz`/],
    ['a duplicate id', [{ id: 'a', tool: 'echo' }, { id: 'a', tool: 'echo' }], /`a` is used twice/],
  ])('refuses %s before running anything, with exit code 2', async (_name, subtasks, message) => {
    p = await orchProject();
    const err = await orchestrate({ subtasks }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
  });

  it('refuses a subtask whose tool no agent type may run', async () => {
    p = await orchProject(`agents:\n  - { role: adder, tools: [add] }\n`);
    await expect(orchestrate({ subtasks: [{ id: 'a', tool: 'echo' }] })).rejects.toMatchObject({ exitCode: 2, message: 'subtask `a`: no agent type may run tool `echo`' });
  });

  it('retries a failed subtask on the same agent and journals the decision', async () => {
    p = await orchProject();
    const report = await orchestrate({ subtasks: [{ id: 'f', tool: 'flaky', input: { label: `retry-${Date.now()}`, failures: 1 } }] });
    expect(report.subtasks.f).toMatchObject({ status: 'succeeded', attempts: 2 });
    const events = journal(report.task_id);
    expect(events.map((e) => e.type)).toEqual(['task_started', 'subtask_failed', 'recovery', 'task_finished']);
    expect(events[2]?.action).toBe('retry');
  });

  it('reassigns after the retries, then reports the subtask failed and the task partial', async () => {
    p = await orchProject();
    const report = await orchestrate({
      subtasks: [
        { id: 'bad', tool: 'flaky', input: { label: `exhaust-${Date.now()}`, failures: 99 } },
        { id: 'good', tool: 'echo', input: { value: 1 } },
        { id: 'after', tool: 'echo', input: { value: 2 }, depends_on: ['bad'] },
      ],
      failure_policy: { max_retries: 1, max_reassignments: 1 },
    });
    expect(report.status).toBe('partial');
    expect(report.subtasks.bad).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'ORCH_TOOL_FAILED' } });
    expect(report.subtasks.after).toMatchObject({ status: 'failed', attempts: 0, error: { code: 'ORCH_DEPENDENCY_FAILED' } });
    expect(journal(report.task_id).filter((e) => e.type === 'recovery').map((e) => e.action)).toEqual(['retry', 'reassign', 'partial']);
  });

  it('aborts the rest of the task when the policy says so', async () => {
    p = await orchProject(teamYaml({ workers: 1 }));
    const report = await orchestrate({
      subtasks: [{ id: 'a', tool: 'fail_if', agent_type: 'worker', input: { n: 1, fail: true } }, ...[2, 3, 4].map((n) => ({ id: `s${n}`, tool: 'echo', input: { value: n }, depends_on: ['a'] }))],
      failure_policy: { max_retries: 0, max_reassignments: 0, on_exhausted: 'abort' },
    });
    expect(report.status).toBe('failed');
    expect(Object.keys(report.subtasks)).toHaveLength(4);
    expect(report.subtasks.s2).toMatchObject({ status: 'failed' });
  });

  it('marks an agent unhealthy after more than 3 failures in a row and stops giving it work', async () => {
    p = await orchProject(teamYaml({ workers: 1 }));
    const subtasks = Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, tool: 'fail_if', agent_type: 'worker', input: { n: i, fail: true } }));
    const report = await orchestrate({ subtasks, failure_policy: { max_retries: 0, max_reassignments: 0 } });
    const codes = Object.values(report.subtasks).map((s) => (s.status === 'failed' ? s.error.code : 'ok'));
    expect(codes.filter((c) => c === 'ORCH_TOOL_FAILED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'ORCH_NO_HEALTHY_AGENT')).toHaveLength(2);
    const registry = await new AgentStore(p.stateDir).read();
    expect(registry.pools.worker?.instances[0]).toMatchObject({ status: 'unhealthy', failureCount: 4 });
    expect(journal(report.task_id).some((e) => e.type === 'agent_unhealthy')).toBe(true);
    await expect(orchestrate({ subtasks: [{ id: 'x', tool: 'echo', agent_type: 'worker' }] })).rejects.toMatchObject({ code: 'ORCH_NO_HEALTHY_AGENT' });
  });
});

describe('every subtask is accounted for exactly once', () => {
  it.each([1, 2, 3, 4, 5])('random graph with random failures, seed %i', async (seed) => {
    const random = prng(seed);
    const workers = 1 + Math.floor(random() * 6);
    p = await orchProject(teamYaml({ workers }));
    const n = 20 + Math.floor(random() * 40);
    const failing = new Set<string>();
    const subtasks = Array.from({ length: n }, (_, i) => {
      const id = `s${i}`;
      const fail = random() < 0.25;
      if (fail) failing.add(id);
      const deps = i > 0 && random() < 0.4 ? [`s${Math.floor(random() * i)}`] : [];
      return { id, tool: 'fail_if', agent_type: 'worker', input: { n: i, fail }, depends_on: deps };
    });
    const report = await orchestrate({ subtasks, failure_policy: { max_retries: 1, max_reassignments: 1 } });
    expect(Object.keys(report.subtasks).sort()).toEqual(subtasks.map((s) => s.id).sort());
    // A subtask succeeds exactly when neither it nor anything it depends on fails.
    const doomed = new Set<string>();
    for (const s of subtasks) if (failing.has(s.id) || s.depends_on.some((d) => doomed.has(d))) doomed.add(s.id);
    for (const s of subtasks) {
      const entry = report.subtasks[s.id];
      if (doomed.has(s.id)) expect(entry?.status, s.id).toBe('failed');
      else expect(entry, s.id).toMatchObject({ status: 'succeeded', result: { n: s.input.n } });
    }
    const expected = doomed.size === 0 ? 'completed' : doomed.size === n ? 'failed' : 'partial';
    expect(report.status).toBe(expected);
    // All leases ended, whatever happened.
    const registry = await new AgentStore(p.stateDir).read();
    expect(registry.pools.worker?.instances.some((a) => a.status === 'busy')).toBe(false);
  });
});
