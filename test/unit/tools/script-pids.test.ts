import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScriptHandler } from '../../../src/config/model.js';
import { reapOrphans, type PidRecord } from '../../../src/process/pid-registry.js';
import { identify } from '../../../src/process/identity.js';
import { killRunningScripts, runScript } from '../../../src/tools/script.js';
import { ToolError } from '../../../src/tools/result.js';
import { isAlive, survivors } from './process-helpers.js';

const SCRIPT_JS = fileURLToPath(new URL('../../../dist/tools/script.js', import.meta.url));
const timings = { graceMs: 0, termMs: 150 };

let dir: string;
let state: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orch-script-pids-'));
  state = path.join(dir, '.orch');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pidsDir = () => path.join(state, 'pids');
const records = (): PidRecord[] =>
  existsSync(pidsDir()) ? readdirSync(pidsDir()).map((f) => JSON.parse(readFileSync(path.join(pidsDir(), f), 'utf8')) as PidRecord) : [];

/** Waits (bounded) until the script has written its pid to `pid` in the working dir. */
async function scriptPid(): Promise<number> {
  const file = path.join(dir, 'pid');
  const deadline = Date.now() + 10_000;
  while (!existsSync(file) || !readFileSync(file, 'utf8').endsWith('\n')) {
    if (Date.now() > deadline) throw new Error('the script never wrote its pid');
    await new Promise((r) => setTimeout(r, 20));
  }
  return Number(readFileSync(file, 'utf8').trim());
}

// `$$` is the shell, which is the process orch started and the leader of the script's group.
const waitForGo: ScriptHandler = { kind: 'script', shell: 'echo $$ > pid; while [ ! -f go ]; do sleep 0.02; done; echo done', args: [] };

describe('script processes in the pid registry', () => {
  it('records a running script under the state dir and forgets it once it ends', async () => {
    const call = runScript(waitForGo, {}, { tool: 'waiter', baseDir: dir, environment: {}, stateDir: state });
    const pid = await scriptPid();
    const me = identify(process.pid);
    // The tag its descendants inherit, by which they are found however they detach.
    expect(records()).toEqual([{ kind: 'script', name: 'waiter', pid, startTime: identify(pid)?.startTime, owner: me, tag: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
    writeFileSync(path.join(dir, 'go'), '');
    expect((await call).value).toBe('done');
    expect(records()).toEqual([]);
    expect(await survivors([pid])).toEqual([]);
  });

  it('forgets the record of a script ended by a forced exit', async () => {
    const call = runScript(waitForGo, {}, { tool: 'waiter', baseDir: dir, environment: {}, stateDir: state });
    const outcome = call.then(() => undefined, (e: unknown) => e);
    const pid = await scriptPid();
    expect(records().map((r) => r.pid)).toEqual([pid]);
    killRunningScripts();
    expect(records()).toEqual([]);
    expect(await outcome).toBeInstanceOf(ToolError);
    expect(await survivors([pid])).toEqual([]);
  });

  it('leaves no record without a state dir', async () => {
    writeFileSync(path.join(dir, 'go'), '');
    const result = await runScript(waitForGo, {}, { tool: 'waiter', baseDir: dir, environment: {} });
    expect(result.value).toBe('done');
    expect(readdirSync(dir).sort()).toEqual(['go', 'pid']);
    expect(await survivors([Number(readFileSync(path.join(dir, 'pid'), 'utf8'))])).toEqual([]);
  });

  it('reaps the script of a SIGKILLed owner, with its children', async () => {
    // Stands in for an orch command: runs the script with the built runner, then is killed.
    const hostCode = `
      import { runScript } from ${JSON.stringify(SCRIPT_JS)};
      const handler = { kind: 'script', shell: 'sleep 300 & echo $$ $! > pid; wait', args: [] };
      await runScript(handler, {}, { tool: 'napper', baseDir: process.argv[1], environment: {}, stateDir: process.argv[2] });
    `;
    const host = execa(process.execPath, ['--input-type=module', '-e', hostCode, dir, state], { reject: false });
    let pids: number[] = [];
    try {
      await scriptPid();
      // The host writes the record just after the spawn, which the script itself may outrun.
      while (records().length === 0) await new Promise((r) => setTimeout(r, 20));
      pids = readFileSync(path.join(dir, 'pid'), 'utf8').trim().split(' ').map(Number);
      expect(pids).toHaveLength(2);
      host.kill('SIGKILL');
      await host;
      // Nothing ended the script with its owner.
      for (const pid of pids) expect(await isAlive(pid)).toBe(true);
      const reaped = await reapOrphans(state, timings);
      expect(reaped.map((r) => [r.kind, r.name, r.pid])).toEqual([['script', 'napper', pids[0]]]);
      expect(await survivors(pids)).toEqual([]);
      expect(records()).toEqual([]);
    } finally {
      host.kill('SIGKILL');
      for (const pid of pids) if (await isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('still reads records written before records had a kind, as servers', async () => {
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const id = identify(bystander.pid ?? -1);
      expect(id).toBeDefined();
      if (!id) return;
      mkdirSync(pidsDir(), { recursive: true });
      const deadOwner = { pid: process.pid, startTime: '1' };
      writeFileSync(path.join(pidsDir(), `${id.pid}.json`), JSON.stringify({ server: 'old', ...id, owner: deadOwner }));
      const reaped = await reapOrphans(state, timings);
      expect(reaped.map((r) => [r.kind, r.name, r.pid])).toEqual([['server', 'old', id.pid]]);
      expect(await survivors([id.pid])).toEqual([]);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
