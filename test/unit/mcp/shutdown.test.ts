import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identify, isRunning, type ProcessIdentity } from '../../../src/process/identity.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, ProcessWatch, fixture, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());

const pause = () => new Promise((r) => setTimeout(r, 20));

/** Waits (boundedly) until the test has caused `count` processes; returns them. */
async function processes(watch: ProcessWatch, count: number): Promise<ProcessIdentity[]> {
  for (let i = 0; i < 250 && watch.snapshot().length < count; i++) await pause();
  const now = watch.snapshot();
  expect(now).toHaveLength(count);
  return now;
}

function textOf(result: { content: { type: string; text?: string }[] }): string {
  return result.content[0]?.text ?? '';
}

describe('shutdown', () => {
  it('ends a server that ignores stdin EOF and SIGTERM, and its grandchild, leaving no pid record', async () => {
    const watch = new ProcessWatch();
    const supervisor = new Supervisor([fixture('stubborn', 'stubborn.mjs')], { stateDir: state.dir, policy: FAST_POLICY });
    try {
      const grandchild = Number(textOf(await supervisor.callTool('stubborn', 'grandchild_pid', {})));
      const serverPid = supervisor.server('stubborn').pid;
      watch.snapshot();
      const grandchildId = identify(grandchild);
      expect(grandchildId).toBeDefined();
      if (grandchildId) watch.add(grandchildId);
      expect(watch.count).toBe(2);
      expect(existsSync(path.join(state.dir, 'pids', `${serverPid}.json`))).toBe(true);
    } finally {
      await supervisor.shutdown();
    }
    expect(watch.leftovers()).toEqual([]);
    expect(readdirSync(path.join(state.dir, 'pids'))).toEqual([]);
    expect(supervisor.server('stubborn').status).toBe('stopped');
    await expect(supervisor.callTool('stubborn', 'echo', {})).rejects.toMatchObject({ code: 'ORCH_SERVER_STOPPED' });
  });

  it('ends servers when orch fails: a hung start is killed and reported with its stderr', async () => {
    const watch = new ProcessWatch();
    const supervisor = new Supervisor([fixture('silent', 'silent.mjs', { startupTimeoutMs: 1500 }), fixture('stubborn', 'stubborn.mjs')], {
      stateDir: state.dir,
      policy: FAST_POLICY,
    });
    try {
      const pending = supervisor.start();
      // Both processes exist while the start is pending.
      for (let i = 0; i < 100 && watch.snapshot().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      const outcomes = await pending;
      const silent = outcomes.find((o) => o.server === 'silent');
      expect(silent?.ok).toBe(false);
      if (silent && !silent.ok) {
        expect(silent.error.code).toBe('ORCH_SERVER_START');
        expect(silent.error.message).toContain('MCP server "silent" did not finish starting within 1.5s');
        expect(silent.error.message).toContain('| silent: warming up forever');
      }
      expect(watch.count).toBeGreaterThanOrEqual(3);
    } finally {
      await supervisor.shutdown();
    }
    expect(watch.leftovers()).toEqual([]);
  });

  it('shutting down while a call is in flight fails the call and still ends everything', async () => {
    const watch = new ProcessWatch();
    const supervisor = new Supervisor([fixture('stubborn', 'stubborn.mjs'), fixture('crashy', 'crashy.mjs')], {
      stateDir: state.dir,
      policy: FAST_POLICY,
    });
    await supervisor.start();
    const call = supervisor.callTool('stubborn', 'hang', {});
    call.catch(() => {}); // asserted below, after the shutdown
    // The server answers in order: once echo is back, `hang` is in flight.
    await supervisor.callTool('stubborn', 'echo', {});
    watch.snapshot();
    await supervisor.shutdown();
    await expect(call).rejects.toMatchObject({ code: 'ORCH_CANCELLED', message: expect.stringContaining('shutting down') });
    expect(watch.count).toBeGreaterThanOrEqual(3);
    expect(watch.leftovers()).toEqual([]);
  });

  it('a shutdown during a hung start ends the server at once instead of waiting for startup_timeout', async () => {
    const watch = new ProcessWatch();
    // Ten minutes: were the shutdown to wait for the start, the test would time out.
    const supervisor = new Supervisor([fixture('silent', 'silent.mjs', { startupTimeoutMs: 600_000 })], {
      stateDir: state.dir,
      policy: FAST_POLICY,
    });
    const pending = supervisor.start();
    try {
      await processes(watch, 1);
    } finally {
      await supervisor.shutdown();
    }
    const [outcome] = await pending;
    expect(outcome).toMatchObject({ server: 'silent', ok: false, error: { code: 'ORCH_SERVER_STOPPED' } });
    expect(watch.leftovers()).toEqual([]);
    expect(readdirSync(path.join(state.dir, 'pids'))).toEqual([]);
  });

  it('killNow reaches a server that is still starting', async () => {
    const watch = new ProcessWatch();
    const supervisor = new Supervisor([fixture('hung', 'hung.mjs', { startupTimeoutMs: 600_000 })], {
      stateDir: state.dir,
      policy: { ...FAST_POLICY, stop: { graceMs: 60_000, termMs: 60_000 } },
    });
    const pending = supervisor.start();
    try {
      const [server] = await processes(watch, 1);
      supervisor.server('hung').killNow();
      for (let i = 0; i < 250 && server && isRunning(server); i++) await pause();
      expect(watch.leftovers()).toEqual([]);
    } finally {
      await supervisor.shutdown();
    }
    expect((await pending)[0]?.ok).toBe(false);
    expect(watch.leftovers()).toEqual([]);
  });
});
