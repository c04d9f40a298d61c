import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Slots } from '../../../src/engine/slots.js';
import type { Worker } from '../../../src/engine/worker.js';
import { AuditLog } from '../../../src/mcp/audit.js';
import { Redactor } from '../../../src/secrets/redact.js';

// Under `orch serve` load, many runs and tasks share one signal or one process: a listener
// per task or per run left on it would pass Node's limit (MaxListenersExceededWarning).
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

describe('listeners under load', () => {
  it('tasks queued on one signal leave no listener on it once they are done', async () => {
    const worker: Worker = { run: async () => ({ output: 'ok' }), stop: async () => {} };
    const slots = new Slots(new Map([['w', ['w-1']]]), () => worker);
    const shared = new AbortController();
    const tasks = Array.from({ length: 50 }, (_, i) =>
      slots.submit({ key: `t${i}`, agentType: 'w', action: 'a', input: {}, ids: {} }, { signal: shared.signal }),
    );
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    const outcomes = await Promise.all(tasks);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    await slots.close();
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it("tasks on the session's own signal add no listener to it: the one that closes the session covers them", async () => {
    const worker: Worker = { run: async () => ({ output: 'ok' }), stop: async () => {} };
    const run = new AbortController();
    const slots = new Slots(new Map([['w', ['w-1']]]), () => worker, run.signal);
    const tasks = Array.from({ length: 50 }, (_, i) =>
      slots.submit({ key: `t${i}`, agentType: 'w', action: 'a', input: {}, ids: {} }, { signal: run.signal }),
    );
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    expect((await Promise.all(tasks)).every((o) => o.ok)).toBe(true);
    // Aborting it still cancels what is queued (the first of these has started: its worker pays no heed).
    const queued = Array.from({ length: 3 }, (_, i) => slots.submit({ key: `q${i}`, agentType: 'w', action: 'a', input: {}, ids: {} }, { signal: run.signal }));
    run.abort();
    expect((await Promise.all(queued)).map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'ORCH_CANCELLED', 'ORCH_CANCELLED']);
  });

  it('audit logs of many concurrent runs share one exit hook', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orch-audit-'));
    try {
      const before = process.listenerCount('exit');
      const logs = Array.from({ length: 30 }, () => new AuditLog(path.join(dir, 'audit.jsonl'), new Redactor([])));
      for (const log of logs) log.record({ time: 'now', server: 's', tool: 't', arguments: {}, durationMs: 1, outcome: 'ok' });
      expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
      for (const log of logs) log.flush();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
