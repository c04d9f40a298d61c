import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { breathe, orch } from '../helpers/cli.js';
import { startStubProcess, type StubProcess } from '../helpers/llm-stub-process.js';

// The devops-team template as a user gets it: LLM agents in the guide seed's shape, run
// offline from its committed recordings, and live against the stub provider.
const INPUT = '{"service": "payments", "version": "1.4.2"}';
const OFFLINE = { ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' }; // no key, no provider

let root = '';
let stub: StubProcess | undefined;
afterEach(() => {
  stub?.stop();
  stub = undefined;
  rmSync(root, { recursive: true, force: true });
});

function scaffold(): string {
  root = mkdtempSync(path.join(tmpdir(), 'orch-devops-'));
  const dir = path.join(root, 'team');
  expect(orch(['init', dir, '--template', 'devops-team', '-q']).code).toBe(0);
  return dir;
}

interface Report {
  status: string;
  steps: { id: string; status: string; output: unknown; usage?: { input_tokens: number; output_tokens: number } }[];
  usage?: { input_tokens: number; output_tokens: number };
  cost_usd?: number;
}

describe('the devops-team template', () => {
  it('is an LLM team in the guide shape, with approval on production writes', () => {
    const dir = scaffold();
    const team = readFileSync(path.join(dir, 'agent-team.yaml'), 'utf8');
    expect(team).toMatch(/model: claude-sonnet-4/);
    expect(team).toMatch(/system_prompt: "Handle deployments/);
    expect(team).toMatch(/\{ name: deploy_production, approval: required \}/);
    expect(orch(['validate'], { cwd: dir, env: { ANTHROPIC_API_KEY: 'x' } }).code).toBe(0);
  });

  it('runs deploy_request offline from its recordings: the model reviews, deploys and asks before production', () => {
    const dir = scaffold();
    const r = orch(['--json', 'run', 'deploy_request', '--input', INPUT, '--replay', 'cassettes', '--approve-all'], { cwd: dir, env: OFFLINE });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['review', 'succeeded'],
      ['staging', 'succeeded'],
      ['smoke', 'succeeded'],
      ['production', 'succeeded'],
      ['notify', 'succeeded'],
    ]);
    expect(report.steps[0]?.output).toMatchObject({ approved: true });
    expect(report.steps[0]?.usage?.input_tokens).toBeGreaterThan(0);
    expect(report.steps[2]?.usage).toBeUndefined(); // a tool of the agent's, called with no model turn
    expect(JSON.parse(readFileSync(path.join(dir, 'deployments', 'production.json'), 'utf8'))).toMatchObject({ version: '1.4.2', status: 'healthy' });
    // The production write was the model's call of a tool that needs approval, covered by --approve-all.
    const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    const events = readFileSync(path.join(dir, '.orch', 'runs', runId, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => e.type === 'tool_call_finished' && e.step === 'production' && JSON.stringify(e).includes('deploy_production'))).toBe(true);
    // orch status shows what the run's model calls used.
    const status = JSON.parse(orch(['--json', 'status'], { cwd: dir }).stdout) as { recent: { id: string; usage?: unknown; cost_usd?: number }[] };
    const recent = status.recent.find((x) => x.id === runId);
    expect(recent?.usage).toEqual(report.usage);
    expect(recent?.cost_usd).toBe(report.cost_usd);
    expect(orch(['status'], { cwd: dir }).stdout).toMatch(new RegExp(`${runId}.*in / .* out tokens, \\$`));
  });

  it('without a terminal, pauses for the review verdict and again for the production call; approve and resume finish it', async () => {
    const dir = scaffold();
    const first = orch(['run', 'deploy_request', '--input', INPUT, '--replay', 'cassettes'], { cwd: dir, env: OFFLINE });
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout).toContain('(review returned {"approved":true');
    const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
    expect(orch(['approve', runId, 'review'], { cwd: dir }).code).toBe(0);
    await breathe();
    const second = orch(['resume', runId, '--replay', 'cassettes'], { cwd: dir, env: OFFLINE });
    expect(second.code, second.stderr).toBe(3);
    expect(second.stdout).toContain('the model wants to call deploy_production {"service":"payments","version":"1.4.2"}');
    expect(existsSync(path.join(dir, 'deployments', 'staging.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'deployments', 'production.json'))).toBe(false);
    expect(orch(['approve', runId, 'production'], { cwd: dir }).code).toBe(0);
    await breathe();
    const done = orch(['resume', runId, '--replay', 'cassettes'], { cwd: dir, env: OFFLINE });
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'deployments', 'production.json'))).toBe(true);
  });

  it('ships nothing when the review says no, even with --approve-all', async () => {
    const dir = scaffold();
    stub = await startStubProcess(root, [
      { toolCalls: [{ name: 'read_release_notes', input: {} }] },
      { text: '{"approved": false, "reasons": ["RELEASE_NOTES.md:4 promises a migration that is not in the release"]}' },
    ]);
    const { anthropicBase, url } = stub;
    const r = orch(['--json', 'run', 'deploy_request', '--input', INPUT, '--approve-all'], { cwd: dir, env: { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: anthropicBase } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['review', 'succeeded'],
      ['staging', 'skipped'],
      ['smoke', 'skipped'],
      ['production', 'skipped'],
      ['notify', 'skipped'],
    ]);
    expect(existsSync(path.join(dir, 'deployments'))).toBe(false);
    const requests = (await (await fetch(`${url}/_stub/requests`)).json()) as unknown[];
    expect(requests).toHaveLength(2); // the review's two turns; no deployment step asked the model anything
  });
});
