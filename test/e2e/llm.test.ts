import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { startStubProcess as startStub, type StubProcess } from '../helpers/llm-stub-process.js';
import type { StubReply } from '../helpers/llm-stub.js';
import { until } from '../helpers/workflow-project.js';

const KEY = 'sk-ant-e2e-secret-9191';

const GANTZ = `name: llm-e2e
tools:
  check:
    description: Checks a service, slowly
    parameters: { service: { type: string, required: true } }
    script: { shell: "echo run >> check.log; while [ ! -f go ]; do sleep 0.05; done; printf 'ok %s' {{service}}" }
  deploy:
    description: Deploys a service
    parameters: { service: { type: string, required: true } }
    script: { shell: "printf 'deployed %s' {{service}} | tee -a deployed.log" }
`;
const TEAM = `team: { name: e2e-team }
agents:
  - role: reviewer
    model: claude-sonnet-4-5
    tools: [check, { name: deploy, approval: required }]
workflows:
  review:
    - { id: review, agent: reviewer, action: review_changes, with: { service: api } }
`;

type Stub = StubProcess;

let dir: string;
let stub: Stub | undefined;
afterEach(() => {
  stub?.process.kill('SIGTERM');
  stub = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function startStubProcess(replies: StubReply[]): Promise<Stub> {
  return startStub(dir, replies);
}

async function requests(): Promise<number> {
  const res = await fetch(`${stub!.url}/_stub/requests`);
  return ((await res.json()) as unknown[]).length;
}

function project(): NodeJS.ProcessEnv {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-llm-e2e-'));
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM);
  return { ANTHROPIC_API_KEY: KEY };
}

describe('orch run with an LLM agent', () => {
  it('kill -9 during a tool call, then resume: the finished model turn is not asked again, the unfinished call runs again', async () => {
    const env = project();
    stub = await startStubProcess([{ toolCalls: [{ name: 'check', input: { service: 'api' } }] }, { text: '{"approved": true}' }]);
    const child = spawn(process.execPath, [BIN, 'run', 'review'], { cwd: dir, env: { ...process.env, ...env, ANTHROPIC_BASE_URL: stub.anthropicBase }, stdio: 'ignore' });
    await until(() => existsSync(path.join(dir, 'check.log')), 'the tool call to start');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await requests()).toBe(1);
    const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    writeFileSync(path.join(dir, 'go'), '');
    const r = orch(['--json', 'resume', runId], { cwd: dir, env: { ...env, ANTHROPIC_BASE_URL: stub.anthropicBase } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { steps: { output: unknown; usage?: unknown }[]; usage?: unknown; cost_usd?: number };
    expect(report.steps[0]?.output).toEqual({ approved: true });
    expect(report.usage).toEqual({ input_tokens: 20, output_tokens: 10 });
    expect(report.cost_usd).toBeGreaterThan(0);
    // Two model turns in all: the first was not requested again after the crash (at-least-once for the tool).
    expect(await requests()).toBe(2);
    expect(readFileSync(path.join(dir, 'check.log'), 'utf8').trim().split('\n')).toEqual(['run', 'run']);
    expect(orch(['logs', runId], { cwd: dir }).stdout).toMatch(/turn 1 \(claude-sonnet-4-5, 10 in \/ 5 out tokens/);
  });

  it('pauses without a terminal at a call that needs approval (exit 3); orch approve and orch resume finish it', async () => {
    const env = project();
    writeFileSync(path.join(dir, 'go'), '');
    stub = await startStubProcess([{ toolCalls: [{ name: 'deploy', input: { service: 'api' } }] }, { text: 'shipped' }]);
    const run = { ...env, ANTHROPIC_BASE_URL: stub.anthropicBase };
    const paused = orch(['run', 'review'], { cwd: dir, env: run });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain('the model wants to call deploy {"service":"api"}');
    const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    expect(orch(['logs', runId], { cwd: dir }).stdout).toContain("waiting for approval of the model's call deploy");
    expect(orch(['approve', runId, 'review'], { cwd: dir }).code).toBe(0);
    const done = orch(['resume', runId], { cwd: dir, env: run });
    expect(done.code, done.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'deployed.log'), 'utf8')).toBe('deployed api');
    expect(await requests()).toBe(2);
    for (const f of readdirSync(path.join(dir, '.orch'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile())) {
      expect(readFileSync(path.join(f.parentPath, f.name), 'utf8')).not.toContain(KEY);
    }
  });

  it('examples/llm-review runs offline from its recording with --replay, with no key and no provider', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-llm-replay-'));
    cpSync(fileURLToPath(new URL('../../examples/llm-review', import.meta.url)), dir, { recursive: true });
    const r = orch(['--json', 'run', 'review_release', '--replay', 'cassettes'], { cwd: dir, env: { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { steps: { output: unknown; usage: unknown }[] };
    expect(report.steps[0]?.output).toMatchObject({ approved: true });
    expect(report.steps[0]?.usage).toEqual({ input_tokens: 942, output_tokens: 79 });
    // A changed prompt has no recording: the miss names the step and turn.
    writeFileSync(path.join(dir, 'RELEASE_NOTES.md'), '# 2.4.1\n- something else\n');
    const miss = orch(['run', 'review_release', '--replay', 'cassettes'], { cwd: dir, env: { ANTHROPIC_API_KEY: '' } });
    expect(miss.code).toBe(1);
    expect(miss.stdout + miss.stderr).toContain('step review, turn 2');
  });

  it('orch run orchestrate --record, then --replay with no key: the plan, a subtask the model carries out and the synthesis come from the recording', async () => {
    project();
    writeFileSync(path.join(dir, 'gantz.yaml'), `${GANTZ}  orchestrate:
    description: Orchestrate multi-agent task
    parameters: { task: { type: object, required: true } }
    handler: orchestration.orchestrate
`);
    writeFileSync(path.join(dir, 'agent-team.yaml'), `team: { name: planners }
orchestration: { aggregate: llm }
agents:
  - role: orchestrator
    model: claude-sonnet-4-5
  - role: writer
    model: claude-sonnet-4-5
  - role: shipper
    tools: [deploy]
`);
    const plan = { subtasks: [{ id: 'ship', tool: 'deploy', agent_type: 'shipper', input: { service: 'api' } }, { id: 'note', action: 'write_release_note', agent_type: 'writer', input: { service: 'api' }, depends_on: ['ship'] }] };
    stub = await startStubProcess([
      { when: 'Decompose the task', text: JSON.stringify(plan), usage: { input_tokens: 300, output_tokens: 60 } },
      { when: 'You are the `writer` agent', text: 'api is out.' },
      { when: 'Synthesise the subtask results', text: '{"result": "api deployed and announced", "summary": "Deployed, then announced.", "quality_score": 0.9}' },
    ]);
    const task = ['--task', '{"type": "release", "service": "api"}'];
    const recorded = orch(['--json', 'run', 'orchestrate', ...task, '--record', 'cassettes'], { cwd: dir, env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: stub.anthropicBase } });
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(await requests()).toBe(3);
    expect(readdirSync(path.join(dir, 'cassettes'))).toHaveLength(3);
    stub.process.kill('SIGTERM');
    // From another directory with -C: the folder is the project's.
    const replayed = orch(['-C', dir, '--json', 'run', 'orchestrate', ...task, '--replay', 'cassettes'], { cwd: tmpdir(), env: { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' } });
    expect(replayed.code, replayed.stderr).toBe(0);
    const report = JSON.parse(replayed.stdout) as { task_id: string; result: unknown; subtasks: Record<string, { result: unknown }> };
    expect(report.result).toBe('api deployed and announced');
    expect(report.subtasks.note?.result).toBe('api is out.');
    const decisions = readFileSync(path.join(dir, '.orch', 'tasks', report.task_id, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; decision?: string; usage?: unknown })
      .filter((e) => e.type === 'llm_decision');
    expect(decisions.map((d) => d.decision)).toEqual(['plan', 'aggregate']);
    expect(decisions[0]?.usage).toEqual({ input_tokens: 300, output_tokens: 60, cost_usd: expect.any(Number) });
    // A tool that runs no agent has nothing to record or replay.
    const plain = orch(['run', 'deploy', '--service', 'x', '--replay', 'cassettes'], { cwd: dir });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--record and --replay are for workflows and the orchestration tools');
    const both = orch(['run', 'orchestrate', ...task, '--replay', 'cassettes', '--record', 'cassettes'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--record and --replay cannot be used together');
  });

  it('refuses to start without the key (exit 2), naming the agent, model and variable', () => {
    project();
    const r = orch(['run', 'review'], { cwd: dir, env: { ANTHROPIC_API_KEY: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ORCH_LLM_KEY_MISSING');
    expect(r.stderr).toContain('reviewer');
    expect(r.stderr).toContain('claude-sonnet-4-5');
    expect(r.stderr).toContain('ANTHROPIC_API_KEY');
  });
});
