import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { deadHereHolds, holderOf } from '../../../src/engine/redis/shared-runs.js';

const space = readlinkSync('/proc/self/ns/pid').replace(/[^0-9]/g, '');
// A pid that was just in use and is not any more.
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

describe("a run lock's holder (host:pid:since:pid namespace)", () => {
  it('names this process, on this host, in this pid namespace', () => {
    expect(holderOf()).toMatch(new RegExp(`^${os.hostname()}:${process.pid}:\\d+:${space}$`));
  });

  it('is taken as dead only when it is a process of this host and namespace that is gone', () => {
    expect(deadHereHolds(`${os.hostname()}:${deadPid}:1:${space}`)).toBe(true);
    expect(deadHereHolds(`${os.hostname()}:${process.pid}:1:${space}`)).toBe(false);
    // Another machine, another pid namespace (a container with the host's name), or a holder that did not say: never.
    expect(deadHereHolds(`elsewhere:${deadPid}:1:${space}`)).toBe(false);
    expect(deadHereHolds(`${os.hostname()}:${deadPid}:1:1`)).toBe(false);
    expect(deadHereHolds(`${os.hostname()}:${deadPid}:1`)).toBe(false);
  });
});
