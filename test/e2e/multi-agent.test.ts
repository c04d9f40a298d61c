import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { BIN, orch } from '../helpers/cli.js';
import { startStubProcess, type StubProcess } from '../helpers/llm-stub-process.js';
import type { StubReply } from '../helpers/llm-stub.js';
import { until } from '../helpers/workflow-project.js';

// Teams of LLM agents through the built bin, against the stub provider in a process of its own.

const GANTZ = `name: team-e2e
tools:
  slow_check:
    description: Checks reliability, slowly
    script: { shell: "echo run >> check.log; while [ ! -f go ]; do sleep 0.05; done; echo reliable" }
  deploy:
    description: Deploys a service
    parameters: { service: { type: string, required: true } }
    script: { shell: "printf 'deployed %s' {{service}} | tee -a deployed.log" }
`;
const TEAM = `team: { name: e2e-team }
agents:
  - role: orchestrator
    model: claude-sonnet-4-5
    system_prompt: Receive requests, delegate to specialists, synthesize results. Never act directly.
    tools: [dispatch_to_agent, ask_human]
  - role: security
    model: claude-sonnet-4-5
    tools: [{ name: deploy, approval: required }]
  - role: reliability
    model: claude-sonnet-4-5
    tools: [slow_check]
workflows:
  handle:
    - { id: handle, agent: orchestrator, action: handle_request, with: { service: api } }
`;
const as = (role: string) => `You are the \`${role}\` agent`;

let dir = '';
let stub: StubProcess | undefined;
afterEach(() => {
  stub?.process.kill('SIGTERM');
  stub = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function setup(replies: StubReply[]): Promise<NodeJS.ProcessEnv> {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-team-e2e-'));
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM);
  stub = await startStubProcess(dir, replies);
  return { ANTHROPIC_API_KEY: 'sk-ant-team-e2e', ANTHROPIC_BASE_URL: stub.anthropicBase };
}

const requests = () => stub!.requests();
const runId = (): string => readdirSync(path.join(dir, '.orch', 'runs'))[0] ?? '';

describe('LLM agent teams', () => {
  it('ask_human pauses the run with the question (exit 3); orch answer and orch resume give the model the answer', async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'ask_human', input: { question: 'Which region should api go to?' } }] },
      { when: as('orchestrator'), text: 'deploying to the region you chose' },
    ]);
    const paused = orch(['run', 'handle'], { cwd: dir, env });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain('the agent asks: Which region should api go to?');
    expect(paused.stdout).toContain(`orch answer ${runId()} handle '...'`);
    expect(orch(['logs', runId()], { cwd: dir }).stdout).toContain('waiting for an answer: the agent asks Which region should api go to?');
    // An approval is not an answer.
    expect(orch(['approve', runId(), 'handle'], { cwd: dir }).code).toBe(2);
    expect(orch(['answer', runId(), 'handle', 'eu-west-1'], { cwd: dir }).code).toBe(0);
    const done = orch(['resume', runId()], { cwd: dir, env });
    expect(done.code, done.stderr).toBe(0);
    const asked = await requests();
    expect(asked).toHaveLength(2);
    expect(JSON.stringify(asked[1]?.body.messages)).toContain('eu-west-1');
    expect(orch(['logs', runId()], { cwd: dir }).stdout).toContain('answered eu-west-1');
  });

  it("a delegated agent's ask_human is a question too: --approve-all does not answer it, orch answer does", async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'reliability', task: 'pick the region' } }] },
      { when: as('reliability'), toolCalls: [{ name: 'ask_human', input: { question: 'Which region is reliable enough?' } }] },
      { when: as('reliability'), text: 'eu-west-1' },
      { when: as('orchestrator'), text: 'eu-west-1, as the person said' },
    ]);
    writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM.replace('    tools: [slow_check]', '    tools: [slow_check, ask_human]'));
    const paused = orch(['run', 'handle', '--approve-all'], { cwd: dir, env });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain('the agent asks: Which region is reliable enough?');
    expect(orch(['answer', runId(), 'handle', 'eu-west-1'], { cwd: dir }).code).toBe(0);
    const done = orch(['--json', 'resume', runId()], { cwd: dir, env });
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('eu-west-1, as the person said');
    const asked = await requests();
    expect(asked).toHaveLength(4);
    expect(JSON.stringify(asked[2]?.body.messages)).toContain('eu-west-1');
  });

  it('a delegated agent waiting for approval pauses the run; approve and resume finish both loops without asking again', async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'security', task: 'deploy api' } }] },
      { when: as('security'), toolCalls: [{ name: 'deploy', input: { service: 'api' } }] },
      { when: as('security'), text: 'deployed' },
      { when: as('orchestrator'), text: 'api is deployed' },
    ]);
    const paused = orch(['run', 'handle'], { cwd: dir, env });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain('the model wants to call deploy {"service":"api"}');
    expect(existsSync(path.join(dir, 'deployed.log'))).toBe(false);
    expect(orch(['approve', runId(), 'handle'], { cwd: dir }).code).toBe(0);
    const done = orch(['--json', 'resume', runId()], { cwd: dir, env });
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('api is deployed');
    expect(readFileSync(path.join(dir, 'deployed.log'), 'utf8')).toBe('deployed api');
    expect(await requests()).toHaveLength(4); // no turn of either loop asked twice
  });

  it('kill -9 during a delegated run, then resume: the finished delegation is not redone, the unfinished one continues', async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'security', task: 'review' } }, { name: 'dispatch_to_agent', input: { agent: 'reliability', task: 'check' } }] },
      { when: as('security'), text: 'secure' },
      { when: as('reliability'), toolCalls: [{ name: 'slow_check', input: {} }] },
      { when: as('reliability'), text: 'reliable' },
      { when: as('orchestrator'), text: 'secure and reliable' },
    ]);
    const child = spawn(process.execPath, [BIN, 'run', 'handle'], { cwd: dir, env: { ...process.env, ...env }, stdio: 'ignore' });
    await until(() => existsSync(path.join(dir, 'check.log')), 'the delegated tool call to start');
    // The security delegation finishes on its own; wait until it is journalled.
    await until(() => {
      const journal = readdirSync(path.join(dir, '.orch', 'runs')).length > 0 ? readFileSync(path.join(dir, '.orch', 'runs', runId(), 'journal.jsonl'), 'utf8') : '';
      return journal.split('\n').some((l) => l.includes('"tool_call_finished"') && l.includes('dispatch_to_agent'));
    }, 'the security delegation to finish');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await requests()).toHaveLength(3);
    writeFileSync(path.join(dir, 'go'), '');
    const r = orch(['--json', 'resume', runId()], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('secure and reliable');
    const asked = await requests();
    // Security was not asked again; reliability's first turn was not asked again (its tool ran again: at least once).
    expect(asked).toHaveLength(5);
    expect(asked.filter((q) => JSON.stringify(q.body.system).includes(as('security')))).toHaveLength(1);
    expect(readFileSync(path.join(dir, 'check.log'), 'utf8').trim().split('\n')).toEqual(['run', 'run']);
    expect(orch(['logs', runId()], { cwd: dir }).stdout).toMatch(/↳ reliability/);
  });

  it('an agent with isolation: process delegates through the parent session, and sees the pools', async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'dispatch_to_agent', input: { agent: 'reliability', task: 'check' } }, { name: 'check_agent_status', input: { agent: 'reliability' } }] },
      { when: as('reliability'), toolCalls: [{ name: 'slow_check', input: {} }] },
      { when: as('reliability'), text: 'reliable' },
      { when: as('orchestrator'), text: 'all reliable' },
    ]);
    writeFileSync(path.join(dir, 'go'), '');
    writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM.replace('    system_prompt: Receive requests', '    isolation: process\n    system_prompt: Receive requests'));
    const r = orch(['--json', 'run', 'handle'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { steps: { output: unknown }[] }).steps[0]?.output).toBe('all reliable');
    const asked = JSON.stringify((await requests()).at(-1)?.body.messages);
    expect(asked).toContain('reliable');
    expect(asked).toContain('available');
    expect(orch(['logs', runId()], { cwd: dir }).stdout).toMatch(/↳ reliability/);
  });

  it('over orch serve, ask_human becomes an elicitation of a client that supports it, and the model gets the answer', async () => {
    const env = await setup([
      { when: as('orchestrator'), toolCalls: [{ name: 'ask_human', input: { question: 'Which region?' } }] },
      { when: as('orchestrator'), text: 'going to the region given' },
    ]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '-C', dir, 'serve'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...(env as Record<string, string>) },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'orch-e2e', version: '0.0.0' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept', content: { answer: 'eu-west-1' } };
    });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'handle', arguments: {} });
      expect(result.structuredContent).toMatchObject({ status: 'succeeded' });
      expect(asked).toEqual(['The agent of step `handle` asks: Which region?']);
      expect(JSON.stringify((await requests())[1]?.body.messages)).toContain('eu-west-1');
    } finally {
      await client.close();
    }
  });
});
