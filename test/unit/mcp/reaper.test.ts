import { execa } from 'execa';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { reapOrphans } from '../../../src/mcp/pid-registry.js';
import { identify } from '../../../src/mcp/proc.js';
import { FIXTURES, ProcessWatch, fixture, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());
const timings = { graceMs: 0, termMs: 150 };

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

  it('never signals a reused pid, and leaves the servers of a running orch alone', async () => {
    const watch = new ProcessWatch();
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const id = identify(bystander.pid ?? -1);
      const me = identify(process.pid);
      expect(id && me).toBeTruthy();
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
