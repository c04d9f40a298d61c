import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runWorkflow, step, together, trail, untilAborted } from '../../helpers/engine-harness.js';

const fail = (message: string) => () => {
  throw new Error(message);
};

describe('executeRun: scheduling', () => {
  it('runs a chain in order, each step after the one it needs has succeeded', async () => {
    const run = await runWorkflow([step('a'), step('b', { needs: ['a'] }), step('c', { needs: ['b'] })]);
    expect(run.outcome).toBe('succeeded');
    expect(trail(run.events)).toEqual([
      'run_started',
      'step_started a',
      'step_succeeded a',
      'step_started b',
      'step_succeeded b',
      'step_started c',
      'step_succeeded c',
      'run_finished succeeded',
    ]);
    expect(run.calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['a#1', 'b#1', 'c#1']);
    expect(run.state.status).toBe('succeeded');
  });

  it('starts steps whose needs are met together and fans in once all of them are done', async () => {
    const meet = together(['b', 'c']);
    const run = await runWorkflow(
      [
        step('a'),
        step('b', { needs: ['a'] }),
        step('c', { needs: ['a'] }),
        step('d', { needs: ['b', 'c'], with: { b: '${{ steps.b.output }}', c: '${{ steps.c.output }}' } }),
      ],
      {
        runner: {
          b: async () => (await meet('b'), 'from b'),
          c: async () => (await meet('c'), 'from c'),
        },
      },
    );
    expect(run.outcome).toBe('succeeded');
    const t = trail(run.events);
    const at = (line: string): number => t.indexOf(line);
    expect(at('step_started b')).toBeLessThan(at('step_succeeded c'));
    expect(at('step_started c')).toBeLessThan(at('step_succeeded b'));
    expect(at('step_started d')).toBeGreaterThan(Math.max(at('step_succeeded b'), at('step_succeeded c')));
    expect(run.calls.find((c) => c.step === 'd')?.args).toEqual({ b: 'from b', c: 'from c' });
  });

  it('runs ready steps one at a time when their agent has a pool of one', async () => {
    const run = await runWorkflow([step('a'), step('b')], { pool: 1 });
    expect(run.outcome).toBe('succeeded');
    expect(trail(run.events).slice(1, 5)).toEqual(['step_started a', 'step_succeeded a', 'step_started b', 'step_succeeded b']);
  });

  it("has a step's success durable in the journal before any step that needs it starts", async () => {
    const run = await runWorkflow([step('a'), step('b', { needs: ['a'] })], {
      runner: { b: (_args, ctx) => ctx.durable().includes('step_succeeded a') },
    });
    expect(run.outcome).toBe('succeeded');
    expect(run.state.steps.get('b')?.output).toBe(true);
  });
});

describe('executeRun: conditions and failures', () => {
  it('skips a step whose `if:` is false, and still runs the steps that need it', async () => {
    const run = await runWorkflow([step('a', { if: '${{ inputs.deploy }}' }), step('b', { needs: ['a'] })], { inputs: { deploy: false } });
    expect(run.outcome).toBe('succeeded');
    expect(run.calls.map((c) => c.step)).toEqual(['b']);
    expect(run.events.find((e) => e.type === 'step_skipped')).toMatchObject({
      step: 'a',
      blocked: false,
      reason: 'condition `${{ inputs.deploy }}` is false',
    });
    expect(run.state.steps.get('a')).toMatchObject({ status: 'skipped', completed: true });
  });

  it('runs a step whose `if:` is true', async () => {
    const run = await runWorkflow([step('a', { if: 'inputs.deploy' })], { inputs: { deploy: true } });
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
  });

  it('blocks the dependents of a failed step, starts nothing more, and fails the run', async () => {
    // A pool of one keeps `other` queued behind `a`, so whether it starts is the engine's choice.
    const run = await runWorkflow([step('a'), step('other'), step('b', { needs: ['a'] }), step('c', { needs: ['b'] })], {
      pool: 1,
      runner: { a: fail('boom') },
    });
    expect(run.outcome).toBe('failed');
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
    expect(run.events.find((e) => e.type === 'step_failed')).toMatchObject({ step: 'a', error: 'boom', attempt: 1, final: true });
    const skipped = run.events.filter((e) => e.type === 'step_skipped');
    expect(skipped).toEqual([
      expect.objectContaining({ step: 'b', blocked: true, reason: 'needs a, which did not succeed' }),
      expect.objectContaining({ step: 'c', blocked: true, reason: 'needs b, which did not succeed' }),
    ]);
    expect(trail(run.events).at(-1)).toBe('run_finished failed');
    expect(run.state.steps.get('other')).toBeUndefined();
  });

  it('tolerates a failed step with `on_failure: continue`: others run, its dependents are blocked, the run succeeds', async () => {
    const run = await runWorkflow([step('a', { onFailure: 'continue' }), step('other'), step('b', { needs: ['a'] })], {
      pool: 1,
      runner: { a: fail('boom') },
    });
    expect(run.outcome).toBe('succeeded');
    expect(run.calls.map((c) => c.step)).toEqual(['a', 'other']);
    expect(run.state.steps.get('a')).toMatchObject({ status: 'failed', error: 'boom' });
    expect(run.state.steps.get('b')).toMatchObject({ status: 'skipped', completed: false });
    expect(trail(run.events).at(-1)).toBe('run_finished succeeded');
  });

  it('attempts a step with `retry: {max: 2}` three times, then fails it', async () => {
    const run = await runWorkflow([step('a', { retry: { max: 2, backoffMs: 1 } })], {
      runner: { a: (_args, ctx) => fail(`attempt ${ctx.attempt} failed`)() },
    });
    expect(run.outcome).toBe('failed');
    expect(run.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(run.events.filter((e) => e.type === 'step_failed')).toEqual([
      expect.objectContaining({ attempt: 1, final: false, error: 'attempt 1 failed' }),
      expect.objectContaining({ attempt: 2, final: false, error: 'attempt 2 failed' }),
      expect.objectContaining({ attempt: 3, final: true, error: 'attempt 3 failed' }),
    ]);
    expect(run.state.steps.get('a')).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('succeeds when a retried step succeeds on its second attempt', async () => {
    const run = await runWorkflow([step('a', { retry: { max: 2, backoffMs: 1 } }), step('b', { needs: ['a'] })], {
      runner: { a: (_args, ctx) => (ctx.attempt === 1 ? fail('flaky')() : 'ok') },
    });
    expect(run.outcome).toBe('succeeded');
    expect(run.calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['a#1', 'a#2', 'b#1']);
    expect(run.state.steps.get('a')).toMatchObject({ status: 'succeeded', output: 'ok', attempts: 2 });
  });

  it('gives a step with `on_failure: retry` one more attempt', async () => {
    const run = await runWorkflow([step('a', { onFailure: 'retry', retry: { max: 1, backoffMs: 1 } })], { runner: { a: fail('no') } });
    expect(run.outcome).toBe('failed');
    expect(run.calls.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it("aborts a step's signal at its timeout and fails it as timed out", async () => {
    let aborted = false;
    const run = await runWorkflow([step('a', { timeoutMs: 20 }), step('b', { needs: ['a'] })], {
      runner: {
        a: async (_args, ctx) => {
          await untilAborted(ctx.signal);
          aborted = ctx.signal.aborted;
          throw new Error('the tool saw its cancellation');
        },
      },
    });
    expect(aborted).toBe(true);
    expect(run.outcome).toBe('failed');
    expect(run.state.steps.get('a')).toMatchObject({ status: 'failed', error: 'timed out after 20 ms' });
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
  });

  it('fails the step and the run when an expression in its arguments is invalid', async () => {
    const run = await runWorkflow([step('a', { with: { x: '${{ inputs. }}' } })]);
    expect(run.outcome).toBe('failed');
    expect(run.calls).toEqual([]);
    expect(run.state.steps.get('a')).toMatchObject({ status: 'failed', error: expect.stringContaining('invalid expression') });
  });
});

describe('executeRun: gates', () => {
  const afterGate = { type: 'approval_required', when: 'after' } as const;
  const beforeGate = { type: 'approval_required', when: 'before' } as const;

  it.each([
    ['--approve', { approve: ['a'] }],
    ['--approve-all', { approveAll: true }],
  ])('passes an after gate approved by %s, and journals the flag', async (_name, flags) => {
    const run = await runWorkflow([step('a', { gate: afterGate }), step('b', { needs: ['a'] })], flags);
    expect(run.outcome).toBe('succeeded');
    const decided = run.events.find((e) => e.type === 'gate_decided');
    expect(decided).toMatchObject({ step: 'a', when: 'after', decision: 'approved', method: 'flag', by: 'tester' });
    expect(run.calls.map((c) => c.step)).toEqual(['a', 'b']);
  });

  it("asks at an after gate with the step's output and goes on when approved", async () => {
    const run = await runWorkflow([step('a', { gate: afterGate }), step('b', { needs: ['a'] })], {
      runner: { a: () => ({ plan: 'p' }) },
      ask: () => true,
    });
    expect(run.outcome).toBe('succeeded');
    expect(run.asked).toEqual([{ step: 'a', when: 'after', output: { plan: 'p' }, alreadyRan: true }]);
    expect(trail(run.events)).toContain('gate_decided a after approved');
    expect(run.events.find((e) => e.type === 'gate_decided')).toMatchObject({ method: 'prompt' });
    expect(run.calls.map((c) => c.step)).toEqual(['a', 'b']);
  });

  it('fails the run and blocks dependents when an after gate is rejected at the prompt', async () => {
    const run = await runWorkflow([step('a', { gate: afterGate }), step('b', { needs: ['a'] })], { ask: () => false });
    expect(run.outcome).toBe('failed');
    expect(run.state.steps.get('a')).toMatchObject({ status: 'rejected', error: 'rejected by tester' });
    expect(run.state.steps.get('b')).toMatchObject({ status: 'skipped', completed: false });
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
  });

  it('pauses the run at a gate nobody can answer, without running what needs it', async () => {
    const run = await runWorkflow([step('a', { gate: afterGate }), step('b', { needs: ['a'] })]);
    expect(run.outcome).toBe('paused');
    expect(run.events.find((e) => e.type === 'gate_waiting')).toMatchObject({ step: 'a', gate: 'approval_required', when: 'after' });
    expect(trail(run.events).at(-1)).toBe('run_paused a');
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
    expect(run.state.status).toBe('paused');
    expect(run.state.steps.get('b')).toBeUndefined();
  });

  it('asks at a before gate before the step runs, and runs it once approved', async () => {
    const run = await runWorkflow([step('a', { gate: beforeGate })], { ask: () => true });
    expect(run.outcome).toBe('succeeded');
    expect(run.asked).toEqual([expect.objectContaining({ step: 'a', when: 'before', alreadyRan: false })]);
    expect(trail(run.events).slice(1, 3)).toEqual(['gate_decided a before approved', 'step_started a']);
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
  });

  it('never runs a step whose before gate is rejected', async () => {
    const run = await runWorkflow([step('a', { gate: beforeGate })], { ask: () => false });
    expect(run.outcome).toBe('failed');
    expect(run.calls).toEqual([]);
    expect(run.state.steps.get('a')?.status).toBe('rejected');
  });

  it('pauses before a before-gated step when nobody can answer, without running it', async () => {
    const run = await runWorkflow([step('a', { gate: beforeGate })]);
    expect(run.outcome).toBe('paused');
    expect(run.calls).toEqual([]);
    expect(run.state.steps.get('a')).toMatchObject({ status: 'waiting', waitingGate: 'before' });
  });

  it.each([
    ['{passed: false}', 'failed', { passed: false }],
    ['a JSON text with success: false', 'failed', '{"success": false}'],
    ['{passed: true}', 'succeeded', { passed: true }],
    ['{passed: "false"}', 'failed', { passed: 'false' }],
    ['a JSON text with passed: "false"', 'failed', '{"passed": "false"}'],
    ['{passed: "no"}', 'failed', { passed: 'no' }],
    ['{success: 0}', 'failed', { success: 0 }],
    ['{passed: null}', 'failed', { passed: null }],
    ['{passed: "maybe"}', 'failed', { passed: 'maybe' }],
    ['{passed: "true"}', 'succeeded', { passed: 'true' }],
    ['{passed: 12, failed: 0} (a count)', 'succeeded', { passed: 12, failed: 0 }],
    ['a result that says nothing of passing', 'succeeded', { checks: 4 }],
  ])('tests_must_pass: a result of %s makes the run %s', async (_name, outcome, output) => {
    const run = await runWorkflow([step('t', { gate: { type: 'tests_must_pass', when: 'after' } })], { runner: { t: () => output } });
    expect(run.outcome).toBe(outcome);
    if (outcome === 'failed') expect(run.state.steps.get('t')?.error).toMatch(/^tests did not pass/);
  });
});

describe('executeRun: resume', () => {
  it('does not re-run finished steps and passes a waiting gate approved on resume', async () => {
    const steps = [step('a'), step('b', { needs: ['a'], gate: { type: 'approval_required', when: 'after' } }), step('c', { needs: ['b'] })];
    const first = await runWorkflow(steps);
    expect(first.outcome).toBe('paused');
    const second = await runWorkflow(steps, { resume: first, approve: ['b'] });
    expect(second.outcome).toBe('succeeded');
    expect(second.calls.map((c) => c.step)).toEqual(['c']);
    expect(trail(second.events)).toEqual([
      'run_resumed',
      'gate_decided b after approved',
      'step_started c',
      'step_succeeded c',
      'run_finished succeeded',
    ]);
  });

  it('re-runs a failed step and the steps it blocked, without asking again at an approved gate', async () => {
    const gate = { type: 'approval_required', when: 'after' } as const;
    const steps = [step('a', { gate }), step('b', { needs: ['a'] }), step('c', { needs: ['b'] })];
    const first = await runWorkflow(steps, { ask: () => true, runner: { b: fail('broken') } });
    expect(first.outcome).toBe('failed');
    expect(first.asked.map((a) => a.step)).toEqual(['a']);
    const second = await runWorkflow(steps, { resume: first, ask: () => false });
    expect(second.outcome).toBe('succeeded');
    expect(second.asked).toEqual([]);
    expect(second.calls.map((c) => c.step)).toEqual(['b', 'c']);
  });

  it('does not ask again at a before gate approved in an earlier session', async () => {
    const steps = [step('a', { gate: { type: 'approval_required', when: 'before' } })];
    const first = await runWorkflow(steps, { ask: () => true, runner: { a: fail('broken') } });
    expect(first.outcome).toBe('failed');
    const second = await runWorkflow(steps, { resume: first, ask: () => false });
    expect(second.outcome).toBe('succeeded');
    expect(second.asked).toEqual([]);
    expect(second.calls.map((c) => c.step)).toEqual(['a']);
  });

  it('does not re-run a step skipped by its condition', async () => {
    const steps = [step('a', { if: 'false' }), step('b', { needs: ['a'] })];
    const first = await runWorkflow(steps, { runner: { b: fail('broken') } });
    const second = await runWorkflow(steps, { resume: first });
    expect(second.outcome).toBe('succeeded');
    expect(second.calls.map((c) => c.step)).toEqual(['b']);
  });
});

describe('executeRun: cancellation and expressions', () => {
  it('cancels the running step when the run is interrupted, and starts nothing after it', async () => {
    const controller = new AbortController();
    let stepSawAbort = false;
    const run = await runWorkflow([step('a'), step('b', { needs: ['a'] })], {
      signal: controller.signal,
      runner: {
        a: async (_args, ctx) => {
          controller.abort('SIGINT');
          await untilAborted(ctx.signal);
          stepSawAbort = true;
          throw new Error('cancelled');
        },
      },
    });
    expect(stepSawAbort).toBe(true);
    expect(run.outcome).toBe('interrupted');
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
    expect(run.events.at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGINT' });
    expect(run.events.some((e) => e.type === 'step_skipped' || e.type === 'run_finished')).toBe(false);
    expect(run.state.status).toBe('interrupted');
  });

  it('makes no further attempt when interrupted while waiting to retry', async () => {
    const controller = new AbortController();
    const run = await runWorkflow([step('a', { retry: { max: 3, backoffMs: 10_000 } })], {
      signal: controller.signal,
      runner: {
        a: () => {
          setImmediate(() => controller.abort('SIGTERM'));
          throw new Error('first try');
        },
      },
    });
    expect(run.outcome).toBe('interrupted');
    expect(run.calls.map((c) => c.attempt)).toEqual([1]);
    expect(run.events.at(-1)).toMatchObject({ type: 'run_interrupted', signal: 'SIGTERM' });
  });

  it("renders a step's arguments from the run's inputs and earlier steps' outputs", async () => {
    const run = await runWorkflow(
      [
        step('a', { with: { service: '${{ inputs.service }}' } }),
        step('b', {
          needs: ['a'],
          with: { y: '${{ steps.a.output.y }}', label: '${{ inputs.service }}-${{ steps.a.output.y }}', list: ['${{ inputs.n }}'] },
        }),
      ],
      { inputs: { service: 'payments', n: 3 }, runner: { a: () => ({ y: 7 }) } },
    );
    expect(run.outcome).toBe('succeeded');
    expect(run.calls).toEqual([
      { step: 'a', args: { service: 'payments' }, attempt: 1 },
      { step: 'b', args: { y: 7, label: 'payments-7', list: [3] }, attempt: 1 },
    ]);
  });

  it("decides `if:` from an earlier step's output", async () => {
    const steps = [step('a'), step('b', { needs: ['a'], if: '${{ steps.a.output.go == true }}' })];
    const run = await runWorkflow(steps, { runner: { a: () => ({ go: false }) } });
    expect(run.calls.map((c) => c.step)).toEqual(['a']);
    expect(run.state.steps.get('b')?.status).toBe('skipped');
  });
});

describe('executeRun: what each step costs', () => {
  it('adds no listener to the run signal for steps without a timeout; one, while a step with a timeout runs', async () => {
    const controller = new AbortController();
    // The session's slots keep one listener of their own on the run's signal, to close when it aborts.
    const listeners = () => getEventListeners(controller.signal, 'abort').length;
    const seen: Record<string, number> = {};
    const run = await runWorkflow([step('a'), step('b', { needs: ['a'], timeoutMs: 60_000 }), step('c', { needs: ['b'] })], {
      signal: controller.signal,
      runner: Object.fromEntries(['a', 'b', 'c'].map((id) => [id, () => void (seen[id] = listeners())])),
    });
    expect(run.outcome).toBe('succeeded');
    expect(seen).toEqual({ a: 1, b: 2, c: 2 });
    expect(listeners()).toBe(1);
  });

  it('hands a step the outputs it needs as a record of their ids alone', async () => {
    let needs: Record<string, unknown> | undefined;
    const run = await runWorkflow([step('a'), step('b'), step('c', { needs: ['a', 'b'] })], {
      runner: { c: (_args, ctx) => void (needs = ctx.needs) },
    });
    expect(run.outcome).toBe('succeeded');
    expect(needs).toEqual({ a: { step: 'a' }, b: { step: 'b' } });
    // No prototype: no key is inherited, and a key per step id costs the VM no new object shape.
    expect(Object.getPrototypeOf(needs)).toBeNull();
  });
});
