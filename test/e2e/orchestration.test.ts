import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.js';
import { ORCHESTRATION_FIXTURE, teamYaml } from '../helpers/orchestration.js';
import { survivors } from '../unit/tools/process-helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orch-e2e-orch-'));
  cpSync(ORCHESTRATION_FIXTURE, dir, { recursive: true });
  writeFileSync(path.join(dir, 'agent-team.yaml'), teamYaml());
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => orch(['-C', dir, ...args], { env: { NO_COLOR: '1' } });

describe('orch scale and orch status', () => {
  it('a pool size set by one process is what the next one sees', () => {
    expect(run('scale', '--agent-type', 'worker', '--count', '10').code).toBe(0);
    const status = run('status', '--json');
    expect(status.code).toBe(0);
    const pools = JSON.parse(status.stdout).pools as { type: string; instances: number; available: number }[];
    expect(pools.find((p) => p.type === 'worker')).toMatchObject({ instances: 10, available: 10 });
    const down = JSON.parse(run('scale', '--agent-type', 'worker', '--count', '3', '--json').stdout);
    expect(down).toMatchObject({ action: 'scale_down', previous_count: 10, new_count: 3 });
    expect(down.agents_removed).toHaveLength(7);
    expect(run('status').stdout).toMatch(/worker\s+3 instances \(3 available, 0 busy, 0 unhealthy\)/);
  });

  it.each([
    [['--agent-type', 'wroker', '--count', '2'], /no agent type `wroker`[\s\S]*did you mean `worker`/],
    [['--agent-type', 'worker', '--count', '-1'], /count must be a whole number/],
    [['--agent-type', 'worker', '--count', '1.5'], /count must be a whole number/],
    [['--agent-type', 'worker', '--count', 'ten'], /count must be a whole number/],
  ])('refuses bad input %j with exit code 2', (args, message) => {
    const r = run('scale', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('orch run orchestrate', () => {
  it('runs process-isolated agents, survives a worker that dies, and leaves no process behind', () => {
    const task = {
      subtasks: [1, 2, 3, 4].map((n) => ({ id: `p${n}`, tool: 'pid', input: { die: n === 3 } })),
      failure_policy: { max_retries: 1, max_reassignments: 1 },
    };
    const r = run('run', 'orchestrate', '--task', JSON.stringify(task), '--json');
    expect(r.code).toBe(1); // a partial report is a run that did not complete
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe('partial');
    expect(Object.keys(report.subtasks).sort()).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(report.subtasks.p3).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'ORCH_WORKER_DIED' } });
    const pids: number[] = ['p1', 'p2', 'p4'].map((id) => report.subtasks[id].result);
    expect(pids.every((pid) => Number.isInteger(pid) && pid !== process.pid)).toBe(true);
    return survivors(pids).then((alive) => expect(alive).toEqual([]));
  });

  it('writes no secret of its environment under .orch/', () => {
    appendFileSync(path.join(dir, 'gantz.yaml'), `  leak:\n    description: Prints a token\n    script: { shell: 'echo "tok=$MY_API_TOKEN"' }\n`);
    const task = JSON.stringify({ subtasks: [{ id: 'a', tool: 'leak' }] });
    const r = orch(['-C', dir, 'run', 'orchestrate', '--task', task, '--json'], { env: { NO_COLOR: '1', MY_API_TOKEN: 'supersecretvalue123' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).subtasks.a.result).toBe('tok=[REDACTED]');
    const state = path.join(dir, '.orch');
    const files = readdirSync(state, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
    expect(files.filter((f) => readFileSync(f, 'utf8').includes('supersecretvalue123'))).toEqual([]);
  });

  it('bad input from the caller, run after run, leaves the agent healthy', () => {
    expect(run('scale', '--agent-type', 'worker', '--count', '1').code).toBe(0);
    const bad = JSON.stringify({ subtasks: [{ id: 'a', tool: 'echo', agent_type: 'worker', input: { value: 'x' } }] });
    for (let i = 0; i < 4; i++) expect(run('run', 'orchestrate', '--task', bad).code).toBe(1);
    const pools = JSON.parse(run('status', '--json').stdout).pools as { type: string; available: number; unhealthy: number }[];
    expect(pools.find((p) => p.type === 'worker')).toMatchObject({ available: 1, unhealthy: 0 });
    const good = JSON.stringify({ subtasks: [{ id: 'a', tool: 'echo', agent_type: 'worker', input: { value: 1 } }] });
    expect(run('run', 'orchestrate', '--task', good).code).toBe(0);
  });

  it('refuses a dependency cycle with exit code 2 and runs nothing', () => {
    const task = { subtasks: [{ id: 'a', tool: 'echo', depends_on: ['b'] }, { id: 'b', tool: 'echo', depends_on: ['a'] }] };
    const r = run('run', 'orchestrate', '--task', JSON.stringify(task));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('subtasks form a dependency cycle: a → b → a');
    expect(run('status', '--json').stdout).toContain('"recent": []');
  });
});

const root = path.resolve(ORCHESTRATION_FIXTURE, '../../..');

describe('the coordination pattern examples run offline', () => {
  it.each([
    ['centralized', { sum: 13.5 }],
    ['pipeline', { rows: 2, revenue: 30 }],
    ['fan-out', { checks: 3, length: 23, words: 5, questions: 1 }],
    ['hierarchical', { plan: { findings: { market: 'three competitors', users: 'teams of 5-50' }, total_days: 13 } }],
    ['blackboard', { counts: { yes: 4, no: 2 } }],
    ['auction', { hello: 'bonjour', cat: 'chat', house: 'maison', water: 'eau' }],
    ['peer-to-peer', { price: 150 }],
    ['swarm', { a: 'ant-6', b: 'ant-5', c: 'ant-4', d: 'ant-3', e: 'ant-2', f: 'ant-1' }],
    ['master-worker', undefined],
  ])('examples/%s', (name, expected) => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'examples', name), dir, { recursive: true });
    const r = run('run', 'orchestrate', '--input', '@task.json', '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe('completed');
    if (expected) expect(report.result).toEqual(expected);
    else expect(Object.keys(report.result)).toHaveLength(12);
  });
});

describe('orch run orchestrate exit codes', () => {
  it('exits 1 when the report says the task failed, and still prints it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-exit-'));
    try {
      expect(orch(['init', dir, '--template', 'orchestration-system', '-q']).code).toBe(0);
      const task = JSON.stringify({ subtasks: [{ id: 'a', tool: 'word_count', input: { missing: 1 } }] });
      const r = orch(['-C', dir, 'run', 'orchestrate', '--task', task, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', subtasks: { a: { status: 'failed' } } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
