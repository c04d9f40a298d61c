import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../../src/errors.js';
import { Journal, readJournal } from '../../../src/state/journal.js';
import { createRunDir, isRunId, loadRun, newRunId, runPaths } from '../../../src/state/runs.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'orch-runs-'));
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('run ids', () => {
  it('never share a folder: a taken id is skipped for the next', async () => {
    const ids = ['20260101-120000-aaaaaaaaaaaa', '20260101-120000-aaaaaaaaaaaa', '20260101-120000-bbbbbbbbbbbb'];
    const next = () => ids.shift() ?? 'none';
    expect(await createRunDir(stateDir, next)).toBe('20260101-120000-aaaaaaaaaaaa');
    expect(await createRunDir(stateDir, next)).toBe('20260101-120000-bbbbbbbbbbbb');
  });

  it('stay unique when thousands of runs start in the same second', async () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const made = await Promise.all(Array.from({ length: 3000 }, () => createRunDir(stateDir, () => newRunId(now))));
    expect(new Set(made).size).toBe(3000);
    expect(readdirSync(path.join(stateDir, 'runs'))).toHaveLength(3000);
  });

  it('are the only names that reach the file system', () => {
    expect(isRunId(newRunId())).toBe(true);
    expect(isRunId('20251130-101500-1a2b')).toBe(true); // the shorter ids of orch 0.1
    for (const bad of ['../../outside/evil', '20260101-120000-abcd/../x', '', '.', 'task-1', '20260101-120000-ABCD']) {
      expect(() => runPaths(stateDir, bad), bad).toThrow(/is not a run id/);
    }
  });
});

describe('a journal', () => {
  it('whose disk is full fails its append with ORCH_STATE_WRITE (exit 2), and every later append too', async () => {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    const journal = await Journal.open('/dev/full');
    const first = journal.append({ type: 'run_resumed', pid: 1 });
    await expect(first).rejects.toMatchObject({ code: 'ORCH_STATE_WRITE', exitCode: 2 });
    await expect(first).rejects.toThrow(/no space left on the device \(ENOSPC\)/);
    await expect(journal.append({ type: 'run_resumed', pid: 2 })).rejects.toBeInstanceOf(OrchError);
    await journal.close();
  });

  it('refuses a line that parses but is not an event of its type, rather than inventing a step `undefined`', async () => {
    const paths = runPaths(stateDir, '20260101-120000-abcd');
    mkdirSync(paths.dir, { recursive: true });
    const started = { type: 'run_started', at: '2026-01-01T12:00:00Z', run_id: '20260101-120000-abcd', workflow: 'wf', inputs: {}, dir: stateDir, pid: 1 };
    const bad = [
      { type: 'step_started', at: '2026-01-01T12:00:01Z', attempt: 1 },
      { type: 'step_succeeded', at: '2026-01-01T12:00:01Z', step: 'a', duration_ms: '5' },
      { type: 'gate_decided', at: '2026-01-01T12:00:01Z', step: 'a', decision: 'maybe', by: 'me', method: 'command', when: 'after' },
    ];
    for (const event of bad) {
      writeFileSync(paths.journal, `${JSON.stringify(started)}\n${JSON.stringify(event)}\n${JSON.stringify({ type: 'run_paused', at: 'x', waiting: [] })}\n`);
      await expect(readJournal(paths.journal), event.type).rejects.toMatchObject({ code: 'ORCH_CORRUPT_RUN' });
      await expect(loadRun(stateDir, '20260101-120000-abcd')).rejects.toThrow(/journal\.jsonl:2: .*not an event orch wrote/);
    }
  });

  it('passes over an event of a type a later orch may write', async () => {
    const paths = runPaths(stateDir, '20260101-120000-abcd');
    mkdirSync(paths.dir, { recursive: true });
    const started = { type: 'run_started', at: '2026-01-01T12:00:00Z', run_id: '20260101-120000-abcd', workflow: 'wf', inputs: {}, dir: stateDir, pid: 1 };
    writeFileSync(paths.journal, `${JSON.stringify(started)}\n${JSON.stringify({ type: 'step_annotated', at: 'x', note: 1 })}\n`);
    const state = await loadRun(stateDir, '20260101-120000-abcd');
    expect([...state.steps.keys()]).toEqual([]);
    expect(existsSync(paths.journal)).toBe(true);
  });
});
