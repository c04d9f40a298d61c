import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/util/atomic-file.js';
import { Journal } from '../../../src/orchestration/task-store.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('makes the folder, replaces the file whole, and leaves no temp file', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-atomic-'));
    const file = path.join(dir, 'a', 'b', 'report.json');
    await writeFileAtomic(file, 'first\n');
    await writeFileAtomic(file, 'second\n');
    expect(readFileSync(file, 'utf8')).toBe('second\n');
    expect(readdirSync(path.dirname(file))).toEqual(['report.json']);
  });

  it('fails without leaving its temp file when the file cannot be replaced', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-atomic-'));
    // A folder where the file should be: the rename is refused.
    const file = path.join(dir, 'report.json');
    mkdirSync(path.join(file, 'inside'), { recursive: true });
    await expect(writeFileAtomic(file, 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['report.json']);
  });
});

describe('a task journal', () => {
  const event = (n: number) => ({ type: 'task_finished', task_id: `t${n}`, status: 'completed', succeeded: n, failed: 0 }) as const;

  it('writes each line at once, in order, redacted, and again after a flush', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-journal-'));
    const file = path.join(dir, 'tasks', 't', 'journal.jsonl');
    const mirrored: string[] = [];
    const journal = new Journal(file, (e) => ({ ...e, task_id: 'hidden' }), async (lines) => void mirrored.push(...lines));
    journal.append(event(1));
    journal.append(event(2));
    // Readers see the lines before any flush: handle_failure reads the journal it appends to.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    await journal.flush();
    journal.append(event(3));
    await journal.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.succeeded)).toEqual([1, 2, 3]);
    expect(lines.every((l) => l.task_id === 'hidden' && typeof l.at === 'string' && Object.keys(l)[0] === 'at')).toBe(true);
    expect(mirrored.map((l) => (JSON.parse(l) as { succeeded: number }).succeeded)).toEqual([1, 2, 3]);
  });

  it('fails its flush when the file cannot be written, and writes nothing after', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-journal-'));
    writeFileSync(path.join(dir, 'tasks'), 'a file where the folder should be');
    const journal = new Journal(path.join(dir, 'tasks', 't', 'journal.jsonl'), (e) => e);
    journal.append(event(1));
    await expect(journal.flush()).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
