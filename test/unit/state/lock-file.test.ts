import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { identify } from '../../../src/process/identity.js';
import { tryLock, unlock } from '../../../src/state/lock-file.js';

const counter = fileURLToPath(new URL('../../fixtures/lock-counter.mjs', import.meta.url));
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lock files', () => {
  it('are held by one process at a time; a live holder is named, and unlocking frees it', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-lock-'));
    const file = path.join(dir, 'x.lock');
    expect(tryLock(file)).toEqual({ acquired: true });
    expect(tryLock(file)).toEqual({ acquired: false, holder: identify(process.pid) });
    unlock(file);
    expect(tryLock(file)).toEqual({ acquired: true });
  });

  it('are taken over from a holder that died, and when unreadable for long, but not when unreadable and fresh', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-lock-'));
    const dead = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const file = path.join(dir, 'x.lock');
    writeFileSync(file, JSON.stringify({ pid: Number(dead.stdout), startTime: '1' }));
    expect(tryLock(file)).toEqual({ acquired: true });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(identify(process.pid));

    writeFileSync(file, ''); // a holder still writing its name
    expect(tryLock(file).acquired).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old); // ... or one that died doing so
    expect(tryLock(file)).toEqual({ acquired: true });
  });

  it('never have two holders, however often processes race for them', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-lock-'));
    writeFileSync(path.join(dir, 'count'), '0');
    await Promise.all(Array.from({ length: 4 }, () => execa(process.execPath, [counter, dir, '100'])));
    expect(Number(readFileSync(path.join(dir, 'count'), 'utf8'))).toBe(400);
  });
});
