import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { processesWith, until, workflowProject } from '../helpers/workflow-project.js';

let project: ReturnType<typeof workflowProject>;
afterEach(() => project?.cleanup());

const start = () => {
  project = workflowProject();
  return project;
};

describe('orch run <workflow>', () => {
  it('runs steps whose needs are met in parallel, then fans in', () => {
    const p = start();
    const r = orch(['run', 'fan', '--json'], { cwd: p.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { status: string; steps: { id: string; status: string; output: unknown }[] };
    expect(report.status).toBe('succeeded');
    expect(report.steps.map((s) => [s.id, s.status, s.output])).toEqual([
      ['a', 'succeeded', 'a'],
      ['b', 'succeeded', 'b'],
      ['c', 'succeeded', 'c'],
      ['join', 'succeeded', 'abc'],
    ]);
  });

  it('`orch scale` bounds how many steps of an agent type run at once', () => {
    const p = start();
    expect(orch(['scale', '--agent-type', 'worker', '--count', '1'], { cwd: p.dir }).code).toBe(0);
    const alone = orch(['run', 'pair', '--json'], { cwd: p.dir });
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('ran alone');
    expect(orch(['scale', '--agent-type', 'worker', '--count', '2'], { cwd: p.dir }).code).toBe(0);
    expect(orch(['run', 'pair'], { cwd: p.dir }).code).toBe(0);
  });

  it('without a TTY a gate pauses the run (exit 3) and prints how to decide it', () => {
    const p = start();
    const r = orch(['run', 'gated'], { cwd: p.dir });
    expect(r.code).toBe(3);
    const [runId] = p.runIds();
    expect(r.stdout).toContain(`orch approve ${runId} a`);
    expect(r.stdout).toContain(`orch resume ${runId}`);
    expect(p.log()).toEqual(['a']);
    expect(orch(['runs', '--json'], { cwd: p.dir }).stdout).toContain('"status": "paused"');
    const status = JSON.parse(orch(['status', '--json'], { cwd: p.dir }).stdout) as { recent: { id: string; kind: string; status: string }[] };
    expect(status.recent).toContainEqual(expect.objectContaining({ id: runId, kind: 'workflow', status: 'paused' }));
  });

  it('pause → approve → resume finishes without re-running the approved step', () => {
    const p = start();
    expect(orch(['run', 'gated'], { cwd: p.dir }).code).toBe(3);
    const [runId = ''] = p.runIds();
    expect(orch(['approve', runId], { cwd: p.dir }).code).toBe(0);
    const r = orch(['resume', runId, '--json'], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ run_id: runId, status: 'succeeded' });
    expect(p.log()).toEqual(['a', 'b']);
    const decided = p.journal(runId).filter((e) => e.type === 'gate_decided');
    expect(decided).toMatchObject([{ step: 'a', decision: 'approved', method: 'command', when: 'after' }]);
    expect(typeof decided[0]?.by).toBe('string');
    expect(orch(['logs', runId], { cwd: p.dir }).stdout).toMatch(/a: approved by \S+ via orch approve\/reject/);
  });

  it('a rejected gate stops its dependents and fails the run', () => {
    const p = start();
    orch(['run', 'gated'], { cwd: p.dir });
    const [runId = ''] = p.runIds();
    expect(orch(['reject', runId, 'a', '--reason', 'not today'], { cwd: p.dir }).code).toBe(0);
    const r = orch(['resume', runId, '--json'], { cwd: p.dir });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { status: string; steps: { id: string; status: string; error: string | null }[] };
    expect(report.status).toBe('failed');
    expect(report.steps[0]).toMatchObject({ id: 'a', status: 'rejected', error: expect.stringContaining('not today') });
    expect(report.steps[1]?.status).toBe('skipped');
    expect(p.log()).toEqual(['a']);
  });

  it('--approve passes a gate before the step runs, journalled as a flag', () => {
    const p = start();
    const r = orch(['run', 'guarded', '--approve', 'danger'], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(p.log()).toEqual(['a', 'danger']);
    const [runId = ''] = p.runIds();
    expect(p.journal(runId).find((e) => e.type === 'gate_decided')).toMatchObject({ step: 'danger', method: 'flag', when: 'before' });
  });

  it('a gate before a step keeps it from running until approved', () => {
    const p = start();
    expect(orch(['run', 'guarded'], { cwd: p.dir }).code).toBe(3);
    expect(p.log()).toEqual(['a']);
  });

  it('a failing tests_must_pass step stops what comes after it', () => {
    const p = start();
    const r = orch(['run', 'tests', '--report', 'junit.xml'], { cwd: p.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('tests did not pass');
    expect(p.log()).toEqual([]);
    const junit = readFileSync(path.join(p.dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuite name="tests"');
    expect(junit).toMatch(/<testcase name="check"[^>]*>\s*<failure message="tests did not pass/);
    expect(junit).toMatch(/<testcase name="deploy"[^>]*>\s*<skipped/);
  });

  it('a failed step aborts the run; its stderr is in the error', () => {
    const p = start();
    const r = orch(['run', 'failing', '--json'], { cwd: p.dir });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { steps: { id: string; status: string; error: string | null }[] };
    expect(report.steps[0]).toMatchObject({ id: 'boom', status: 'failed', error: expect.stringContaining('boom') });
    expect(report.steps[1]?.status).toBe('skipped');
  });

  it('on_failure: continue tolerates a step that still fails after its retries', () => {
    const p = start();
    const r = orch(['run', 'tolerant', '--json'], { cwd: p.dir });
    expect(r.code).toBe(0);
    const [runId = ''] = p.runIds();
    const failures = p.journal(runId).filter((e) => e.type === 'step_failed');
    expect(failures.map((f) => [f.attempt, f.final])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(p.log()).toEqual(['other']);
  });

  it('`if:` skips a step, and inputs are typed and defaulted', () => {
    const p = start();
    expect(orch(['run', 'conditional'], { cwd: p.dir }).code).toBe(0);
    expect(p.log()).toEqual(['always']);
    expect(orch(['run', 'conditional', '--input', '{"deploy": true}'], { cwd: p.dir }).code).toBe(0);
    expect(p.log()).toEqual(['always', 'maybe', 'always']);
    const bad = orch(['run', 'conditional', '--input', '{"deploy": "yes"}'], { cwd: p.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('input `deploy` must be a boolean');
  });

  it('under GitHub Actions, failed steps become annotations and a step summary', () => {
    const p = start();
    const summary = path.join(p.dir, 'summary.md');
    const r = orch(['run', 'failing'], { cwd: p.dir, env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error file=agent-team\.yaml,line=\d+,title=step boom failed::/m);
    expect(readFileSync(summary, 'utf8')).toContain('| `boom` | failed |');
  });

  it('takes inputs as flags, and refuses an unknown flag instead of running', () => {
    const p = start();
    const typo = orch(['run', 'conditional', '--dryrun'], { cwd: p.dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option '--dryrun'");
    expect(typo.stderr).toContain('--dry-run');
    expect(p.runIds()).toEqual([]);
    expect(orch(['run', 'conditional', '--deploy'], { cwd: p.dir }).code).toBe(0);
    expect(p.log()).toEqual(['maybe', 'always']);
  });

  it('--dry-run prints the plan and runs nothing; graph prints Mermaid', () => {
    const p = start();
    const r = orch(['run', 'guarded', '--dry-run'], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('danger: worker → mark [approval before] (needs a)');
    expect(p.runIds()).toEqual([]);
    const g = orch(['graph', 'fan'], { cwd: p.dir });
    expect(g.stdout).toContain('flowchart TD');
    expect(g.stdout).toContain('s_a --> s_join');
  });
});

describe('durable runs', () => {
  it('kill -9 mid-run, then resume, re-runs nothing that completed', async () => {
    const p = start();
    const child = spawn(process.execPath, [BIN, 'run', 'crash'], { cwd: p.dir, stdio: 'ignore' });
    await until(() => p.log().includes('two'), 'step two to start');
    // The step's process is on record (as every process orch starts is) before orch dies.
    await until(() => existsSync(path.join(p.dir, '.orch', 'pids')) && readdirSync(path.join(p.dir, '.orch', 'pids')).length > 0, 'the step to be recorded');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The killed orch could not end its step's shell (it waits for `go`)...
    const holding = (): number[] => processesWith('while [ ! -f go ]', p.dir);
    expect(holding().length).toBeGreaterThan(0);
    const [runId = ''] = p.runIds();
    expect(JSON.parse(orch(['runs', '--json'], { cwd: p.dir }).stdout)).toMatchObject([{ id: runId, status: 'interrupted' }]);
    // ...and the next orch command reaps it, so nothing of the old run is left to resume beside.
    expect(holding()).toEqual([]);
    writeFileSync(path.join(p.dir, 'go'), '');
    const r = orch(['resume', runId], { cwd: p.dir });
    expect(r.code).toBe(0);
    expect(p.log()).toEqual(['one', 'two', 'two', 'three']);
  });

  it('Ctrl-C cancels the running step, leaves no process, and marks the run interrupted', async () => {
    const p = start();
    const child = spawn(process.execPath, [BIN, 'run', 'long'], { cwd: p.dir, stdio: 'ignore' });
    await until(() => processesWith('123.456', p.dir).length > 0, 'the step to start');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(processesWith('123.456', p.dir)).toEqual([]);
    const [runId = ''] = p.runIds();
    expect(p.journal(runId).at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGINT' });
    expect(existsSync(path.join(p.dir, '.orch', 'runs', runId, 'lock'))).toBe(false);
  });
});
