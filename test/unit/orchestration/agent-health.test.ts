import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instancesOf } from '../../../src/agents/pool.js';
import { AgentStore } from '../../../src/agents/store.js';
import type { OrchestrationReport } from '../../../src/orchestration/report.js';
import { invokeTool } from '../../../src/tools/invoke.js';
import { callAs, orchProject, teamYaml, type OrchProject } from '../../helpers/orchestration.js';

let p: OrchProject | undefined;
afterEach(() => p?.cleanup());

/** A tool that signals it has started, then runs until cancelled and fails with a plain error. */
const hold = {
  tools: '  hold:\n    description: Runs until cancelled\n    parameters: { mark: { type: string, required: true } }\n    handler: hold.hold\n',
  files: {
    'handlers/hold.mjs': `import { writeFileSync } from 'node:fs';
export async function hold(params, ctx) {
  writeFileSync(params.mark, '');
  await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
}
`,
  },
};

async function worker(id: string) {
  return instancesOf(await new AgentStore(p!.stateDir).read(), 'worker').find((a) => a.id === id);
}

describe('what counts against an agent', () => {
  it('bad input from the caller never makes the agent unhealthy', async () => {
    p = await orchProject(teamYaml({ workers: 1 }));
    for (let i = 0; i < 4; i++) {
      const report = await callAs<OrchestrationReport>(p, 'orchestrate', { task: { subtasks: [{ id: 'a', tool: 'echo', input: { value: 'not a number' } }] } });
      expect(report.subtasks.a).toMatchObject({ status: 'failed', agent_id: 'worker-1', attempts: 1, error: { code: 'ORCH_INPUT' } });
    }
    expect(await worker('worker-1')).toMatchObject({ status: 'available', failureCount: 0, totalFailures: 0 });
    const next = await callAs<OrchestrationReport>(p, 'orchestrate', { task: { subtasks: [{ id: 'a', tool: 'echo', input: { value: 1 } }] } });
    expect(next.status).toBe('completed');
  });

  it('a subtask cancelled while running is reported on its agent, not retried, and not held against the agent', async () => {
    p = await orchProject(teamYaml({ workers: 1 }), hold);
    const mark = path.join(p.dir, 'started');
    const controller = new AbortController();
    const task = { subtasks: [{ id: 'a', tool: 'hold', input: { mark } }, { id: 'b', tool: 'echo', input: { value: 1 }, depends_on: ['a'] }] };
    const pending = invokeTool(p.project, 'orchestrate', { task }, { signal: controller.signal });
    await vi.waitFor(() => expect(existsSync(mark)).toBe(true), { timeout: 20_000 });
    controller.abort();
    const report = (await pending).value as OrchestrationReport;
    expect(report.subtasks.a).toMatchObject({ status: 'failed', agent_id: 'worker-1', attempts: 1, error: { code: 'ORCH_CANCELLED', message: 'cancelled while running on worker-1' } });
    expect(report.subtasks.b).toMatchObject({ status: 'failed', agent_id: null, attempts: 0 });
    expect(report.subtasks_executed).toBe(1);
    const journal = readFileSync(path.join(p.stateDir, 'tasks', report.task_id, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(journal.filter((e) => e.type === 'recovery')).toEqual([]);
    expect(await worker('worker-1')).toMatchObject({ status: 'available', failureCount: 0, totalFailures: 0 });
  });
});
