import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invokeTool, loadProject } from '../../../src/index.js';
import type { MonitorReport } from '../../../src/orchestration/monitor.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';

// monitor_agents with the planner's model asked for recommendations (on the stub provider).
const team = (more = '') => `team: { name: monitored }
${more}agents:
  - role: orchestrator
    model: claude-sonnet-4-5
    system_prompt: Watch the pools.
  - role: worker
    count: 2
`;

let stub: LlmStub;
let dir = '';
const saved = { key: process.env.ANTHROPIC_API_KEY, base: process.env.ANTHROPIC_BASE_URL };
beforeAll(async () => {
  stub = await startStub();
  process.env.ANTHROPIC_API_KEY = 'sk-ant-monitor-test';
  process.env.ANTHROPIC_BASE_URL = stub.anthropicBase;
});
afterAll(async () => {
  await stub.close();
  process.env.ANTHROPIC_API_KEY = saved.key;
  process.env.ANTHROPIC_BASE_URL = saved.base;
});
beforeEach(() => {
  stub.requests.length = 0;
  dir = mkdtempSync(path.join(tmpdir(), 'orch-monitor-'));
});
afterEach(() => {
  expect(stub.pending()).toBe(0); // every scripted answer was asked for
  rmSync(dir, { recursive: true, force: true });
});

async function monitor(params: Record<string, unknown>, teamYaml = team()): Promise<MonitorReport> {
  writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml);
  const { project } = await loadProject({ dir });
  return (await invokeTool(project, 'monitor_agents', params)).value as MonitorReport;
}

function decisions(taskId: string): { type: string; decision?: string; usage?: unknown; status?: string }[] {
  return readFileSync(path.join(dir, '.orch', 'tasks', taskId, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

const ADVICE = { recommendations: [{ agent_type: 'worker', action: 'scale_up', count: 4, reason: 'two workers leave no headroom for the nightly batch' }] };

describe('monitor_agents with recommendations from the planner model', () => {
  it('recommend: true asks the planner about the pools and journals its decision with the usage', async () => {
    stub.reply({ text: JSON.stringify(ADVICE), usage: { input_tokens: 420, output_tokens: 38 } });
    const report = await monitor({ recommend: true });
    expect(report.recommended_by).toBe('model');
    expect(report.recommended_actions).toEqual(ADVICE.recommendations);
    expect(report.recommendations).toEqual(['scale worker to 4 (orch scale --agent-type worker --count 4): two workers leave no headroom for the nightly batch']);
    expect(report.recommendation_note).toBeUndefined();
    // The model saw the pools and what the rules say, and no clock.
    const asked = JSON.stringify(stub.requests[0]?.body);
    expect(asked).toContain('rule_based');
    expect(asked).toContain('\\"type\\": \\"worker\\"');
    expect(asked).not.toMatch(/last_active|\d{4}-\d\d-\d\dT/);
    const events = decisions(report.advice_task ?? '');
    expect(events.map((e) => e.type)).toEqual(['task_started', 'llm_decision', 'task_finished']);
    expect(events[1]).toMatchObject({ decision: 'monitor', usage: { input_tokens: 420, output_tokens: 38 } });
    expect(events[2]).toMatchObject({ status: 'completed' });
  });

  it('gives an invalid answer one repair turn', async () => {
    stub.reply({ text: '{"recommendations": [{"agent_type": "worker", "action": "scale_up", "reason": "more"}]}' }, { text: JSON.stringify(ADVICE) });
    const report = await monitor({ recommend: true });
    expect(stub.requests).toHaveLength(2);
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('count');
    expect(report.recommended_by).toBe('model');
    expect(report.recommended_actions).toEqual(ADVICE.recommendations);
  });

  it('invalid twice: the rules recommend, with a note saying why, and the failed decision is journalled', async () => {
    stub.reply({ text: 'add more workers' }, { text: '{"recommendations": [{"agent_type": "cook", "action": "hire", "reason": "?"}]}' });
    const report = await monitor({ recommend: true }, team());
    expect(stub.requests).toHaveLength(2);
    expect(report.recommended_by).toBe('rules');
    expect(report.recommended_actions).toEqual([]); // idle pools: the rules have nothing to say
    expect(report.recommendation_note).toMatch(/the orchestrator model's recommendations could not be used \(.*output_schema.*\): these are the rules'/);
    expect(decisions(report.advice_task ?? '').map((e) => [e.type, e.status])).toEqual([
      ['task_started', undefined],
      ['task_finished', 'failed'],
    ]);
  });

  it('orchestration.monitor: llm asks on every call unless it says recommend: false; orch status never asks', async () => {
    stub.reply({ text: JSON.stringify({ recommendations: [{ agent_type: 'worker', action: 'none', reason: 'idle' }] }) });
    const yaml = team('orchestration: { monitor: llm }\n');
    const asked = await monitor({}, yaml);
    expect(asked).toMatchObject({ recommended_by: 'model', recommendations: [], recommended_actions: [{ agent_type: 'worker', action: 'none', reason: 'idle' }] });
    const skipped = await monitor({ recommend: false }, yaml);
    expect(skipped.recommended_by).toBe('rules');
    const { project } = await loadProject({ dir });
    const { monitor: status } = await import('../../../src/orchestration/monitor.js');
    const { orchestration } = await import('../../../src/orchestration/context.js');
    expect((await status(orchestration({ project, stateDir: path.join(dir, '.orch') }), {})).recommended_by).toBe('rules');
    expect(stub.requests).toHaveLength(1);
  });

  it('without a planner model, or with none of its instances free, the rules recommend as before and say so', async () => {
    const noModel = `team: { name: monitored }\nagents:\n  - role: worker\n    count: 2\n`;
    const plain = await monitor({}, noModel);
    expect(plain).toMatchObject({ recommended_by: 'rules', recommended_actions: [] });
    expect(plain.recommendation_note).toBeUndefined();
    expect((await monitor({ recommend: true }, noModel)).recommendation_note).toContain('no planner agent has a model');
    // Every orchestrator instance busy (it may be the one calling): nothing waits on itself.
    writeFileSync(path.join(dir, 'agent-team.yaml'), team());
    const { project } = await loadProject({ dir });
    const { AgentStore } = await import('../../../src/agents/store.js');
    const { leaseInstances } = await import('../../../src/agents/pool.js');
    const { agentTypes } = await import('../../../src/agents/agent-types.js');
    const { selfOwner } = await import('../../../src/engine/leases.js');
    const type = agentTypes(project).get('orchestrator');
    await new AgentStore(path.join(dir, '.orch')).update((registry) => {
      if (!type) throw new Error('no orchestrator type');
      leaseInstances(registry, type, 1, selfOwner(), 'the-step-calling');
    });
    const busy = await monitor({ recommend: true });
    expect(busy.recommendation_note).toContain('no orchestrator instance is free to ask');
    expect(stub.requests).toHaveLength(0);
    expect(readdirSync(path.join(dir, '.orch')).includes('tasks')).toBe(false);
  });

  it('refuses a recommend that is not a boolean', async () => {
    await expect(monitor({ recommend: 'yes' })).rejects.toMatchObject({ code: 'ORCH_INPUT' });
  });
});
