import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { FAST_POLICY, ManualClock, ProcessWatch, fixture, stdioServer, tempDir } from './helpers.js';

const state = tempDir();
afterAll(() => state.cleanup());
const watch = new ProcessWatch();
let supervisor: Supervisor | undefined;

afterEach(async () => {
  await supervisor?.shutdown();
  supervisor = undefined;
  expect(watch.leftovers()).toEqual([]);
});

describe('a server that crashes', () => {
  it('fails the in-flight call with its stderr, then restarts on the next use', async () => {
    const clock = new ManualClock();
    supervisor = new Supervisor([fixture('crashy', 'crashy.mjs')], { stateDir: state.dir, policy: FAST_POLICY, clock });
    await supervisor.callTool('crashy', 'ok', {});
    const firstPid = supervisor.server('crashy').pid;
    watch.snapshot();
    await expect(supervisor.callTool('crashy', 'crash', {})).rejects.toMatchObject({
      code: 'ORCH_SERVER_EXITED',
      message: expect.stringMatching(/MCP server "crashy" exited during a call to "crash"[\s\S]*giving up mid-call/),
    });
    expect(supervisor.server('crashy').status).toBe('exited');

    const again = await supervisor.callTool('crashy', 'ok', {});
    watch.snapshot();
    expect(again.content).toEqual([{ type: 'text', text: `pid ${supervisor.server('crashy').pid}` }]);
    expect(supervisor.server('crashy').pid).not.toBe(firstPid);
    expect(clock.sleeps).toEqual([1]); // the first restart waited the base backoff
  });

  it('resolves names against the tools of the server running now, across a restart', async () => {
    const clock = new ManualClock();
    supervisor = new Supervisor([fixture('crashy', 'crashy.mjs')], { stateDir: state.dir, policy: FAST_POLICY, clock });
    await supervisor.call('crashy.ok', {});
    watch.snapshot();
    // Kept while nothing changes: every call by name resolves against it.
    const registry = supervisor.runningTools();
    expect(supervisor.runningTools()).toBe(registry);
    await expect(supervisor.call('crashy.crash', {})).rejects.toMatchObject({ code: 'ORCH_SERVER_EXITED' });
    const again = await supervisor.call('ok', {});
    watch.snapshot();
    expect(again.content).toEqual([{ type: 'text', text: `pid ${supervisor.server('crashy').pid}` }]);
    const restarted = supervisor.runningTools();
    expect(restarted).not.toBe(registry);
    expect(restarted.find('crashy.ok')?.tool).toBe(supervisor.server('crashy').tools.find((t) => t.name === 'ok'));
  });

  it('opens the circuit after repeated crashes instead of restarting again', async () => {
    const clock = new ManualClock();
    supervisor = new Supervisor([fixture('crashy', 'crashy.mjs')], {
      stateDir: state.dir,
      policy: { ...FAST_POLICY, breaker: { threshold: 2, cooldownMs: 60_000 } },
      clock,
    });
    for (let i = 0; i < 2; i++) {
      const call = supervisor.callTool('crashy', 'crash', {});
      watch.snapshot();
      await expect(call).rejects.toMatchObject({ code: 'ORCH_SERVER_EXITED' });
    }
    await expect(supervisor.callTool('crashy', 'ok', {})).rejects.toMatchObject({
      code: 'ORCH_SERVER_UNAVAILABLE',
      message: expect.stringContaining('keeps failing'),
      hint: expect.stringContaining('1m00s'),
    });
    // After the cooldown one probe goes through; a healthy answer closes the circuit.
    clock.time += 60_000;
    await expect(supervisor.callTool('crashy', 'ok', {})).resolves.toMatchObject({ content: [{ type: 'text' }] });
    watch.snapshot();
  });

  it('gives up after the bounded number of restarts of a server that dies at start-up', async () => {
    const clock = new ManualClock();
    const dies = stdioServer('dies', ['-e', "process.stderr.write('dies: bad config\\n'); process.exit(3)"]);
    supervisor = new Supervisor([dies], {
      stateDir: state.dir,
      policy: { ...FAST_POLICY, restart: { baseDelayMs: 100, maxDelayMs: 1000, maxRestarts: 2 }, breaker: { threshold: 99, cooldownMs: 1 } },
      clock,
    });
    for (let i = 0; i < 3; i++) {
      await expect(supervisor.callTool('dies', 'x', {})).rejects.toMatchObject({
        code: 'ORCH_SERVER_START',
        message: expect.stringMatching(/"dies" exited during start-up[\s\S]*dies: bad config/),
      });
    }
    await expect(supervisor.callTool('dies', 'x', {})).rejects.toMatchObject({ code: 'ORCH_SERVER_UNAVAILABLE' });
    expect(clock.sleeps).toEqual([100, 200]);
    expect(supervisor.server('dies').status).toBe('failed');
  });

  it('reports a command that does not exist', async () => {
    supervisor = new Supervisor([stdioServer('ghost', [], { command: 'orch-no-such-command' })], { stateDir: state.dir, policy: FAST_POLICY });
    const [outcome] = await supervisor.start();
    expect(outcome?.ok).toBe(false);
    expect(outcome && !outcome.ok && outcome.error.message).toContain('command not found: orch-no-such-command');
  });

  it('is used again once fixed: after the cooldown one trial start goes through, even with its restarts used up', async () => {
    const clock = new ManualClock();
    const ready = path.join(state.dir, 'until-ready');
    const cooldownMs = 1000;
    supervisor = new Supervisor([fixture('flaky', 'until-ready.mjs', { env: { ORCH_FIXTURE_READY: ready } })], {
      stateDir: state.dir,
      policy: { ...FAST_POLICY, restart: { baseDelayMs: 1, maxDelayMs: 1, maxRestarts: 2 }, breaker: { threshold: 2, cooldownMs } },
      clock,
    });
    // Six failed starts, a cooldown apart: the restart budget runs out along the way.
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const error: unknown = await supervisor.callTool('flaky', 'echo', {}).catch((err: unknown) => err);
      codes.push(error instanceof Error && 'code' in error ? String(error.code) : 'none');
      watch.snapshot();
      clock.time += cooldownMs;
    }
    expect(codes.every((c) => c === 'ORCH_SERVER_START' || c === 'ORCH_SERVER_UNAVAILABLE')).toBe(true);
    expect(codes).toContain('ORCH_SERVER_START');

    writeFileSync(ready, '');
    clock.time += cooldownMs;
    await expect(supervisor.callTool('flaky', 'echo', { message: 'back' })).resolves.toMatchObject({
      content: [{ type: 'text', text: 'echo: back' }],
    });
    watch.snapshot();
    expect(supervisor.server('flaky').status).toBe('running');
    // Healthy again: calls flow without waiting for any cooldown.
    await expect(supervisor.callTool('flaky', 'echo', {})).resolves.toMatchObject({ content: [{ type: 'text' }] });
  });

  it('never shows the env values it was given in an error, however the server echoes them', async () => {
    const SECRET = 'hunter2-very-secret';
    const leaky = stdioServer('leaky', ['-c', 'echo "my token is $SVC_CRED" >&2; exit 1'], { command: '/bin/sh', env: { SVC_CRED: SECRET } });
    const crashy = fixture('crashy', 'crashy.mjs', { env: { SVC_CRED: SECRET } });
    supervisor = new Supervisor([leaky, crashy], { stateDir: state.dir, policy: FAST_POLICY });
    const [outcome] = await supervisor.start(['leaky']);
    const started = outcome && !outcome.ok ? outcome.error : undefined;
    expect(started?.message).toContain('my token is [REDACTED]');
    expect(started?.message).not.toContain(SECRET);

    const call = supervisor.callTool('crashy', 'crash', {});
    watch.snapshot();
    const crashed: unknown = await call.catch((err: unknown) => err);
    expect(crashed).toMatchObject({ code: 'ORCH_SERVER_EXITED', message: expect.stringContaining('my credential was [REDACTED]') });
    expect(crashed instanceof Error && crashed.message).not.toContain(SECRET);
  });
});
