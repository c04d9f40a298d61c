import { afterEach, describe, expect, it } from 'vitest';
import { leaseInstances } from '../../../src/agents/pool.js';
import { AgentStore } from '../../../src/agents/store.js';
import { agentTypes } from '../../../src/agents/agent-types.js';
import type { Aggregate } from '../../../src/orchestration/aggregate.js';
import type { AssignResult } from '../../../src/orchestration/assign.js';
import type { FailureHandled } from '../../../src/orchestration/handle-failure.js';
import { selfOwner, release } from '../../../src/engine/leases.js';
import { orchestration } from '../../../src/orchestration/context.js';
import type { MonitorReport } from '../../../src/orchestration/monitor.js';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { callAs, orchProject, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

let p: OrchProject | undefined;
afterEach(() => p?.cleanup());

/** Leases instances as another busy orchestrate run would. */
async function occupy(ids: string[]): Promise<() => Promise<void>> {
  const store = new AgentStore(p!.stateDir);
  const worker = agentTypes(p!.project).get('worker')!;
  await store.update((r) => ids.forEach((id) => leaseInstances(r, worker, 1, selfOwner(), 'elsewhere', id)));
  return () => release(orchestration({ project: p!.project, stateDir: p!.stateDir }).agents, new Map([['worker', ids]]), []);
}

describe('assign_task', () => {
  it('runs on the agent asked for when it is free', async () => {
    p = await orchProject();
    const r = await callAs<AssignResult>(p, 'assign_task', { agent_id: 'worker-2', task: { id: 't1', tool: 'echo', input: { value: 5 } } });
    expect(r).toMatchObject({ agent_id: 'worker-2', task_id: 't1', status: 'completed', result: 5 });
  });

  it('moves a task for a busy agent to another of its type', async () => {
    p = await orchProject();
    const free = await occupy(['worker-1']);
    const r = await callAs<AssignResult>(p, 'assign_task', { agent_id: 'worker-1', task: { tool: 'echo', input: { value: 1 } } });
    expect(r.status).toBe('completed');
    expect(r.requested_agent).toBe('worker-1');
    expect(r.agent_id).not.toBe('worker-1');
    await free();
  });

  it('queues when every instance is busy, shows the queue to monitor_agents, and runs once one frees up', async () => {
    p = await orchProject(teamYaml({ workers: 2 }));
    const free = await occupy(['worker-1', 'worker-2']);
    const assigned = callAs<AssignResult>(p, 'assign_task', { agent_id: 'worker-1', task: { id: 'waiting', tool: 'echo', input: { value: 7 } } });
    let monitor: MonitorReport;
    do monitor = await callAs<MonitorReport>(p, 'monitor_agents', {});
    while (monitor.pools.find((x) => x.type === 'worker')?.queued !== 1);
    expect(monitor).toMatchObject({ busy: 2, utilization: { by_type: { worker: 1 } } });
    expect(monitor.bottlenecks).toContainEqual({ agent_type: 'worker', kind: 'saturated', detail: '2 of 2 busy, 1 task waiting' });
    expect(monitor.recommendations).toContain('scale worker to 3 (orch scale --agent-type worker --count 3)');
    await free();
    await expect(assigned).resolves.toMatchObject({ status: 'completed', result: 7 });
    const after = await callAs<MonitorReport>(p, 'monitor_agents', {});
    expect(after.pools.find((x) => x.type === 'worker')?.queued).toBe(0);
  });

  it('refuses an unknown agent with a suggestion', async () => {
    p = await orchProject();
    await expect(p.call('assign_task', { agent_id: 'worker-9x', task: { tool: 'echo' } })).rejects.toMatchObject({ exitCode: 2, hint: 'did you mean `worker-1`?' });
  });
});

describe('monitor_agents, aggregate_results, handle_failure', () => {
  it('monitor counts instances by state from the registry', async () => {
    p = await orchProject(teamYaml({ workers: 3 }));
    const free = await occupy(['worker-3']);
    const m = await callAs<MonitorReport>(p, 'monitor_agents', { agent_ids: ['worker-1', 'worker-3'] });
    expect(m).toMatchObject({ total_agents: 2, available: 1, busy: 1, unhealthy: 0 });
    expect(m.agents.map((a) => [a.agent_id, a.status, a.current_task])).toEqual([['worker-1', 'available', null], ['worker-3', 'busy', 'elsewhere']]);
    await free();
  });

  it('aggregate_results merges a finished task and names its failures', async () => {
    p = await orchProject();
    const report = await callAs<OrchestrationReport>(p, 'orchestrate', {
      task: { subtasks: [{ id: 'ok', tool: 'echo', input: { value: 1 } }, { id: 'bad', tool: 'fail_if', agent_type: 'worker', input: { n: 2, fail: true } }], failure_policy: { max_retries: 0, max_reassignments: 0 } },
    });
    const agg = await callAs<Aggregate>(p, 'aggregate_results', { task_id: report.task_id });
    expect(agg).toMatchObject({ status: 'partial', merged_result: { ok: 1 }, confidence_score: 0.5, agents_contributed: 2 });
    expect(agg.errors.bad?.message).toBe('fail_if failed: subtask 2 was told to fail');
    await expect(p.call('aggregate_results', { task_id: 'task-nope' })).rejects.toMatchObject({ code: 'ORCH_UNKNOWN_TASK', exitCode: 2 });
  });

  it('handle_failure escalates retry → reassign → partial and turns the agent unhealthy after repeated failures', async () => {
    p = await orchProject();
    const label = `hf-${Date.now()}`;
    const report = await callAs<OrchestrationReport>(p, 'orchestrate', {
      task: { subtasks: [{ id: 'f', tool: 'flaky', agent_type: 'worker', input: { label, failures: 2 } }], failure_policy: { max_retries: 0, max_reassignments: 0 } },
    });
    const agent = report.subtasks.f!.agent_id!;
    const first = await callAs<FailureHandled>(p, 'handle_failure', { agent_id: agent, task_id: report.task_id });
    expect(first).toMatchObject({ recovery_action: 'retry', subtasks: ['f'], result: { status: 'failed' } });
    const second = await callAs<FailureHandled>(p, 'handle_failure', { agent_id: agent, task_id: report.task_id });
    expect(second.recovery_action).toBe('reassign');
    expect(second.result).toMatchObject({ status: 'completed' });
    const agg = await callAs<Aggregate>(p, 'aggregate_results', { task_id: report.task_id });
    expect(agg.merged_result).toEqual({ f: { label, attempts: 3 } });
    expect(agg.status).toBe('completed');
    const third = await callAs<FailureHandled>(p, 'handle_failure', { agent_id: agent, task_id: report.task_id });
    expect(third.recovery_action).toBe('partial');
    // Failures reported against one agent pile up until it is taken out of service.
    let last: FailureHandled | undefined;
    for (let i = 0; i < 3; i++) last = await callAs<FailureHandled>(p, 'handle_failure', { agent_id: 'worker-4', task_id: report.task_id });
    expect(last?.agent_status).toBe('available');
    last = await callAs<FailureHandled>(p, 'handle_failure', { agent_id: 'worker-4', task_id: report.task_id });
    expect(last.agent_status).toBe('unhealthy');
  });

  it('handle_failure refuses to re-run a subtask whose input held a secret, which the plan keeps only redacted', async () => {
    p = await orchProject();
    const report = await callAs<OrchestrationReport>(p, 'orchestrate', {
      task: { subtasks: [{ id: 'f', tool: 'flaky', agent_type: 'worker', input: { label: `pw-${Date.now()}`, failures: 1, password: 'hunter2-long' } }], failure_policy: { max_retries: 0, max_reassignments: 0 } },
    });
    expect(report.subtasks.f).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('attempt 1 failed') as string } });
    await expect(p.call('handle_failure', { agent_id: report.subtasks.f?.agent_id, task_id: report.task_id })).rejects.toMatchObject({
      code: 'ORCH_SECRET_WITHHELD',
      exitCode: 2,
      message: expect.stringContaining('subtask `f`') as string,
    });
  });
});
