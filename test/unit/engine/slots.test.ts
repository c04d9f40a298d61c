import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Slots } from '../../../src/engine/slots.js';
import type { TaskSpec } from '../../../src/engine/task.js';
import type { Worker } from '../../../src/engine/worker.js';

const task = (i: number): TaskSpec => ({ key: `r:s${i}:1`, agentType: 'worker', action: 'work', input: {}, ids: { run: 'r', step: `s${i}`, attempt: 1 } });

function slotsWith(worker: Worker['run'], outer?: AbortSignal): Slots {
  return new Slots(new Map([['worker', ['worker-1']]]), () => ({ run: worker, stop: async () => {} }), outer);
}

describe('the slots of a session', () => {
  it('takes its listeners off a long-lived signal once each task is over', async () => {
    const run = new AbortController();
    const step = new AbortController();
    const slots = slotsWith(async () => ({ output: 1 }), run.signal);
    const before = getEventListeners(run.signal, 'abort').length;
    for (let i = 0; i < 50; i++) {
      const outcome = await slots.submit(task(i), { signal: i % 2 === 0 ? run.signal : step.signal });
      expect(outcome.ok).toBe(true);
    }
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(before);
    expect(getEventListeners(step.signal, 'abort')).toHaveLength(0);
  });

  it('aborts a running task when its own signal fires, and when the session closes', async () => {
    const own = new AbortController();
    const seen: string[] = [];
    const slots = slotsWith(
      (_task, _instance, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            seen.push('aborted');
            reject(new Error('stopped'));
          });
        }),
    );
    const first = slots.submit(task(1), { signal: own.signal, onStart: () => void setImmediate(() => own.abort('timeout')) });
    expect((await first).ok).toBe(false);
    const second = slots.submit(task(2), { signal: own.signal });
    expect((await second).ok).toBe(false); // already aborted: never started
    const third = slots.submit(task(3), { onStart: () => void setImmediate(() => void slots.close()) });
    const outcome = await third;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe('ORCH_CANCELLED');
    expect(seen).toEqual(['aborted', 'aborted']);
  });

  it('withdraws a queued task whose signal fires while it waits, and lets the next one run', async () => {
    let release: () => void = () => {};
    const ran: string[] = [];
    const slots = slotsWith(async (t) => {
      ran.push(t.key);
      if (t.key === 'r:s1:1') await new Promise<void>((resolve) => (release = resolve));
      return { output: null };
    });
    const waiting = new AbortController();
    const first = slots.submit(task(1));
    const second = slots.submit(task(2), { signal: waiting.signal });
    const third = slots.submit(task(3));
    waiting.abort();
    const withdrawn = await second;
    expect(withdrawn.ok).toBe(false);
    if (!withdrawn.ok) expect(withdrawn.error.code).toBe('ORCH_CANCELLED');
    release();
    expect((await first).ok).toBe(true);
    expect((await third).ok).toBe(true);
    expect(ran).toEqual(['r:s1:1', 'r:s3:1']);
  });
});
