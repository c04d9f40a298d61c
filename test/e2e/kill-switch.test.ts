import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, breathe, orch as orchSync } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { processesWith, until } from '../helpers/workflow-project.js';

/** The built bin, run to its end; the test worker's event loop turns first (see breathe). */
async function orch(...args: Parameters<typeof orchSync>): Promise<ReturnType<typeof orchSync>> {
  await breathe();
  return orchSync(...args);
}

// Each sleep has a length of its own, so that the processes of one test are told apart.
const GANTZ = `name: kill-switch
tools:
  mark:
    parameters:
      name: { type: string, required: true }
    script:
      shell: echo {{name}} >> log.txt && echo {{name}}
  nap:
    script:
      shell: "if [ -f go ]; then echo awake; else sleep 41.25; fi"
  orchestrate:
    description: Orchestrate multi-agent task
    parameters:
      task: { type: object, required: true }
    handler: orchestration.orchestrate
  stubborn:
    script:
      shell: "trap '' TERM; if [ -f go ]; then echo awake; else sleep 42.5; fi"
`;

const TEAM = `team: { name: ks }
agents:
  - role: worker
    count: 4
workflows:
  long:
    - { id: first, agent: worker, action: mark, with: { name: one } }
    - { id: nap, agent: worker, action: nap }
    - { id: last, agent: worker, action: mark, with: { name: two } }
  stubborn_flow:
    - { id: hold, agent: worker, action: stubborn }
    - { id: after, agent: worker, action: mark, with: { name: after } }
`;

let cleanup: (() => void) | undefined;
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  cleanup?.();
  cleanup = undefined;
});

function project(): string {
  const p = tempProject({ 'gantz.yaml': GANTZ, 'agent-team.yaml': TEAM });
  cleanup = p.cleanup;
  return p.dir;
}

/** How to run orch as user `nobody` from a root test: undefined where it cannot be (not root, no setpriv). */
function nobodyPrefix(): string[] | undefined {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) return undefined;
  return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
}

/** `orch run <workflow>` (or a tool, with its flags) in the background; resolves with how it ended. */
function startRun(dir: string, workflow: string, ...args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return startAs([], dir, ['run', workflow, ...args]);
}

function startAs(prefix: string[], dir: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const [file = process.execPath, ...rest] = [...prefix, process.execPath];
  const child = spawn(file, [...rest, BIN, ...args], { cwd: dir, stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

function runIds(dir: string): string[] {
  const runs = path.join(dir, '.orch', 'runs');
  return existsSync(runs) ? readdirSync(runs).sort() : [];
}

function journal(dir: string, id: string): { type: string; signal?: string }[] {
  return readFileSync(path.join(dir, '.orch', 'runs', id, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
}

/** The sleeps of this project's script steps that still run. */
const sleeps = (dir: string, length: string) => processesWith(`sleep ${length} `, dir); // the sleep itself, not the shell that started it

describe('orch stop <run>', () => {
  it('stops the run: its process exits, its script ends, the journal says interrupted, and resume finishes it', async () => {
    const dir = project();
    const ended = startRun(dir, 'long');
    await until(() => sleeps(dir, '41.25').length === 1, 'the nap step to sleep');
    const [sleepPid] = sleeps(dir, '41.25');
    const [id] = runIds(dir);
    if (id === undefined) throw new Error('no run');

    const stop = await orch(['stop', id], { cwd: dir });
    expect(stop.stderr).toBe('');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`run ${id}: process`);
    expect(stop.stdout).toContain(`orch resume ${id}`);
    // The run ended itself on SIGTERM, as after Ctrl-C: 143, with nothing of it left running.
    expect(await ended).toEqual({ code: 143, signal: null });
    expect(sleeps(dir, '41.25')).toEqual([]);
    expect(existsSync(`/proc/${sleepPid}/cmdline`) && readFileSync(`/proc/${sleepPid}/cmdline`, 'utf8').includes('41.25')).toBe(false);
    expect(journal(dir, id).at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGTERM' });

    writeFileSync(path.join(dir, 'go'), '');
    const resume = await orch(['resume', id], { cwd: dir });
    expect(resume.code).toBe(0);
    expect(journal(dir, id).at(-1)).toMatchObject({ type: 'run_finished' });
    // The step that had finished before the stop was not run again.
    expect(readFileSync(path.join(dir, 'log.txt'), 'utf8')).toBe('one\ntwo\n');
  });

  it('kills a run that does not stop after SIGTERM, with its processes, and journals it interrupted itself', async () => {
    const dir = project();
    const ended = startRun(dir, 'stubborn_flow');
    await until(() => sleeps(dir, '42.5').length === 1, 'the stubborn step to sleep');
    const [id] = runIds(dir);
    if (id === undefined) throw new Error('no run');

    const stop = await orch(['stop', id, '--timeout', '200ms'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('killed with its processes');
    expect(await ended).toEqual({ code: null, signal: 'SIGKILL' });
    // The script ignored SIGTERM, and its sleep inherited that: both were killed all the same.
    expect(sleeps(dir, '42.5')).toEqual([]);
    expect(journal(dir, id).at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGKILL' });
    expect((await orch(['runs'], { cwd: dir })).stdout).toMatch(new RegExp(`${id}\\s+workflow\\s+stubborn_flow\\s+interrupted`));

    writeFileSync(path.join(dir, 'go'), '');
    expect((await orch(['resume', id], { cwd: dir })).code).toBe(0);
    expect(readFileSync(path.join(dir, 'log.txt'), 'utf8')).toBe('after\n');
  });

  it('says so for a run that is not running, and refuses what it cannot stop', async () => {
    const dir = project();
    writeFileSync(path.join(dir, 'go'), '');
    expect((await orch(['run', 'long'], { cwd: dir })).code).toBe(0);
    const [id] = runIds(dir);
    const done = await orch(['stop', id ?? ''], { cwd: dir });
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('is not running (succeeded); nothing to stop');

    const unknown = await orch(['stop', '20260101-000000-0000'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ORCH_UNKNOWN_RUN');
    for (const args of [['stop'], ['stop', id ?? '', '--all'], ['start'], ['stop', '--all', '--timeout', 'soon']]) {
      const result = await orch(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('ORCH_USAGE');
    }
    // Outside a project there is no switch to set.
    const elsewhere = await orch(['-C', path.join(dir, 'nowhere'), 'stop', '--all']);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('ORCH_NO_PROJECT_DIR');
    mkdirSync(path.join(dir, 'empty'));
    expect((await orch(['-C', path.join(dir, 'empty'), 'stop', '--all'])).stderr).toContain('ORCH_NO_CONFIG');
    expect(existsSync(path.join(dir, 'empty', '.orch'))).toBe(false);
    // None of these turned the kill switch on.
    expect((await orch(['run', 'mark', '--name', 'x'], { cwd: dir })).code).toBe(0);
  });
});

describe('orch stop --all and orch start --all', () => {
  it('stops every run, refuses new ones until start --all, and lets one be resumed meanwhile', async () => {
    const dir = project();
    const endings = [startRun(dir, 'long'), startRun(dir, 'long')];
    await until(() => sleeps(dir, '41.25').length === 2, 'both runs to sleep');
    const ids = runIds(dir);
    expect(ids).toHaveLength(2);

    const stop = await orch(['stop', '--all'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('Kill switch on');
    for (const id of ids) expect(stop.stdout).toContain(`orch resume ${id}`);
    expect(await Promise.all(endings)).toEqual([
      { code: 143, signal: null },
      { code: 143, signal: null },
    ]);
    expect(sleeps(dir, '41.25')).toEqual([]);
    for (const id of ids) expect(journal(dir, id).at(-1)).toMatchObject({ type: 'run_interrupted' });

    // While it is on, nothing new starts: neither a workflow nor a tool.
    for (const args of [['run', 'long'], ['run', 'mark', '--name', 'x']]) {
      const refused = await orch(args, { cwd: dir });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('ORCH_HALTED');
      expect(refused.stderr).toContain('orch start --all');
    }
    expect(runIds(dir)).toEqual(ids);

    // Resuming one run is asked for by name: it goes ahead, and the switch stays on for the rest.
    writeFileSync(path.join(dir, 'go'), '');
    const [first, second] = ids as [string, string];
    expect((await orch(['resume', first], { cwd: dir })).code).toBe(0);
    expect((await orch(['run', 'long'], { cwd: dir })).code).toBe(2);

    const start = await orch(['start', '--all', '--json'], { cwd: dir });
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout)).toEqual({ halted: false, was_halted: true, interrupted: [second] });
    expect((await orch(['run', 'long'], { cwd: dir })).code).toBe(0);
    expect((await orch(['resume', second], { cwd: dir })).code).toBe(0);
  });

  it('stops an orchestrate task holding agents, with the script its subtask runs', async () => {
    const dir = project();
    const ended = startRun(dir, 'orchestrate', '--task', JSON.stringify({ subtasks: [{ id: 'rest', tool: 'nap' }] }));
    await until(() => sleeps(dir, '41.25').length === 1, 'the subtask to sleep');
    const stop = await orch(['stop', '--all'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/task \S+: process \d+ stopped/);
    expect(await ended).toEqual({ code: 143, signal: null });
    expect(sleeps(dir, '41.25')).toEqual([]);
    expect((await orch(['start', '--all'], { cwd: dir })).code).toBe(0);
  });

  it('stops what it may and reports, exit 1, the runs of a user it may not signal', async (ctx) => {
    const prefix = nobodyPrefix();
    if (!prefix) {
      // Root is needed to run orch as two users; under CI the suite runs as root with setpriv (.ci/run).
      if (process.env.CI && process.getuid?.() === 0) throw new Error('setpriv (util-linux) is needed to run orch as `nobody`');
      return ctx.skip();
    }
    const dir = project();
    chmodSync(dir, 0o777);
    for (const sub of ['.orch', '.orch/runs', '.orch/agents', '.orch/pids', '.orch/tasks']) {
      mkdirSync(path.join(dir, sub), { recursive: true });
      chmodSync(path.join(dir, sub), 0o777);
    }
    const nobodys = startAs(prefix, dir, ['run', 'long']);
    await until(() => sleeps(dir, '41.25').length === 1, "nobody's run to sleep");
    const [theirs] = runIds(dir);
    const roots = startRun(dir, 'long');
    await until(() => sleeps(dir, '41.25').length === 2, "root's run to sleep");
    const mine = runIds(dir).find((id) => id !== theirs);

    const asNobody = spawnSync(prefix[0] ?? '', [...prefix.slice(1), process.execPath, BIN, 'stop', '--all'], { cwd: dir, encoding: 'utf8' });
    expect(asNobody.status).toBe(1);
    expect(asNobody.stdout).toContain(`run ${theirs ?? ''}: process`);
    expect(asNobody.stderr).toContain(`ORCH_STOP_FAILED run ${mine ?? ''} is driven by process`);
    expect(await nobodys).toEqual({ code: 143, signal: null });
    expect(sleeps(dir, '41.25')).toHaveLength(1);
    // The switch is on all the same, and root can finish the job.
    expect((await orch(['run', 'mark', '--name', 'x'], { cwd: dir })).code).toBe(2);
    expect((await orch(['stop', '--all'], { cwd: dir })).code).toBe(0);
    expect(await roots).toEqual({ code: 143, signal: null });
    expect(sleeps(dir, '41.25')).toEqual([]);
  });

  it('with nothing running, still turns the switch on', async () => {
    const dir = project();
    const stop = await orch(['stop', '--all', '--json'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({ halted: true, stopped: [] });
    expect((await orch(['run', 'mark', '--name', 'x'], { cwd: dir })).code).toBe(2);
    expect((await orch(['status'], { cwd: dir })).stdout).toMatch(/kill switch on since \S+ \(by [^)]+\): no new run starts until `orch start --all`/);
    expect((await orch(['start', '--all'], { cwd: dir })).stdout).toContain('Kill switch off');
    expect((await orch(['status'], { cwd: dir })).stdout).not.toContain('kill switch');
    expect((await orch(['run', 'mark', '--name', 'x'], { cwd: dir })).code).toBe(0);
  });
});
