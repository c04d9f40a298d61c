import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import { validateProject } from '../../../src/index.js';
import { Journal } from '../../../src/state/journal.js';
import { loadRun, runPaths } from '../../../src/state/runs.js';
import { resumeRun, startRun, type SessionOptions, type SessionResult } from '../../../src/workflow/session.js';
import { silentLogger } from '../../../src/tools/context.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';

const KEY = 'sk-ant-stub-secret-4242';

const GANTZ = `name: llm-test
tools:
  lookup:
    description: Looks a service up
    parameters: { service: { type: string, required: true } }
    read_only: true
    script: { shell: "printf '{\\"service\\": \\"%s\\", \\"healthy\\": true}' {{service}}" }
  deploy:
    description: Deploys a service
    parameters: { service: { type: string, required: true } }
    destructive: true
    script: { shell: "printf 'deployed %s' {{service}} | tee -a deployed.log" }
  noisy:
    description: Prints a lot
    script: { shell: "head -c 5000 /dev/zero | tr '\\\\0' x" }
`;

function team(extra: { agent?: string; step?: string; team?: string } = {}): string {
  return `team: { name: llm-team${extra.team ?? ''} }
agents:
  - role: reviewer
    model: claude-sonnet-4-5
    system_prompt: You review changes before they ship.
    tools: [lookup, { name: deploy, approval: required }, noisy]
${extra.agent ?? ''}
  - role: planner
    model: gpt-4o
    tools: [lookup]
workflows:
  review:
    - { id: review, agent: reviewer, action: review_changes, with: { service: api }${extra.step ?? ''} }
  plan:
    - { id: plan, agent: planner, action: plan_release, with: { service: api } }
`;
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its journal as `this`
const original = Journal.prototype.append;

let dir: string;
let stub: LlmStub;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  stub = await startStub();
  dir = mkdtempSync(path.join(tmpdir(), 'orch-llm-'));
  env = { PATH: process.env.PATH, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: stub.anthropicBase, OPENAI_API_KEY: 'sk-openai-stub-777', OPENAI_BASE_URL: stub.openaiBase };
});
afterEach(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(workflow: string, teamYaml = team(), more: Partial<SessionOptions> = {}): Promise<SessionResult> {
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml);
  const { project } = await loadProject({ dir, env });
  const wf = project.workflows.get(workflow);
  if (!wf) throw new Error(`no workflow ${workflow}`);
  return startRun({ project, workflow: wf, approve: new Set(), approveAll: false, logger: silentLogger, env, ...more }, {});
}

async function resume(runId: string, more: Partial<SessionOptions> = {}): Promise<SessionResult> {
  const { project } = await loadProject({ dir, env });
  const state = await loadRun(path.join(dir, '.orch'), runId);
  const wf = project.workflows.get(state.workflow);
  if (!wf) throw new Error('no workflow');
  return resumeRun({ project, workflow: wf, approve: new Set(), approveAll: false, logger: silentLogger, env, ...more }, runId);
}

function journal(runId: string): { type: string; [k: string]: unknown }[] {
  return readFileSync(runPaths(path.join(dir, '.orch'), runId).journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
}

const toolNamesOffered = (i: number) => ((stub.requests[i]?.body.tools as { name?: string; function?: { name: string } }[] | undefined) ?? []).map((t) => t.name ?? t.function?.name);

describe('LLM agents', () => {
  it('runs a two-turn tool loop on Anthropic, offering exactly the agent\'s tools, and journals every turn', async () => {
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'api' } }], usage: { input_tokens: 100, output_tokens: 20 } }, { text: '{"approved": true, "notes": "healthy"}', usage: { input_tokens: 150, output_tokens: 10 } });
    const r = await run('review');
    expect(r.outcome).toBe('succeeded');
    const step = r.state.steps.get('review');
    expect(step?.output).toEqual({ approved: true, notes: 'healthy' });
    expect(step?.usage).toMatchObject({ input_tokens: 250, output_tokens: 30 });
    expect(step?.usage?.cost_usd).toBeCloseTo((250 * 3 + 30 * 15) / 1e6, 9);
    expect(stub.requests).toHaveLength(2);
    expect(stub.requests[0]?.api).toBe('anthropic');
    expect(toolNamesOffered(0).sort()).toEqual(['deploy', 'lookup', 'noisy']);
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('healthy');
    expect(JSON.stringify(stub.requests[0]?.body.system)).toContain('You review changes before they ship.');
    const types = journal(r.state.runId).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['model_turn', 'tool_call_started', 'tool_call_finished']));
    expect(types.filter((t) => t === 'model_turn')).toHaveLength(2);
  });

  it('syncs a model turn to disk before its calls run unless every call only reads; one that reads or answers is synced with the step', async () => {
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'api' } }] }, { toolCalls: [{ name: 'noisy', input: {} }] }, { text: 'done' });
    const appends: [string, boolean][] = [];
    const append = vi.spyOn(Journal.prototype, 'append').mockImplementation(function (this: Journal, event, options = {}) {
      appends.push([event.type, options.sync !== false]);
      return original.call(this, event, options);
    });
    let r: SessionResult;
    try {
      r = await run('review');
    } finally {
      append.mockRestore();
    }
    expect(r.outcome).toBe('succeeded');
    // lookup (read_only) runs with its turn written but not yet synced; noisy (no read_only) only once its turn is on disk.
    expect(appends.filter(([type]) => type === 'model_turn').map(([, sync]) => sync)).toEqual([false, true, false]);
    const at = appends.findIndex(([type, sync]) => type === 'model_turn' && sync);
    expect(appends[at + 1]).toEqual(['tool_call_started', false]);
    expect(appends.at(-2)).toEqual(['step_succeeded', true]);
    expect(journal(r.state.runId).filter((e) => e.type === 'model_turn')).toHaveLength(3);
  });

  it('runs the same loop on OpenAI chat completions, with parallel tool calls', async () => {
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'a' } }, { name: 'lookup', input: { service: 'b' } }] }, { text: 'both healthy' });
    const r = await run('plan');
    expect(r.outcome).toBe('succeeded');
    expect(stub.requests.map((q) => q.api)).toEqual(['openai', 'openai']);
    const finished = journal(r.state.runId).filter((e) => e.type === 'tool_call_finished');
    expect(finished).toHaveLength(2);
    const toolMessages = (stub.requests[1]?.body.messages as { role: string }[]).filter((m) => m.role === 'tool');
    expect(toolMessages).toHaveLength(2);
    expect(r.state.steps.get('plan')?.output).toBe('both healthy');
  });

  it('never runs a tool the agent may not use: the model gets an error naming its tools, and the refusal is journalled', async () => {
    stub.reply({ toolCalls: [{ name: 'lookup_everything', input: {} }] }, { text: 'ok' });
    const r = await run('plan');
    expect(r.outcome).toBe('succeeded');
    const refused = journal(r.state.runId).find((e) => e.type === 'tool_call_finished');
    expect(refused).toMatchObject({ ok: false, refused: true });
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('its tools are: lookup');
    expect(journal(r.state.runId).some((e) => e.type === 'tool_call_started')).toBe(false);
  });

  it.each([
    ['max_turns', 'budget: { max_turns: 1 }', 'max_turns 1'],
    ['max_tokens', 'budget: { max_tokens: 50 }', 'max_tokens 50'],
    ['max_cost_usd', 'budget: { max_cost_usd: 0.0001 }', 'max_cost_usd'],
  ])('ends a step that exceeds %s with ORCH_BUDGET_EXCEEDED and its usage, making no further call', async (_name, budget, words) => {
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'x' } }], usage: { input_tokens: 100, output_tokens: 20 } }, { text: 'never asked' });
    const r = await run('review', team({ step: `, ${budget}` }));
    expect(r.outcome).toBe('failed');
    const failed = journal(r.state.runId).find((e) => e.type === 'step_failed');
    expect(failed).toMatchObject({ code: 'ORCH_BUDGET_EXCEEDED', final: true });
    expect(String(failed?.error)).toContain(words);
    expect(String(failed?.error)).toContain('100 input + 20 output tokens');
    expect(stub.requests).toHaveLength(1);
  });

  it('a team budget spans the run, and an agent budget applies to each of its steps', async () => {
    stub.reply({ text: 'one', usage: { input_tokens: 40, output_tokens: 0 } });
    const r = await run('review', team({ team: ', budget: { max_tokens: 30 }' }));
    expect(r.outcome).toBe('failed');
    expect(journal(r.state.runId).find((e) => e.type === 'step_failed')).toMatchObject({ code: 'ORCH_BUDGET_EXCEEDED' });
  });

  it('gives the model one repair turn for an answer that does not match output_schema, then fails the step', async () => {
    const schema = ', output_schema: { type: object, required: [approved], properties: { approved: { type: boolean } } }';
    stub.reply({ text: 'looks fine' }, { text: '{"approved": true}' });
    const ok = await run('review', team({ step: schema }));
    expect(ok.outcome).toBe('succeeded');
    expect(ok.state.steps.get('review')?.output).toEqual({ approved: true });
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('does not match the required JSON Schema');

    stub.reply({ text: 'still prose' }, { text: 'and again' });
    const bad = await run('review', team({ step: schema }));
    expect(bad.outcome).toBe('failed');
    expect(journal(bad.state.runId).find((e) => e.type === 'step_failed')).toMatchObject({ code: 'ORCH_OUTPUT_INVALID' });
  });

  it('pauses at a tool call that needs approval; approve → resume runs it without asking the model again', async () => {
    stub.reply({ toolCalls: [{ name: 'deploy', input: { service: 'api' } }] }, { text: 'deployed' });
    const paused = await run('review');
    expect(paused.outcome).toBe('paused');
    const waiting = journal(paused.state.runId).find((e) => e.type === 'gate_waiting');
    expect(waiting).toMatchObject({ gate: 'tool_approval', tool_call: { tool: 'deploy', input: { service: 'api' } } });
    expect(existsSync(path.join(dir, 'deployed.log'))).toBe(false);
    await decide(paused.state.runId, 'approved');
    const done = await resume(paused.state.runId);
    expect(done.outcome).toBe('succeeded');
    expect(readFileSync(path.join(dir, 'deployed.log'), 'utf8')).toBe('deployed api');
    // The first turn was not asked again: one request before the pause, one after.
    expect(stub.requests).toHaveLength(2);
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('deployed api');
  });

  it('a rejected tool call reaches the model as a tool error carrying the reason', async () => {
    stub.reply({ toolCalls: [{ name: 'deploy', input: { service: 'api' } }] }, { text: 'not deployed' });
    const paused = await run('review');
    await decide(paused.state.runId, 'rejected', 'freeze until Monday');
    const done = await resume(paused.state.runId);
    expect(done.outcome).toBe('succeeded');
    expect(existsSync(path.join(dir, 'deployed.log'))).toBe(false);
    expect(JSON.stringify(stub.requests[1]?.body.messages)).toContain('freeze until Monday');
  });

  it('--approve-all covers tool calls too; approval: destructive asks for destructive tools', async () => {
    stub.reply({ toolCalls: [{ name: 'deploy', input: { service: 'web' } }] }, { text: 'done' });
    const r = await run('review', team(), { approveAll: true });
    expect(r.outcome).toBe('succeeded');
    expect(journal(r.state.runId).find((e) => e.type === 'gate_decided')).toMatchObject({ method: 'flag', decision: 'approved' });

    const destructive = team().replace('tools: [lookup, { name: deploy, approval: required }, noisy]', 'tools: [lookup, deploy]\n    approval: destructive');
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'web' } }] }, { toolCalls: [{ name: 'deploy', input: { service: 'web' } }] });
    const paused = await run('review', destructive);
    expect(paused.outcome).toBe('paused');
    expect(journal(paused.state.runId).find((e) => e.type === 'gate_waiting')).toMatchObject({ tool_call: { tool: 'deploy' } });
  });

  it('cuts a long tool result with a note to the model (max_tool_result_chars)', async () => {
    stub.reply({ toolCalls: [{ name: 'noisy', input: {} }] }, { text: 'done' });
    const r = await run('review', team({ agent: '    max_tool_result_chars: 1000' }));
    expect(r.outcome).toBe('succeeded');
    const sent = JSON.stringify(stub.requests[1]?.body.messages);
    expect(sent).toContain('result truncated, 4000 of 5000 characters left out');
  });

  it("cuts the oldest tool results, with a note, once the history would pass the model's context", async () => {
    // 41 results of 5,000 characters: past the 200,000 characters of history a model is sent.
    stub.reply({ toolCalls: Array.from({ length: 41 }, () => ({ name: 'noisy', input: {} })) }, { toolCalls: [{ name: 'lookup', input: { service: 'api' } }] }, { text: 'done' });
    const r = await run('review');
    expect(r.outcome).toBe('succeeded');
    const [, second, third] = stub.requests.map((q) => JSON.stringify(q.body.messages));
    // The newest results always go whole; once older, they are cut, each with its note.
    expect(second).not.toContain('was cut to fit');
    expect(second).toContain('x'.repeat(5000));
    expect(third?.match(/this earlier result \(5000 characters\) was cut to fit the model's context/g)?.length).toBeGreaterThan(0);
    expect(third).toContain('healthy');
  });

  it('records provider exchanges, then replays them with the provider gone; a replay miss names the step and turn', async () => {
    const cassette = path.join(dir, 'cassette');
    stub.reply({ toolCalls: [{ name: 'lookup', input: { service: 'api' } }] }, { text: '{"approved": true}' });
    const recorded = await run('review', team(), { cassette: { record: cassette } });
    expect(recorded.outcome).toBe('succeeded');
    await stub.close();
    const offline = { ...env, ANTHROPIC_API_KEY: undefined };
    env = offline;
    const replayed = await run('review', team(), { cassette: { replay: cassette }, env: offline });
    expect(replayed.outcome).toBe('succeeded');
    expect(replayed.state.steps.get('review')?.output).toEqual({ approved: true });
    const missed = await run('plan', team(), { cassette: { replay: cassette }, env: offline });
    expect(missed.outcome).toBe('failed');
    const failed = journal(missed.state.runId).find((e) => e.type === 'step_failed');
    expect(failed).toMatchObject({ code: 'ORCH_REPLAY_MISS' });
    expect(String(failed?.error)).toContain('step plan, turn 1');
    for (const file of readdirSync(cassette)) expect(readFileSync(path.join(cassette, file), 'utf8')).not.toContain(KEY);
  });

  it('refuses a run whose model needs a key that is not set, before any step runs', async () => {
    env = { ...env, ANTHROPIC_API_KEY: undefined };
    await expect(run('review')).rejects.toMatchObject({ code: 'ORCH_LLM_KEY_MISSING', message: expect.stringContaining('ANTHROPIC_API_KEY') });
    expect(existsSync(path.join(dir, '.orch', 'runs'))).toBe(false);
    expect(stub.requests).toHaveLength(0);
  });

  it('retries a 429 honouring retry-after, and never writes the key under .orch/', async () => {
    stub.reply({ status: 429, retryAfter: 1 }, { text: 'fine' });
    const r = await run('review');
    expect(r.outcome).toBe('succeeded');
    expect(stub.requests).toHaveLength(2);
    const all = readdirSync(path.join(dir, '.orch'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    for (const f of all) expect(readFileSync(path.join(f.parentPath, f.name), 'utf8')).not.toContain(KEY);
  });
});

describe('orch validate on LLM agents', () => {
  it('warns of a key that is not set, and refuses a cost budget on a model without a known price', async () => {
    writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
    writeFileSync(
      path.join(dir, 'agent-team.yaml'),
      `team: { name: t }\nmodels:\n  local: { provider: openai-compatible, base_url: "http://127.0.0.1:9/v1", model: llama }\nagents:\n  - role: reviewer\n    model: claude-sonnet-4-5\n  - role: cheap\n    model: local\n    budget: { max_cost_usd: 1 }\n`,
    );
    const validation = await validateProject({ dir, env: { PATH: process.env.PATH } });
    expect(validation.ok).toBe(false);
    expect(validation.issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'ORCH_LLM_KEY_MISSING', file: 'agent-team.yaml', line: 6 }));
    expect(validation.issues).toContainEqual(expect.objectContaining({ severity: 'error', code: 'ORCH_PRICE_UNKNOWN', file: 'agent-team.yaml', line: 9 }));
  });
});

/** As `orch approve` / `orch reject` records a decision on the pending tool call. */
async function decide(runId: string, decision: 'approved' | 'rejected', reason?: string): Promise<void> {
  const stateDir = path.join(dir, '.orch');
  const state = await loadRun(stateDir, runId);
  const step = [...state.steps.values()].find((s) => s.pendingToolCall);
  if (!step?.pendingToolCall) throw new Error('no pending tool call');
  const j = await Journal.open(runPaths(stateDir, runId).journal);
  await j.append({ type: 'gate_decided', step: step.id, decision, by: 'tester', method: 'command', when: 'before', reason, call_id: step.pendingToolCall.call_id });
  await j.close();
}
