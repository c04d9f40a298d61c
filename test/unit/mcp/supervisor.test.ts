import { getEventListeners } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PROCESS_TAG_VARIABLE } from '../../../src/process/identity.js';
import { Supervisor } from '../../../src/mcp/supervisor.js';
import { BASE_ENV_VARS } from '../../../src/mcp/env.js';
import { FAST_POLICY, ProcessWatch, everything, fixture, tempDir } from './helpers.js';

const state = tempDir();
let supervisor: Supervisor | undefined;
const watch = new ProcessWatch();


afterEach(async () => {
  await supervisor?.shutdown();
  supervisor = undefined;
  expect(watch.leftovers()).toEqual([]);
});

describe('Supervisor with real servers', () => {
  it('starts servers in parallel and addresses tools as server.tool or by a unique bare name', async () => {
    supervisor = new Supervisor([everything('every'), fixture('fx', 'echo.mjs', { env: { ORCH_FIXTURE_TOOLS: 'only_here' } })], {
      stateDir: state.dir,
      policy: FAST_POLICY,
    });
    const outcomes = await supervisor.start();
    watch.snapshot();
    expect(outcomes.map((o) => [o.server, o.ok])).toEqual([['every', true], ['fx', true]]);
    expect(watch.count).toBeGreaterThanOrEqual(2);

    const qualified = await supervisor.call('every.echo', { message: 'hi' });
    expect(qualified.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
    const bare = await supervisor.call('only_here', {});
    expect(bare.content).toEqual([{ type: 'text', text: 'only_here' }]);

    await expect(supervisor.call('echo', {})).rejects.toMatchObject({
      code: 'ORCH_TOOL_AMBIGUOUS',
      hint: expect.stringContaining('every.echo, fx.echo'),
    });
    await expect(supervisor.call('ecko', {})).rejects.toMatchObject({ code: 'ORCH_UNKNOWN_TOOL', hint: expect.stringContaining('"echo"') });
    await expect(supervisor.callTool('every', 'nope', {})).rejects.toMatchObject({ code: 'ORCH_UNKNOWN_TOOL' });
    await expect(supervisor.callTool('evry', 'echo', {})).rejects.toMatchObject({
      code: 'ORCH_UNKNOWN_SERVER',
      hint: expect.stringContaining('"every"'),
    });
  });

  it('starts a server lazily, on its first use', async () => {
    supervisor = new Supervisor([fixture('lazy', 'echo.mjs')], { stateDir: state.dir, policy: FAST_POLICY });
    expect(supervisor.server('lazy').status).toBe('idle');
    expect(watch.snapshot()).toEqual([]);
    const result = await supervisor.callTool('lazy', 'echo', { message: 'x' });
    watch.snapshot();
    expect(result.content).toEqual([{ type: 'text', text: 'echo: x' }]);
    expect(supervisor.server('lazy').status).toBe('running');
  });

  it('gives a server only the minimal environment plus its declared env', async () => {
    const env = { ...process.env, ORCH_LEAK_CANARY: 'must-not-arrive', MY_API_TOKEN: 'tok-should-stay-home' };
    supervisor = new Supervisor([everything('every', { env: { DECLARED_ONE: 'arrives' } })], {
      stateDir: state.dir,
      env,
      policy: FAST_POLICY,
    });
    const result = await supervisor.callTool('every', 'get-env', {});
    watch.snapshot();
    const block = result.content[0];
    const received: Record<string, string> = JSON.parse(block?.type === 'text' ? block.text : '{}');
    // ORCH_PROCESS_TAG marks what the server starts, so that all of it can be ended; it holds no secret.
    const allowed = new Set<string>([...BASE_ENV_VARS, 'DECLARED_ONE', PROCESS_TAG_VARIABLE]);
    expect(Object.keys(received).filter((k) => !allowed.has(k))).toEqual([]);
    expect(received.DECLARED_ONE).toBe('arrives');
    expect(received.PATH).toBe(process.env.PATH);
  });

  it('surfaces progress notifications and honours tool_timeout and cancellation', async () => {
    supervisor = new Supervisor([everything('every', { toolTimeoutMs: 300 })], { stateDir: state.dir, policy: FAST_POLICY });
    const progress: number[] = [];
    await supervisor.call('trigger-long-running-operation', { duration: 0.3, steps: 3 }, {
      timeoutMs: 10_000,
      onProgress: (p) => progress.push(p.progress),
    });
    watch.snapshot();
    // The SDK may drop the last notification when the result overtakes it; earlier ones arrive.
    expect(progress.slice(0, 2)).toEqual([1, 2]);

    await expect(supervisor.call('trigger-long-running-operation', { duration: 60, steps: 1 })).rejects.toMatchObject({
      code: 'ORCH_TOOL_TIMEOUT',
      message: expect.stringContaining('"every.trigger-long-running-operation"'),
    });
    const controller = new AbortController();
    const pending = supervisor.call('trigger-long-running-operation', { duration: 60, steps: 600 }, {
      signal: controller.signal,
      timeoutMs: 60_000,
      onProgress: () => controller.abort(new Error('user pressed Ctrl-C')),
    });
    await expect(pending).rejects.toMatchObject({ code: 'ORCH_CANCELLED', message: expect.stringContaining('Ctrl-C') });
    // The server survives both and keeps answering.
    const after = await supervisor.call('echo', { message: 'still here' });
    expect(after.content).toEqual([{ type: 'text', text: 'Echo: still here' }]);
  });

  it("leaves one listener on a caller's signal however many calls share it, and a call still ends when it aborts", async () => {
    supervisor = new Supervisor([everything('every')], { stateDir: state.dir, policy: FAST_POLICY });
    const run = new AbortController();
    for (let i = 0; i < 20; i++) await supervisor.call('echo', { message: `call ${i}` }, { signal: run.signal });
    watch.snapshot();
    // A run's signal reaches every call of the run: a listener left per call would pile up.
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    const pending = supervisor.call('trigger-long-running-operation', { duration: 60, steps: 600 }, {
      signal: run.signal,
      onProgress: () => run.abort(new Error('the run was interrupted')),
    });
    await expect(pending).rejects.toMatchObject({ code: 'ORCH_CANCELLED', message: expect.stringContaining('interrupted') });
  });

  it('ends every call under way on a shared signal when it aborts, and calls on other signals go on', async () => {
    const sup = new Supervisor([everything('every')], { stateDir: state.dir, policy: FAST_POLICY });
    supervisor = sup;
    const run = new AbortController();
    const other = new AbortController();
    const long = (signal: AbortSignal) => sup.call('trigger-long-running-operation', { duration: 30, steps: 300 }, { signal });
    const shared = [long(run.signal), long(run.signal), long(run.signal)];
    const apart = sup.call('echo', { message: 'apart' }, { signal: other.signal });
    run.abort(new Error('the run was interrupted'));
    for (const call of shared) await expect(call).rejects.toMatchObject({ code: 'ORCH_CANCELLED' });
    expect((await apart).content).toEqual([{ type: 'text', text: 'Echo: apart' }]);
    // A signal that aborted before its call starts cancels it at once.
    await expect(supervisor.call('echo', { message: 'late' }, { signal: run.signal })).rejects.toMatchObject({ code: 'ORCH_CANCELLED' });
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(1);
  });
});

afterAll(() => state.cleanup());
