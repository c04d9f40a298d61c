import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invokeTool, loadProject, orchestrate } from '../../../src/index.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';

// `orchestrate` on a task without subtasks: the orchestrator's model plans (on the stub provider).
const GANTZ = `name: planning
tools:
  word_count:
    description: Counts the words of a text
    parameters: { text: { type: string, required: true } }
    script: { shell: "printf '%s' {{text}} | wc -w | tr -d ' '" }
  handle_failure:
    description: Handle agent failure
    parameters: { agent_id: { type: string, required: true }, task_id: { type: string, required: true } }
    handler: orchestration.handle_failure
  fragile:
    description: Always fails
    script: { shell: "echo broken >&2; exit 1" }
  shout:
    description: Upper-cases a text
    parameters: { text: { type: string, required: true } }
    script: { shell: "printf '%s' {{text}} | tr a-z A-Z" }
`;
const team = (more = '') => `team: { name: planners }
agents:
  - role: orchestrator
    model: claude-sonnet-4-5
    system_prompt: Decompose tasks for the team.
  - role: worker
    count: 2
${more}`;

let stub: LlmStub;
let dir = '';
const saved = { key: process.env.ANTHROPIC_API_KEY, base: process.env.ANTHROPIC_BASE_URL };
beforeAll(async () => {
  stub = await startStub();
  process.env.ANTHROPIC_API_KEY = 'sk-ant-plan-test';
  process.env.ANTHROPIC_BASE_URL = stub.anthropicBase;
});
afterAll(async () => {
  await stub.close();
  process.env.ANTHROPIC_API_KEY = saved.key;
  process.env.ANTHROPIC_BASE_URL = saved.base;
});
beforeEach(() => {
  stub.requests.length = 0;
  dir = mkdtempSync(path.join(tmpdir(), 'orch-plan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(task: Record<string, unknown>, teamYaml = team()) {
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml);
  const { project } = await loadProject({ dir });
  return orchestrate(project, task);
}

const PLAN = JSON.stringify({
  subtasks: [
    { id: 'count', tool: 'word_count', agent_type: 'worker', input: { text: 'declarative agents on MCP' } },
    { id: 'loud', tool: 'shout', input: { text: 'mcp' }, depends_on: ['count'] },
  ],
});

function journal(taskId: string): { type: string; decision?: string; usage?: unknown }[] {
  return readFileSync(path.join(dir, '.orch', 'tasks', taskId, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('orchestrate with an LLM plan', () => {
  it("runs the seed's task without subtasks on the orchestrator's plan, and journals the decision with its usage", async () => {
    stub.reply({ text: PLAN, usage: { input_tokens: 300, output_tokens: 80 } });
    const report = await run({ type: 'analysis', data: { text: 'declarative agents on MCP' } });
    expect(report.status).toBe('completed');
    expect(report.subtasks.count, JSON.stringify(report.subtasks)).toMatchObject({ status: 'succeeded', result: '4' });
    expect(report.subtasks.loud).toMatchObject({ status: 'succeeded', result: 'MCP' });
    const asked = JSON.stringify(stub.requests[0]?.body);
    expect(asked).toContain('word_count'); // the tools a plan may use were offered in the prompt
    expect(asked).toContain('analysis');
    const decision = journal(report.task_id).find((e) => e.type === 'llm_decision');
    expect(decision).toMatchObject({ decision: 'plan', usage: { input_tokens: 300, output_tokens: 80 } });
  });

  it('gives an invalid plan one repair turn', async () => {
    stub.reply({ text: '{"steps": ["count the words"]}' }, { text: PLAN });
    const report = await run({ type: 'analysis' });
    expect(report.status).toBe('completed');
    expect(stub.requests).toHaveLength(2);
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('does not match the required JSON Schema');
  });

  it('fails with ORCH_PLAN_INVALID when the plan is invalid twice', async () => {
    stub.reply({ text: 'I would count the words.' }, { text: '{"subtasks": []}' });
    await expect(run({ type: 'analysis' })).rejects.toMatchObject({ code: 'ORCH_PLAN_INVALID' });
  });

  it('fails with ORCH_PLAN_INVALID naming a tool the project lacks, before anything runs', async () => {
    stub.reply({ text: JSON.stringify({ subtasks: [{ id: 'x', tool: 'summarise', input: {} }] }) });
    await expect(run({ type: 'analysis' })).rejects.toMatchObject({ code: 'ORCH_PLAN_INVALID', message: expect.stringContaining('`summarise`') });
  });

  it('with aggregate: llm, the orchestrator synthesises result, summary and quality_score', async () => {
    stub.reply({ text: PLAN }, { text: '{"result": {"words": 4}, "summary": "Four words, shouted MCP.", "quality_score": 0.9}' });
    const report = await run({ type: 'analysis' }, team('orchestration: { aggregate: llm }\n'));
    expect(report.result).toEqual({ words: 4 });
    expect(report.summary).toBe('Four words, shouted MCP.');
    expect(report.quality_score).toBe(0.9);
    expect(JSON.stringify(stub.requests[1]?.body)).toContain('MCP'); // the results reached the model
  });

  it('without a planner model, a task without subtasks is refused as before', async () => {
    const noModel = `team: { name: planners }\nagents:\n  - role: worker\n    count: 2\n`;
    await expect(run({ type: 'analysis' }, noModel)).rejects.toMatchObject({ code: 'ORCH_TASK' });
  });

  it("handle_failure asks the orchestrator to choose the recovery, and keeps the rules when the answer is unusable", async () => {
    const report = await run({ subtasks: [{ id: 'f', tool: 'fragile', agent_type: 'worker', input: {} }] });
    expect(report.status).toBe('failed');
    const agent = report.subtasks.f?.agent_id;
    const { project } = await loadProject({ dir });
    stub.reply({ text: '{"action": "reassign", "reason": "worker-1 keeps failing; try another instance"}', usage: { input_tokens: 90, output_tokens: 12 } });
    const first = (await invokeTool(project, 'handle_failure', { agent_id: agent, task_id: report.task_id })).value as { recovery_action: string };
    expect(first.recovery_action).toBe('reassign'); // the rules alone would retry first
    expect(JSON.stringify(stub.requests.at(-1)?.body)).toContain('rule_based_choice');
    const events = journal(report.task_id);
    expect(events.find((e) => e.type === 'llm_decision' && e.decision === 'recovery')).toMatchObject({ usage: { input_tokens: 90, output_tokens: 12 } });
    // An answer outside the allowed actions (twice: after its repair turn) leaves the choice to the rules.
    const reassigned = JSON.parse(readFileSync(path.join(dir, '.orch', 'tasks', report.task_id, 'report.json'), 'utf8')) as typeof report;
    const failedOn = reassigned.subtasks.f?.agent_id;
    expect(failedOn).not.toBe(agent); // it failed again, on the instance it was reassigned to
    stub.reply({ text: '{"action": "panic", "reason": "?"}' }, { text: 'no idea' });
    const asked = stub.requests.length;
    const second = (await invokeTool(project, 'handle_failure', { agent_id: failedOn, task_id: report.task_id })).value as { recovery_action: string };
    expect(stub.requests.length - asked).toBe(2);
    expect(stub.pending()).toBe(0);
    expect(['retry', 'reassign', 'partial', 'abort']).toContain(second.recovery_action);
    expect(journal(report.task_id).filter((e) => e.type === 'recovery').at(-1)).toMatchObject({ reason: expect.not.stringContaining('model chose') });
  });
});


describe('orchestrate subtasks that an agent\'s model carries out', () => {
  const peers = `team: { name: poker }
agents:
  - role: dev
    model: claude-sonnet-4-5
  - role: qa
    model: claude-sonnet-4-5
  - role: worker
`;
  const estimate = (id: string, agent: string) => ({ id, agent_type: agent, action: 'estimate_story', input: { story: 'save carts' } });

  it('runs an action that is no tool on the agent type\'s model, which reads the peers\' messages and the round', async () => {
    stub.reply({ when: 'You are the `dev` agent', text: '{"points": 3}' }, { when: 'You are the `qa` agent', text: '{"points": 8}' });
    stub.reply({ when: 'You are the `dev` agent', text: '{"points": 5}' }, { when: 'You are the `qa` agent', text: '{"points": 5}' });
    const report = await run({ coordination: 'peer-to-peer', subtasks: [estimate('d', 'dev'), estimate('q', 'qa')] }, peers);
    expect(report.result).toEqual({ points: 5 });
    expect(report.details).toMatchObject({ agreed: true, rounds: 2 });
    const secondRound = stub.requests.filter((r) => JSON.stringify(r.body).includes('\\"round\\": 2')).map((r) => JSON.stringify(r.body));
    expect(secondRound).toHaveLength(2);
    expect(secondRound.find((b) => b.includes('You are the `dev` agent'))).toContain('\\"q\\": {\\n      \\"points\\": 8');
  });

  it('refuses such an action for an agent without a model, and says which agents have one', async () => {
    await expect(run({ subtasks: [{ id: 'w', agent_type: 'worker', action: 'estimate_story' }] }, peers)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('unknown tool `estimate_story`'),
      hint: expect.stringContaining("for an action an agent's model carries out, name its agent_type (dev, qa)"),
    });
    await expect(run({ subtasks: [{ id: 'x', action: 'estimate_story' }] }, peers)).rejects.toMatchObject({ exitCode: 2 });
    expect(stub.requests).toHaveLength(0);
  });
});
