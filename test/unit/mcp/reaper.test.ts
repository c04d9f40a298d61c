import { execa } from 'execa';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { reapOrphans, registerPid } from '../../../src/process/pid-registry.js';
import { descendants, identify, isRunning } from '../../../src/process/identity.js';
import { FIXTURES, ProcessWatch, fixture, stdioServer, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());
const timings = { graceMs: 0, termMs: 150 };
const pause = () => new Promise((r) => setTimeout(r, 20));
/** A process that ignores SIGTERM and sleeps: only SIGKILL ends it. */
const IGNORES_TERM = "process.on('SIGTERM', () => {}); setInterval(() => {}, 60000)";

describe('reaping servers of an orch that was SIGKILLed', () => {
  it('ends the servers (and their children) left behind, once the owner is gone', async () => {
    const watch = new ProcessWatch();
    const defs = [fixture('stubborn', 'stubborn.mjs')];
    const host = execa(process.execPath, [path.join(FIXTURES, 'supervise.mjs'), JSON.stringify(defs), state.dir], { reject: false });
    try {
      const firstLine = await new Promise<string>((resolve) => host.stdout?.once('data', (d: Buffer) => resolve(d.toString())));
      const [serverPid] = JSON.parse(firstLine) as number[];
      watch.snapshot();
      expect(serverPid).toBeTypeOf('number');
      host.kill('SIGKILL');
      await host;
      // The stubborn server ignores the EOF it got: it outlives its orch.
      expect(watch.leftovers().map((p) => p.pid)).toContain(serverPid);
      const reaped = await reapOrphans(state.dir, timings);
      expect(reaped.map((r) => [r.server, r.pid])).toEqual([['stubborn', serverPid]]);
    } finally {
      host.kill('SIGKILL');
    }
    expect(watch.count).toBeGreaterThanOrEqual(3); // host, server, grandchild
    expect(watch.leftovers()).toEqual([]);
    expect(readdirSync(path.join(state.dir, 'pids'))).toEqual([]);
  });

  it('ends the children of a recorded server that has itself exited', async () => {
    const watch = new ProcessWatch();
    // A wrapper starts a helper that ignores SIGTERM, then becomes the server; the server
    // exits on the EOF its killed orch leaves it, and the helper runs on without a parent.
    const node = `'${process.execPath}'`;
    const command = `${node} -e "${IGNORES_TERM}" & exec ${node} '${path.join(FIXTURES, 'echo.mjs')}'`;
    const defs = [stdioServer('wrapped', ['-c', command], { command: '/bin/sh' })];
    const host = execa(process.execPath, [path.join(FIXTURES, 'supervise.mjs'), JSON.stringify(defs), state.dir], { reject: false });
    try {
      const firstLine = await new Promise<string>((resolve) => host.stdout?.once('data', (d: Buffer) => resolve(d.toString())));
      const [serverPid] = JSON.parse(firstLine) as number[];
      const server = identify(serverPid ?? -1);
      expect(server).toBeDefined();
      watch.snapshot();
      expect(watch.count).toBe(3); // host, server, helper
      host.kill('SIGKILL');
      await host;
      for (let i = 0; i < 250 && server && isRunning(server); i++) await pause();
      expect(server && isRunning(server)).toBe(false);
      expect(watch.leftovers()).toHaveLength(1); // the helper, orphaned
      const reaped = await reapOrphans(state.dir, timings);
      expect(reaped.map((r) => [r.name, r.pid])).toEqual([['wrapped', serverPid]]);
    } finally {
      host.kill('SIGKILL');
    }
    expect(watch.leftovers()).toEqual([]);
    expect(readdirSync(path.join(state.dir, 'pids'))).toEqual([]);
  });

  it('ends the process group of a recorded script whose leader has exited', async () => {
    const watch = new ProcessWatch();
    // The shell leads its own group (as a script tool's does) and leaves a helper in it.
    const shell = spawn('/bin/sh', ['-c', `'${process.execPath}' -e "${IGNORES_TERM}" & read line`], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((resolve) => shell.once('exit', resolve));
    try {
      const leader = identify(shell.pid ?? -1);
      expect(leader).toBeDefined();
      if (!leader) return;
      watch.add(leader);
      for (let i = 0; i < 250 && descendants(leader.pid).length < 1; i++) await pause();
      watch.snapshot();
      expect(watch.count).toBe(2);
      registerPid(state.dir, 'nap', leader, 'script');
      // Its orch is gone (an owner that never ran), and so is the shell.
      const file = path.join(state.dir, 'pids', `${leader.pid}.json`);
      const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...record, owner: { pid: process.pid, startTime: '1' } }));
      shell.stdin?.end('go\n');
      await exited;
      expect(watch.leftovers()).toHaveLength(1); // the helper, still in the group
      const reaped = await reapOrphans(state.dir, timings);
      expect(reaped.map((r) => [r.kind, r.name])).toEqual([['script', 'nap']]);
    } finally {
      shell.kill('SIGKILL');
    }
    expect(watch.leftovers()).toEqual([]);
    expect(readdirSync(path.join(state.dir, 'pids'))).toEqual([]);
  });

  it('never signals a reused pid, and leaves the servers of a running orch alone', async () => {
    const watch = new ProcessWatch();
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const id = identify(bystander.pid ?? -1);
      const me = identify(process.pid);
      expect(id).toBeDefined();
      expect(me).toBeDefined();
      if (!id || !me) return;
      watch.add(id);
      const dir = path.join(state.dir, 'pids');
      mkdirSync(dir, { recursive: true });
      const deadOwner = { pid: me.pid, startTime: '1' };
      // Same pid, other start time: the recorded server is gone and the pid now belongs to someone else.
      writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ server: 'a', pid: id.pid, startTime: '1', owner: deadOwner }));
      // Owner alive (this very process): its server is not an orphan.
      writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ server: 'b', ...id, owner: me }));
      writeFileSync(path.join(dir, 'c.json'), 'not json');
      expect(await reapOrphans(state.dir, timings)).toEqual([]);
      expect(identify(id.pid)).toEqual(id);
      expect(readdirSync(dir)).toEqual(['b.json']);
    } finally {
      bystander.kill('SIGKILL');
      await new Promise((resolve) => bystander.once('exit', resolve));
    }
    expect(watch.leftovers()).toEqual([]);
  });
});

describe('signals while servers run', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} shuts the servers down, then exits ${code}`, async () => {
      const watch = new ProcessWatch();
      const defs = [fixture('stubborn', 'stubborn.mjs'), fixture('echo', 'echo.mjs')];
      const host = execa(process.execPath, [path.join(FIXTURES, 'supervise.mjs'), JSON.stringify(defs), state.dir], { reject: false });
      await new Promise((resolve) => host.stdout?.once('data', resolve));
      watch.snapshot();
      host.kill(signal);
      const result = await host;
      expect(result.exitCode).toBe(code);
      expect(watch.count).toBeGreaterThanOrEqual(4);
      expect(watch.leftovers()).toEqual([]);
    });
  }

  it('an uncaught error shuts the servers down first, then exits 1 with the stack', async () => {
    const watch = new ProcessWatch();
    const defs = [fixture('stubborn', 'stubborn.mjs')];
    const host = execa(process.execPath, [path.join(FIXTURES, 'supervise.mjs'), JSON.stringify(defs), state.dir, 'throw'], { reject: false });
    await new Promise((resolve) => host.stdout?.once('data', resolve));
    watch.snapshot();
    const result = await host;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('boom from a bug');
    expect(watch.count).toBeGreaterThanOrEqual(3);
    expect(watch.leftovers()).toEqual([]);
  });
});
