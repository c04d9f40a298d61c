import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, orch } from '../helpers/cli.js';
import { tempProject } from '../helpers/project.js';
import { processesWith, until } from '../helpers/workflow-project.js';

// Sleeps no other test (or anything else) runs, so /proc tells exactly which processes are
// ours. They last ten minutes: a test that waited for one to end by itself would time out.
const base = 600 + (process.pid % 1000);
const NAP = `${base}.1`;
const NAP2 = `${base}.2`;
const daemonizer = fileURLToPath(new URL('../fixtures/servers/daemonizer.mjs', import.meta.url));

const GANTZ = `name: escapes
tools:
  detach_and_finish:
    script:
      shell: "setsid sh -c 'sleep ${NAP}' & sleep 0.3; echo finished"
  detach_and_hang:
    script:
      shell: "setsid sh -c 'sleep ${NAP}' & sleep ${NAP2}"
      timeout: 1s
  detach_quietly:
    script:
      shell: "setsid sh -c 'sleep ${NAP}' >/dev/null 2>&1 & sleep 0.3; echo finished"
  detach_without_env:
    script:
      shell: "env -i /usr/bin/setsid sleep ${NAP} & sleep 0.3; echo finished"
  detach_and_wait:
    script:
      shell: "setsid sh -c 'sleep ${NAP}' & sleep ${NAP2}"
mcpServers:
  daemons:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(daemonizer)}]
`;

let cleanup = (): void => {};
afterEach(() => {
  for (const pid of [...processesWith(NAP), ...processesWith(NAP2)]) process.kill(pid, 'SIGKILL');
  cleanup();
});

function project(): string {
  const p = tempProject({ 'gantz.yaml': GANTZ });
  cleanup = p.cleanup;
  return p.dir;
}

const survivors = () => [...processesWith(NAP), ...processesWith(NAP2)];

describe('a script whose job leaves its process group (setsid)', () => {
  it.each([
    ['keeps its output open', 'detach_and_finish'],
    ['has its output redirected', 'detach_quietly'],
    ['also clears its environment (found by the pipes it holds)', 'detach_without_env'],
  ])('and %s: orch prints the result, exits, and leaves nothing running', (_what, tool) => {
    const dir = project();
    const r = orch(['run', tool], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('finished\n');
    expect(r.code).toBe(0);
    expect(survivors()).toEqual([]);
  });

  it('is ended with the script when the script times out', () => {
    const dir = project();
    const r = orch(['run', 'detach_and_hang'], { cwd: dir });
    expect(r.stderr).toContain('ORCH_TOOL_TIMEOUT');
    expect(r.code).toBe(1);
    expect(survivors()).toEqual([]);
  });

  it('is ended when orch is sent SIGTERM', async () => {
    const dir = project();
    const child = spawn(process.execPath, [BIN, 'run', 'detach_and_wait'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until(() => processesWith(NAP).length > 0 && processesWith(NAP2).length > 0, 'the script and its detached job to start');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(survivors()).toEqual([]);
  });

  it('of an orch that was SIGKILLed is ended by the next orch command', async () => {
    const dir = project();
    const pids = path.join(dir, '.orch', 'pids');
    const child = spawn(process.execPath, [BIN, 'run', 'detach_and_wait'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await until(
      () => processesWith(NAP).length > 0 && processesWith(NAP2).length > 0 && existsSync(pids) && readdirSync(pids).length === 1,
      'the script and its detached job to start and be recorded',
    );
    child.kill('SIGKILL');
    await exited;
    expect(processesWith(NAP).length).toBeGreaterThan(0);
    expect(orch(['validate'], { cwd: dir }).code).toBe(0);
    expect(survivors()).toEqual([]);
  });
});

describe('an MCP server that double-forks a daemon holding its pipes', () => {
  it.each([
    ['', false],
    [' from an empty environment', true],
  ])('%s: orch prints the result, exits, and the daemon does not outlive it', (_what, clearEnv) => {
    const dir = project();
    const r = orch(['mcp', 'call', 'daemons', 'daemonize', '--args', JSON.stringify({ nap: NAP, clear_env: clearEnv })], { cwd: dir });
    expect(r.stdout).toContain('started');
    expect(r.code).toBe(0);
    expect(survivors()).toEqual([]);
  });
});
