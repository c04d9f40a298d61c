import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load.js';
import { validateProject } from '../../../src/index.js';
import { runPaths } from '../../../src/state/runs.js';
import { resumeRun, startRun, type SessionResult } from '../../../src/workflow/session.js';
import { Journal } from '../../../src/state/journal.js';
import { silentLogger } from '../../../src/tools/context.js';
import { run as logs } from '../../../src/cli/commands/logs.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';

// An orchestrator that delegates to specialists with dispatch_to_agent, on the stub provider.
const GANTZ = `name: delegation
tools:
  scan:
    description: Scans a service
    parameters: { service: { type: string, required: true } }
    script: { shell: "printf 'scanned %s' {{service}}" }
`;

function team(more = ''): string {
  return `team: { name: ops${more} }
agents:
  - role: orchestrator
    model: claude-sonnet-4-5
    system_prompt: Receive requests, delegate to specialists, synthesize results. Never act directly.
    tools: [dispatch_to_agent, check_agent_status]
  - role: security
    description: Finds vulnerabilities
    model: claude-sonnet-4-5
    tools: [scan, dispatch_to_agent]
  - role: reliability
    model: claude-sonnet-4-5
    tools: [dispatch_to_agent]
  - role: writer
    model: claude-sonnet-4-5
    tools: []
workflows:
  handle:
    - { id: handle, agent: orchestrator, action: handle_request, with: { service: api } }
`;
}

/** Scripts an agent's answers: each served only to requests of that agent (its role is in the system prompt). */
const as = (role: string) => `You are the \`${role}\` agent`;

let dir: string;
let stub: LlmStub;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  stub = await startStub();
  dir = mkdtempSync(path.join(tmpdir(), 'orch-delegation-'));
  env = { PATH: process.env.PATH, ANTHROPIC_API_KEY: 'sk-ant-delegation-1', ANTHROPIC_BASE_URL: stub.anthropicBase };
});
afterEach(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(teamYaml = team()): Promise<SessionResult> {
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml);
  const { project } = await loadProject({ dir, env });
  const wf = project.workflows.get('handle');
  if (!wf) throw new Error('no workflow');
  return startRun({ project, workflow: wf, approve: new Set(), approveAll: false, logger: silentLogger, env }, {});
}

type Event = { type: string; via?: string; agent?: string; tool?: string; call_id?: string; ok?: boolean; error?: string; output?: unknown };
function journal(runId: string): Event[] {
  return readFileSync(runPaths(path.join(dir, '.orch'), runId).journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event);
}

/** What the model of `role` was sent as tool results, all requests together. */
function resultsSeenBy(role: string): string {
  return stub.requests.filter((q) => JSON.stringify(q.body.system).includes(as(role))).map((q) => JSON.stringify(q.body.messages)).join('\n');
}

describe('delegation between LLM agents', () => {
  it('validates the built-in agent tools the guide seed lists', async () => {
    writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
    writeFileSync(path.join(dir, 'agent-team.yaml'), team());
    const v = await validateProject({ dir, env });
    expect(v.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('dispatches to two specialists in parallel, each in its own loop, and synthesises; usage adds up; logs nest', async () => {
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'security', task: 'scan the api service' } }, { name: 'dispatch_to_agent', input: { agent: 'reliability', task: { action: 'assess', input: { service: 'api' } } } }], usage: { input_tokens: 100, output_tokens: 10 } },
      { when: as('security'), toolCalls: [{ name: 'scan', input: { service: 'api' } }], usage: { input_tokens: 50, output_tokens: 5 } },
      { when: as('security'), text: 'no vulnerabilities found', usage: { input_tokens: 60, output_tokens: 6 } },
      { when: as('reliability'), text: '{"slo": "met"}', usage: { input_tokens: 40, output_tokens: 4 } },
      { when: as('orchestrator'), text: '{"summary": "safe and reliable"}', usage: { input_tokens: 200, output_tokens: 20 } },
    );
    const r = await run();
    expect(r.outcome, JSON.stringify(r.state.steps.get('handle')?.error)).toBe('succeeded');
    const step = r.state.steps.get('handle');
    expect(step?.output).toEqual({ summary: 'safe and reliable' });
    // Every turn of every agent counts toward the step.
    expect(step?.usage).toMatchObject({ input_tokens: 450, output_tokens: 45 });
    // The specialists' answers reached the orchestrator as the dispatch results.
    const seen = resultsSeenBy('orchestrator');
    expect(seen).toContain('no vulnerabilities found');
    expect(seen).toContain('slo');
    // The reliability agent was asked the object task's action with its input.
    expect(resultsSeenBy('reliability')).toContain('Action: assess');
    // Delegated events are journalled under the dispatch call they serve.
    const events = journal(r.state.runId);
    const dispatches = events.filter((e) => e.type === 'tool_call_started' && e.tool === 'dispatch_to_agent');
    expect(dispatches).toHaveLength(2);
    const scan = events.find((e) => e.type === 'tool_call_finished' && e.tool === 'scan');
    expect(scan?.agent).toBe('security');
    expect(dispatches.map((d) => d.call_id)).toContain(scan?.via);
    let out = '';
    await logs({ dir, json: false, verbose: false } as never, r.state.runId, undefined, undefined, { stdout: { write: (t: string) => ((out += t), true) }, stderr: process.stderr, stdin: process.stdin } as never);
    expect(out).toMatch(/handle:\s+↳ security\s+turn 1/);
    expect(out).toMatch(/handle:\s+↳ security\s+scan returned/);
  });

  it('refuses a delegation back to an agent on the call chain, with an error the model reads', async () => {
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'security', task: 'check' } }] },
      { when: as('security'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'orchestrator', task: 'you do it' } }] },
      { when: as('security'), text: 'checked it myself' },
      { when: as('orchestrator'), text: 'done' },
    );
    const r = await run();
    expect(r.outcome).toBe('succeeded');
    expect(resultsSeenBy('security')).toContain('delegation cycle: orchestrator → security → orchestrator');
    expect(stub.requests).toHaveLength(4); // the orchestrator was not run a second time
  });

  it('stops delegation past max_delegation_depth', async () => {
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'security', task: 'check' } }] },
      { when: as('security'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'reliability', task: 'check deeper' } }] },
      { when: as('security'), text: 'stopped at my level' },
      { when: as('orchestrator'), text: 'done' },
    );
    const r = await run(team(', max_delegation_depth: 1'));
    expect(r.outcome).toBe('succeeded');
    expect(resultsSeenBy('security')).toContain('max_delegation_depth is 1');
    expect(stub.requests.some((q) => JSON.stringify(q.body.system).includes(as('reliability')))).toBe(false);
  });

  it("counts a delegated run's tokens toward the caller's budget", async () => {
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'writer', task: 'write it' } }], usage: { input_tokens: 100, output_tokens: 10 } },
      { when: as('writer'), text: 'a long text', usage: { input_tokens: 500, output_tokens: 400 } },
      { when: as('orchestrator'), text: 'should not be asked' },
    );
    const r = await run(team(', budget: { max_tokens: 800 }'));
    expect(r.outcome).toBe('failed');
    expect(r.state.steps.get('handle')?.error).toContain('budget exceeded');
    expect(stub.requests).toHaveLength(2);
  });

  it('check_agent_status reports the pools', async () => {
    stub.reply({ when: as('orchestrator'), toolCalls: [{ name: 'check_agent_status', input: {} }] }, { when: as('orchestrator'), text: 'ok' });
    const r = await run();
    expect(r.outcome).toBe('succeeded');
    const seen = resultsSeenBy('orchestrator');
    expect(seen).toContain('security');
    expect(seen).toContain('available');
  });

  it('a handoff passes the conversation to another agent, which finishes the step', async () => {
    const withHandoff = team().replace('    tools: [dispatch_to_agent, check_agent_status]\n', '    tools: [check_agent_status]\n    handoffs: [security]\n');
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'check_agent_status', input: {} }] },
      { when: as('orchestrator'), toolCalls: [{ name: 'transfer_to_agent', input: { agent: 'security', note: 'this is a security question' } }] },
      { when: as('security'), toolCalls: [{ name: 'scan', input: { service: 'api' } }] },
      { when: as('security'), text: '{"verdict": "safe"}' },
    );
    const r = await run(withHandoff);
    expect(r.outcome, JSON.stringify(r.state.steps.get('handle')?.error)).toBe('succeeded');
    expect(r.state.steps.get('handle')?.output).toEqual({ verdict: 'safe' });
    // The agent taken over saw the conversation so far and the note.
    const seen = resultsSeenBy('security');
    expect(seen).toContain('handed over to you by the `orchestrator` agent with the note: this is a security question');
    expect(seen).toContain('[agent called check_agent_status]');
    expect(stub.requests).toHaveLength(4);
    const events = journal(r.state.runId);
    expect(events.find((e) => e.type === 'tool_call_finished' && e.tool === 'scan')?.agent).toBe('security');
    expect(events.some((e) => e.type === 'tool_call_finished' && e.tool === 'transfer_to_agent' && e.ok)).toBe(true);
  });

  it('validates handoffs to unknown agents', async () => {
    writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
    writeFileSync(path.join(dir, 'agent-team.yaml'), team().replace('    tools: [dispatch_to_agent, check_agent_status]\n', '    tools: []\n    handoffs: [securty]\n'));
    const v = await validateProject({ dir, env });
    expect(v.issues.map((i) => i.message)).toContain('agent `orchestrator` hands off to unknown agent `securty`');
  });

  it('a run paused after a handoff resumes in the agent taken over, asking nobody again', async () => {
    const withHandoff = team()
      .replace('    tools: [dispatch_to_agent, check_agent_status]\n', '    tools: []\n    handoffs: [security]\n')
      .replace('    tools: [scan, dispatch_to_agent]\n', '    tools: [{ name: scan, approval: required }]\n');
    stub.reply(
      { when: as('orchestrator'), toolCalls: [{ name: 'transfer_to_agent', input: { agent: 'security' } }] },
      { when: as('security'), toolCalls: [{ name: 'scan', input: { service: 'api' } }] },
      { when: as('security'), text: 'scanned: clean' },
    );
    const paused = await run(withHandoff);
    expect(paused.outcome).toBe('paused');
    expect(stub.requests).toHaveLength(2);
    const runId = paused.state.runId;
    const journalFile = runPaths(path.join(dir, '.orch'), runId).journal;
    const j = await Journal.open(journalFile);
    const call = paused.state.steps.get('handle')?.pendingToolCall;
    await j.append({ type: 'gate_decided', step: 'handle', decision: 'approved', by: 'test', method: 'command', when: 'before', call_id: call?.call_id });
    await j.close();
    const { project } = await loadProject({ dir, env });
    const wf = project.workflows.get('handle');
    if (!wf) throw new Error('no workflow');
    const done = await resumeRun({ project, workflow: wf, approve: new Set(), approveAll: false, logger: silentLogger, env }, runId);
    expect(done.outcome, JSON.stringify(done.state.steps.get('handle')?.error)).toBe('succeeded');
    expect(done.state.steps.get('handle')?.output).toBe('scanned: clean');
    expect(stub.requests).toHaveLength(3); // neither agent's finished turns were asked again
  });
});

