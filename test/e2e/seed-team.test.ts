import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';
import { startStubProcess, type StubProcess } from '../helpers/llm-stub-process.js';
import { seedAgentTeamYaml, seedGantzYaml } from '../helpers/seeds.js';

// The guide seed's agent-team.yaml, unchanged, with its tools given by script tools in a
// gantz.yaml, running deploy_request end to end against the stub provider.
const tool = (name: string, shell: string, params = '') => `  ${name}:\n    description: ${name.replace(/_/g, ' ')}\n${params}    script: { shell: ${JSON.stringify(shell)} }\n`;
const GANTZ = `name: seed-tools
tools:
${tool('github_pr_read', 'echo "diff: +retry with backoff in payments/client.go:42"')}${tool('github_pr_comment', 'echo commented', '    parameters: { body: { type: string, required: true } }\n')}${tool('run_static_analysis', 'echo "0 issues"')}${tool(
  'kubernetes_apply',
  'mkdir -p deployed && echo healthy > deployed/{{environment}} && echo "applied to {{environment}}"',
  '    parameters: { environment: { type: string, enum: [staging, production], required: true } }\n',
)}${tool('deployment_status', 'cat deployed/{{environment}} 2>/dev/null || echo none', '    parameters: { environment: { type: string, required: true } }\n')}${tool('rollback_deployment', 'echo rolled back')}${tool(
  'run_smoke_tests',
  'test -f deployed/staging && echo \'{"passed": true, "checks": 3}\'',
)}${tool('query_prometheus', 'echo "p99 120ms"')}${tool('query_logs', 'echo "no errors"')}${tool('get_recent_deployments', 'ls deployed 2>/dev/null')}${tool('create_incident_report', 'echo filed')}${tool('notify_team', 'echo sent')}  aggregate_results:
    description: Aggregate the results of an orchestrated task
    parameters: { task_id: { type: string, required: true } }
    handler: orchestration.aggregate_results
`;

const step = (action: string) => `Action: ${action}`;
const REPLIES = [
  { when: step('review_changes'), toolCalls: [{ name: 'github_pr_read', input: {} }, { name: 'run_static_analysis', input: {} }] },
  { when: step('review_changes'), text: '{"approved": true, "comments": ["payments/client.go:42 retries with backoff: fine"]}' },
  { when: step('deploy_to_staging'), toolCalls: [{ name: 'kubernetes_apply', input: { environment: 'staging' } }] },
  { when: step('deploy_to_staging'), toolCalls: [{ name: 'deployment_status', input: { environment: 'staging' } }] },
  { when: step('deploy_to_staging'), text: '{"environment": "staging", "healthy": true}' },
  { when: step('deploy_to_production'), toolCalls: [{ name: 'kubernetes_apply', input: { environment: 'production' } }] },
  { when: step('deploy_to_production'), text: '{"environment": "production", "healthy": true}' },
  { when: step('notify_team'), toolCalls: [{ name: 'check_agent_status', input: {} }] },
  { when: step('notify_team'), text: 'The team was told: payments is in production.' },
];

let dir = '';
let stub: StubProcess | undefined;
afterEach(() => {
  stub?.stop();
  stub = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<{ env: NodeJS.ProcessEnv; url: string }> {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-seed-team-'));
  writeFileSync(path.join(dir, 'agent-team.yaml'), seedAgentTeamYaml());
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  stub = await startStubProcess(dir, REPLIES);
  const { anthropicBase, url } = stub;
  return { env: { ANTHROPIC_API_KEY: 'sk-ant-seed-team', ANTHROPIC_BASE_URL: anthropicBase }, url };
}

interface Report {
  status: string;
  steps: { id: string; status: string; output: unknown }[];
}

describe("the guide seed's team, unchanged", () => {
  it('validates with its tools declared as scripts', async () => {
    const { env } = await setup();
    const v = orch(['validate'], { cwd: dir, env });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('runs deploy_request end to end without a terminal with --approve-all: review, staging, smoke tests, production, notify', async () => {
    const { env, url } = await setup();
    const r = orch(['--json', 'run', 'deploy_request', '--approve-all'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.status).toBe('succeeded');
    expect(report.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(report.steps[0]?.output).toMatchObject({ approved: true });
    expect(report.steps[2]?.output).toMatchObject({ passed: true });
    expect(existsSync(path.join(dir, 'deployed', 'production'))).toBe(true);
    const requests = (await (await fetch(`${url}/_stub/requests`)).json()) as unknown[];
    expect(requests).toHaveLength(REPLIES.length); // the smoke tests are the agent's tool: no model turn
  });

  it('pauses at the review gate without a terminal; orch approve and orch resume ship it', async () => {
    const { env } = await setup();
    const paused = orch(['run', 'deploy_request'], { cwd: dir, env });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain('returned {"approved":true');
    expect(existsSync(path.join(dir, 'deployed'))).toBe(false);
    const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    expect(orch(['approve', runId], { cwd: dir }).code).toBe(0);
    const done = orch(['resume', runId], { cwd: dir, env });
    expect(done.code, done.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'deployed', 'production'), 'utf8').trim()).toBe('healthy');
  });
});

describe("the orchestration seed's gantz.yaml, unchanged, with an orchestrator agent", () => {
  it("runs the seed's own orchestrate call, a task without subtasks, on the orchestrator's plan", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-seed-plan-'));
    writeFileSync(path.join(dir, 'gantz.yaml'), seedGantzYaml());
    writeFileSync(
      path.join(dir, 'agent-team.yaml'),
      'team: { name: analysts }\nagents:\n  - { role: orchestrator, model: claude-sonnet-4-5, system_prompt: Decompose tasks. }\n  - { role: worker, count: 3 }\n',
    );
    stub = await startStubProcess(dir, [{ text: JSON.stringify({ subtasks: [{ id: 'pools', tool: 'monitor_agents', agent_type: 'worker', input: {} }] }) }]);
    const { anthropicBase } = stub;
    const r = orch(['--json', 'run', 'orchestrate', '--task', '{"type": "analysis", "data": {"x": 1}}'], { cwd: dir, env: { ANTHROPIC_API_KEY: 'sk-ant-seed', ANTHROPIC_BASE_URL: anthropicBase } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { status: string; subtasks: Record<string, { status: string; tool: string }> };
    expect(report.status).toBe('completed');
    expect(report.subtasks.pools).toMatchObject({ status: 'succeeded', tool: 'monitor_agents' });
  });
});

