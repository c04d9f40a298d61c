import { afterEach, describe, expect, it } from 'vitest';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { callAs, orchProject, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

let p: OrchProject | undefined;
afterEach(() => p?.cleanup());

const orchestrate = (task: Record<string, unknown>) => callAs<OrchestrationReport>(p!, 'orchestrate', { task });

describe('coordination patterns', () => {
  it('pipeline: each stage receives the previous output', async () => {
    p = await orchProject();
    const report = await orchestrate({
      coordination: 'pipeline',
      subtasks: [1, 10, 100].map((n) => ({ id: `plus${n}`, tool: 'add', input: { n } })),
    });
    expect(report.result).toBe(111);
    expect(report.subtasks.plus100).toMatchObject({ status: 'succeeded', result: 111 });
  });

  it('pipeline: a stage whose tool cannot receive the output is refused up front', async () => {
    p = await orchProject();
    await expect(orchestrate({ coordination: 'pipeline', subtasks: [{ id: 'a', tool: 'add', input: { n: 1 } }, { id: 'b', tool: 'echo' }] })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('has no parameter `input`'),
    });
  });

  it('fan-out/fan-in: branches at once, then one subtask gets every result', async () => {
    p = await orchProject();
    const report = await orchestrate({
      coordination: 'fan-out',
      subtasks: [1, 2, 3].map((n) => ({ id: `b${n}`, tool: 'echo', input: { value: n } })),
      fan_in: { tool: 'sum' },
    });
    expect(report.result).toBe(6);
    expect(Object.keys(report.subtasks).sort()).toEqual(['b1', 'b2', 'b3', 'fan_in']);
  });

  it('master-worker: one queue drained by every worker instance', async () => {
    p = await orchProject(teamYaml({ workers: 3 }));
    const subtasks = Array.from({ length: 30 }, (_, i) => ({ id: `job${i}`, tool: 'echo', input: { value: i } }));
    const report = await orchestrate({ coordination: 'master-worker', agent_type: 'worker', subtasks });
    expect(report.status).toBe('completed');
    const perWorker = report.details?.tasks_per_worker as Record<string, number>;
    expect(Object.keys(perWorker).sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(Object.values(perWorker).reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('hierarchical: managers delegate to sub-teams and gather their results', async () => {
    p = await orchProject();
    const report = await orchestrate({
      coordination: 'hierarchical',
      subtasks: [
        {
          id: 'lead',
          subtasks: [
            { id: 'team-a', delegate_to: 'adder', subtasks: [{ id: 'a1', tool: 'add', input: { n: 1 } }, { id: 'a2', tool: 'add', input: { n: 2 } }] },
            { id: 'b', tool: 'echo', input: { value: 4 } },
          ],
        },
      ],
    });
    expect(report.subtasks.a1).toMatchObject({ agent_type: 'adder', status: 'succeeded' });
    expect(report.subtasks['team-a']).toMatchObject({ status: 'succeeded', result: { a1: 1, a2: 2 } });
    expect(report.details?.reports_to).toEqual({ 'team-a': 'lead', a1: 'team-a', a2: 'team-a', b: 'lead' });
    expect(report.result).toEqual({ lead: { 'team-a': { a1: 1, a2: 2 }, b: 4 } });
  });

  it('blackboard: concurrent writers lose no update', async () => {
    p = await orchProject(teamYaml({ workers: 4 }));
    const subtasks = Array.from({ length: 8 }, (_, i) => ({ id: `inc${i}`, tool: 'increment' }));
    const report = await orchestrate({ coordination: 'blackboard', subtasks });
    expect(report.result).toEqual({ count: 8 });
    // Four readers overlapped, so some commits were refused and re-run on a fresh read.
    expect(report.details?.conflicts).toBeGreaterThan(0);
  });

  it('auction: the specialist outbids the generalist, and load spreads the rest', async () => {
    p = await orchProject();
    const report = await orchestrate({ coordination: 'auction', subtasks: [1, 2, 3, 4].map((n) => ({ id: `a${n}`, tool: 'add', input: { n } })) });
    const awards = report.details?.awards as Record<string, { agent_type: string }>;
    // Two adders at load 0 and 0.5 outbid workers; then load makes workers the better bid.
    expect(Object.values(awards).map((a) => a.agent_type)).toEqual(['adder', 'adder', 'worker', 'worker']);
    expect(report.status).toBe('completed');
  });

  it('takes the pattern from team.coordination when the call names none', async () => {
    p = await orchProject(teamYaml({ coordination: 'pipeline' }));
    const report = await orchestrate({ subtasks: [{ id: 'a', tool: 'add', input: { n: 2 } }, { id: 'b', tool: 'add', input: { n: 3 } }] });
    expect(report.coordination).toBe('pipeline');
    expect(report.result).toBe(5);
  });
});
