import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../../src/state/journal.js';
import type { RunEvent } from '../../../src/state/events.js';
import { foldRun } from '../../../src/state/run-state.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const file = (): string => {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-journal-'));
  return path.join(dir, 'journal.jsonl');
};

describe('journal', () => {
  it('writes concurrent appends in order, each durable when its promise resolves', async () => {
    const f = file();
    const journal = await Journal.open(f);
    await journal.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: {}, dir, pid: 1 });
    const steps = Array.from({ length: 50 }, (_, i) => `s${i}`);
    await Promise.all(steps.map((step) => journal.append({ type: 'step_skipped', step, reason: 'x', blocked: false })));
    await journal.close();
    const events = await readJournal(f);
    expect(events.map((e) => ('step' in e ? e.step : e.type))).toEqual(['run_started', ...steps]);
  });

  it('has an event in the file as soon as it is appended, and syncs the appends of one tick together', async () => {
    const f = file();
    const journal = await Journal.open(f);
    const started = journal.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: {}, dir, pid: 1 });
    // Readers (`orch logs`, a resume after kill -9) see it before any sync is done.
    expect(readFileSync(f, 'utf8')).toContain('"run_started"');
    const skipped = ['a', 'b', 'c'].map((step) => journal.append({ type: 'step_skipped', step, reason: 'x', blocked: false }));
    await Promise.all([started, ...skipped]);
    expect(journal.syncs).toBe(1);
    await journal.close();
    expect((await readJournal(f)).map((e) => e.type)).toEqual(['run_started', 'step_skipped', 'step_skipped', 'step_skipped']);
  });

  it('drops a torn last line, and only that', async () => {
    const f = file();
    const journal = await Journal.open(f);
    await journal.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: {}, dir, pid: 1 });
    await journal.close();
    appendFileSync(f, '{"type":"step_sta');
    expect((await readJournal(f)).map((e) => e.type)).toEqual(['run_started']);
    appendFileSync(f, '\n{"type":"run_finished","at":"2026-01-01T00:00:00.000Z","status":"succeeded"}\n');
    await expect(readJournal(f)).rejects.toMatchObject({ code: 'ORCH_CORRUPT_RUN', message: expect.stringContaining('journal.jsonl:2:') });
  });

  it('cuts off a torn last line before appending, so new events are never glued onto it', async () => {
    const f = file();
    const first = await Journal.open(f);
    await first.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: {}, dir, pid: 1 });
    await first.close();
    appendFileSync(f, '{"type":"step_succeeded","step":"thr');
    const second = await Journal.open(f);
    await second.append({ type: 'run_resumed', pid: 2 });
    await second.close();
    expect((await readJournal(f)).map((e) => e.type)).toEqual(['run_started', 'run_resumed']);
    expect(readFileSync(f, 'utf8')).not.toContain('"thr');
  });

  it('cuts off a torn last line longer than one read, too', async () => {
    const f = file();
    const first = await Journal.open(f);
    await first.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: {}, dir, pid: 1 });
    await first.close();
    appendFileSync(f, JSON.stringify({ type: 'step_succeeded', step: 'x', output: 'A'.repeat(200_000) }).slice(0, 150_000));
    const second = await Journal.open(f);
    await second.append({ type: 'run_resumed', pid: 2 });
    await second.close();
    expect((await readJournal(f)).map((e) => e.type)).toEqual(['run_started', 'run_resumed']);
  });

  it('writes the transform\'s copy of every event (redaction), and gives the caller the event as it was', async () => {
    const f = file();
    const journal = await Journal.open(f, (e) => JSON.parse(JSON.stringify(e).replaceAll('hunter2', '[REDACTED]')) as RunEvent);
    const { event, written } = await journal.append({ type: 'run_started', run_id: 'r', workflow: 'w', inputs: { password: 'hunter2' }, dir, pid: 1 });
    await journal.close();
    expect(readFileSync(f, 'utf8')).not.toContain('hunter2');
    // The run acts on the real value; what is shown is what was written.
    expect(event).toMatchObject({ inputs: { password: 'hunter2' } });
    expect(written).toMatchObject({ inputs: { password: '[REDACTED]' } });
    expect(journal.appended).toEqual([written]);
  });
});

/** A journal as a crashed run left it: review approved after a pause, staging done, smoke mid-retry. */
const recorded: RunEvent[] = [
  { type: 'run_started', at: '2026-11-22T10:00:00.000Z', run_id: 'r1', workflow: 'deploy', inputs: { service: 'api' }, dir: '/p', pid: 10 },
  { type: 'step_started', at: '2026-11-22T10:00:00.010Z', step: 'review', attempt: 1 },
  { type: 'step_succeeded', at: '2026-11-22T10:00:00.050Z', step: 'review', output: { approved: true }, duration_ms: 40 },
  { type: 'gate_waiting', at: '2026-11-22T10:00:00.051Z', step: 'review', gate: 'approval_required', when: 'after' },
  { type: 'run_paused', at: '2026-11-22T10:00:00.052Z', waiting: ['review'] },
  { type: 'gate_decided', at: '2026-11-22T10:05:00.000Z', step: 'review', decision: 'approved', by: 'ada', method: 'command', when: 'after' },
  { type: 'run_resumed', at: '2026-11-22T10:06:00.000Z', pid: 11 },
  { type: 'step_started', at: '2026-11-22T10:06:00.010Z', step: 'staging', attempt: 1 },
  { type: 'step_succeeded', at: '2026-11-22T10:06:01.000Z', step: 'staging', output: 'ok', duration_ms: 990 },
  { type: 'step_started', at: '2026-11-22T10:06:01.010Z', step: 'smoke', attempt: 1 },
  { type: 'step_failed', at: '2026-11-22T10:06:02.000Z', step: 'smoke', error: 'flaky', attempt: 1, duration_ms: 990, final: false },
  { type: 'step_started', at: '2026-11-22T10:06:03.000Z', step: 'smoke', attempt: 2 },
];

describe('run state as a fold over the journal', () => {
  it('rebuilds a crashed run: finished steps stay finished, the running one is known', () => {
    const state = foldRun(recorded);
    expect(state).toMatchObject({ runId: 'r1', workflow: 'deploy', status: 'running', pid: 11, inputs: { service: 'api' } });
    expect(state?.steps.get('review')).toMatchObject({ status: 'succeeded', completed: true, output: { approved: true } });
    expect(state?.steps.get('review')?.gates).toMatchObject([{ decision: 'approved', by: 'ada', method: 'command' }]);
    expect(state?.steps.get('staging')).toMatchObject({ status: 'succeeded', completed: true, durationMs: 990 });
    expect(state?.steps.get('smoke')).toMatchObject({ status: 'running', attempts: 2, completed: false });
  });

  it('is pure: folding twice, or a prefix then the rest, gives the same state', () => {
    expect(foldRun(recorded)).toEqual(foldRun([...recorded]));
    const paused = foldRun(recorded.slice(0, 5));
    expect(paused?.status).toBe('paused');
    expect(paused?.steps.get('review')).toMatchObject({ status: 'waiting', waitingGate: 'after' });
  });

  it('a later decision overrides an earlier rejection', () => {
    const rejected = foldRun([
      ...recorded.slice(0, 5),
      { type: 'gate_decided', at: '2026-11-22T10:01:00.000Z', step: 'review', decision: 'rejected', by: 'bob', method: 'command', when: 'after', reason: 'typo' },
    ]);
    expect(rejected?.steps.get('review')).toMatchObject({ status: 'rejected', error: 'rejected by bob: typo' });
    const approved = foldRun([
      ...recorded.slice(0, 5),
      { type: 'gate_decided', at: '2026-11-22T10:01:00.000Z', step: 'review', decision: 'rejected', by: 'bob', method: 'command', when: 'after' },
      { type: 'gate_decided', at: '2026-11-22T10:02:00.000Z', step: 'review', decision: 'approved', by: 'ada', method: 'command', when: 'after' },
    ]);
    expect(approved?.steps.get('review')?.status).toBe('succeeded');
  });

  it('needs a run_started first', () => {
    expect(foldRun(recorded.slice(1))).toBeUndefined();
  });
});
