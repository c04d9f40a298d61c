import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { identify } from '../../../src/process/identity.js';
import { RunLock } from '../../../src/state/run-lock.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const lockFile = (): string => {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-lock-'));
  return path.join(dir, 'lock');
};
/** A process identity that cannot be alive: a start time no process has. */
const dead = JSON.stringify({ pid: process.pid, startTime: 'not-a-start-time' });

describe('run lock', () => {
  it('is exclusive while its holder lives, and free again once released', () => {
    const file = lockFile();
    const lock = RunLock.acquire(file, 'r1');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(identify(process.pid));
    expect(() => RunLock.acquire(file, 'r1')).toThrow(expect.objectContaining({ code: 'ORCH_RUN_LOCKED' }));
    lock.release();
    expect(existsSync(file)).toBe(false);
    RunLock.acquire(file, 'r1').release();
  });

  it('takes over a lock whose holder died, even past a takeover guard its taker left behind', () => {
    const file = lockFile();
    writeFileSync(file, dead);
    writeFileSync(`${file}.takeover`, dead);
    const lock = RunLock.acquire(file, 'r1');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(identify(process.pid));
    expect(existsSync(`${file}.takeover`)).toBe(false);
    lock.release();
  });
});
