import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identify } from '../../../src/mcp/proc.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, ProcessWatch, fixture, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());

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
    await expect(call).rejects.toMatchObject({ code: 'ORCH_TOOL_CANCELLED', message: expect.stringContaining('shutting down') });
    expect(watch.count).toBeGreaterThanOrEqual(3);
    expect(watch.leftovers()).toEqual([]);
  });
});
