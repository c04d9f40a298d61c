import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';

const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

const GANTZ = `name: core
tools:
  ok:
    description: Prints its text
    parameters: { text: { type: string, required: true } }
    script: { shell: "printf '%s' {{text}}" }
  fail_once:
    description: Fails the first time it runs in this project
    script: { shell: "if [ -e once.marker ]; then echo second; else touch once.marker; echo first >&2; exit 1; fi" }
  count:
    description: Appends a number to a log
    parameters: { n: { type: number, required: true } }
    script: { shell: "echo {{n}} >> count.log" }
  orchestrate:
    description: Orchestrate a task over the pools
    parameters: { task: { type: object, required: true } }
    handler: orchestration.orchestrate
mcpServers:
  everything: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }
`;

const TEAM = `team: { name: core-team }
agents:
  - { role: worker, count: 2, tools: [ok, fail_once, count] }
  - { role: isolated, count: 1, isolation: process, tools: [everything.echo, ok] }
workflows:
  greet:
    - { id: hello, agent: worker, action: ok, with: { text: hi } }
  reassigned:
    - { id: flaky, agent: worker, action: fail_once, on_failure: reassign }
  bad_input:
    inputs: { n: { type: string, required: true } }
    steps:
      - { id: counted, agent: worker, action: count, with: { n: "\${{ inputs.n }}" }, retry: { max: 2, backoff: 1ms } }
  isolated_mcp:
    - { id: echo, agent: isolated, action: everything.echo, with: { message: from a child process } }
`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function project(): void {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-core-'));
  writeFileSync(path.join(dir, 'gantz.yaml'), GANTZ);
  writeFileSync(path.join(dir, 'agent-team.yaml'), TEAM);
}

const run = (...args: string[]) => orch(['-C', dir, ...args]);

function journal(runJson: string): { type: string; [key: string]: unknown }[] {
  const { run_id: runId } = JSON.parse(runJson) as { run_id: string };
  return readFileSync(path.join(dir, '.orch', 'runs', runId, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string });
}

function audit(): Record<string, unknown>[] {
  return readFileSync(path.join(dir, '.orch', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('one execution core for workflows and orchestration', () => {
  it('a process-isolated agent reaches MCP server tools, in a workflow step and an orchestrate subtask', () => {
    project();
    const wf = run('--json', 'run', 'isolated_mcp');
    expect(wf.code, wf.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(wf.stdout).steps[0].output)).toContain('from a child process');
    const task = { subtasks: [{ id: 'e', agent_type: 'isolated', tool: 'everything.echo', input: { message: 'subtask' } }] };
    const orchestrated = run('--json', 'run', 'orchestrate', '--task', JSON.stringify(task));
    expect(orchestrated.code, orchestrated.stderr).toBe(0);
    expect(JSON.parse(orchestrated.stdout).subtasks.e).toMatchObject({ status: 'succeeded', agent_id: 'isolated-1' });
  });

  it('a pool scaled to 0 refuses a workflow step and a subtask alike: exit 2 with a hint to scale up', () => {
    project();
    expect(run('scale', '--agent-type', 'worker', '--count', '0').code).toBe(0);
    const wf = run('run', 'greet');
    expect(wf.code).toBe(2);
    expect(wf.stderr).toContain('ORCH_POOL_EMPTY');
    expect(wf.stderr).toContain('orch scale --agent-type worker --count 1');
    const task = run('run', 'orchestrate', '--task', JSON.stringify({ subtasks: [{ id: 'a', agent_type: 'worker', tool: 'ok', input: { text: 'x' } }] }));
    expect(task.code).toBe(2);
    expect(task.stderr).toContain('ORCH_POOL_EMPTY');
    expect(run('runs').stdout).not.toContain('greet');
  });

  it('workflow steps lease pool instances: the journal names the instance, and on_failure: reassign uses another one', () => {
    project();
    const r = run('--json', 'run', 'reassigned');
    expect(r.code, r.stderr).toBe(0);
    const starts = journal(r.stdout).filter((e) => e.type === 'step_started');
    expect(starts).toHaveLength(2);
    expect(starts.map((e) => e.agent_id).sort()).toEqual(['worker-1', 'worker-2']);
    const status = JSON.parse(run('status', '--json').stdout) as { pools: { type: string; available: number; instances?: unknown }[] };
    expect(status.pools.find((p) => p.type === 'worker')).toMatchObject({ available: 2 });
  });

  it('a failure no retry can fix (bad input) is attempted once, despite retry.max', () => {
    project();
    const r = run('--json', 'run', 'bad_input', '--n', 'not a number');
    expect(r.code).toBe(1);
    const events = journal(r.stdout);
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(1);
    expect(events.find((e) => e.type === 'step_failed')).toMatchObject({ final: true, attempt: 1 });
    expect(JSON.parse(r.stdout).steps[0].error).toContain('n');
  });

  it('every tool call of every kind is audited, with its run, step, agent and instance', () => {
    project();
    const wf = run('--json', 'run', 'greet');
    expect(wf.code, wf.stderr).toBe(0);
    const runId = (JSON.parse(wf.stdout) as { run_id: string }).run_id;
    expect(run('run', 'ok', '--text', 'direct').code).toBe(0);
    const mcp = run('run', 'isolated_mcp');
    expect(mcp.code, mcp.stderr).toBe(0);
    const lines = audit();
    expect(lines).toContainEqual(expect.objectContaining({ tool: 'ok', kind: 'script', run: runId, step: 'hello', agent: 'worker', instance: 'worker-1', outcome: 'ok' }));
    expect(lines).toContainEqual(expect.objectContaining({ tool: 'ok', kind: 'script', arguments: { text: 'direct' }, outcome: 'ok' }));
    const echo = lines.filter((l) => l.tool === 'everything.echo');
    // Audited once, by the runtime in the worker process, not again by its supervisor.
    expect(echo).toHaveLength(1);
    expect(echo[0]).toMatchObject({ kind: 'server', server: 'everything', step: 'echo', agent: 'isolated', instance: 'isolated-1' });
  });
});
