import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { processesWith, until } from '../helpers/workflow-project.js';

// A sleep no other test (or anything else) runs, so /proc tells exactly which processes are ours.
const NAP = `${700_000 + (process.pid % 100_000)}.${Date.now() % 100_000}`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-reap-'));
  writeFileSync(
    path.join(dir, 'gantz.yaml'),
    `name: reap
tools:
  nap:
    script:
      shell: echo started >> log.txt; if [ ! -f go ]; then sleep ${NAP}; fi; echo finished >> log.txt
`,
  );
  writeFileSync(
    path.join(dir, 'agent-team.yaml'),
    `team: { name: reap }
agents:
  - role: worker
workflows:
  rest:
    - { id: nap, agent: worker, action: nap }
`,
  );
});
afterEach(() => {
  for (const pid of processesWith(NAP)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const log = () => (existsSync(path.join(dir, 'log.txt')) ? readFileSync(path.join(dir, 'log.txt'), 'utf8').trim().split('\n') : []);
const pidRecords = () => (existsSync(path.join(dir, '.orch', 'pids')) ? readdirSync(path.join(dir, '.orch', 'pids')) : []);

/** Starts `orch run rest`, waits for its step's shell and sleep, then SIGKILLs orch; returns the run id. */
async function killMidStep(): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'run', 'rest'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    // The record is written just after the spawn, which the script itself may outrun.
    await until(() => processesWith(NAP).length === 2 && pidRecords().length === 1, 'the step to start its sleep and be recorded');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const [runId = ''] = readdirSync(path.join(dir, '.orch', 'runs'));
  return runId;
}

describe('script steps of an orch that was SIGKILLed', () => {
  it('outlive it, and the next orch command in the project ends them', async () => {
    await killMidStep();
    // The shell and its sleep run on in their own process group, recorded as orphans-to-be.
    expect(processesWith(NAP)).toHaveLength(2);
    expect(pidRecords()).toHaveLength(1);
    const r = orch(['runs', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ workflow: 'rest', status: 'interrupted' }]);
    expect(processesWith(NAP)).toEqual([]);
    expect(pidRecords()).toEqual([]);
    expect(log()).toEqual(['started']);
  });

  it('are ended before `orch resume` runs the step again, so it runs once', async () => {
    const runId = await killMidStep();
    expect(processesWith(NAP)).toHaveLength(2);
    writeFileSync(path.join(dir, 'go'), '');
    const r = orch(['resume', runId], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    // The killed run's copy never got to finish: only the resumed step did.
    expect(log()).toEqual(['started', 'started', 'finished']);
    expect(processesWith(NAP)).toEqual([]);
    expect(pidRecords()).toEqual([]);
  });
});
