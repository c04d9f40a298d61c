import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentType } from '../../../src/agents/agent-types.js';
import { ensurePool, leaseInstances, scalePool } from '../../../src/agents/pool.js';
import { AgentStore, poolSizes } from '../../../src/agents/store.js';
import { identify } from '../../../src/process/identity.js';

const bump = fileURLToPath(new URL('../../fixtures/agents/bump.ts', import.meta.url));
const worker: AgentType = { name: 'worker', tools: 'all', count: 3, isolation: 'inline' };
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the agent store', () => {
  it('tells the persisted size of each pool, without waiting for the lock', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-store-'));
    expect(await poolSizes(dir)).toEqual(new Map());
    const store = new AgentStore(dir);
    const adder: AgentType = { name: 'adder', tools: new Set(['add']), count: 2, isolation: 'inline' };
    await store.update((r) => {
      scalePool(r, worker, 7);
      ensurePool(r, adder);
    });
    // A live process holds the lock (this one): a read must not need it.
    writeFileSync(`${store.file}.lock`, JSON.stringify({ pid: process.pid, startTime: identify(process.pid)?.startTime ?? '' }));
    expect(await poolSizes(dir)).toEqual(new Map([['worker', 7], ['adder', 2]]));
  });

  it('loses no update when several processes change it at once', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-store-'));
    const procs = Array.from({ length: 4 }, () => execa(process.execPath, ['--import', 'tsx', bump, dir, '15']));
    await Promise.all(procs);
    const registry = await new AgentStore(dir).read();
    expect(registry.pools.worker?.desired).toBe(60);
  });

  it('frees instances leased by a process that has died', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'orch-store-'));
    const store = new AgentStore(dir);
    const dead = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await store.update((r) => {
      ensurePool(r, worker);
      leaseInstances(r, worker, 2, { pid: Number(dead.stdout), startTime: '1' }, 'lost');
      r.queue.push({ id: 'q', agentType: 'worker', owner: { pid: Number(dead.stdout), startTime: '1' }, queuedAt: 'then' });
    });
    const registry = await store.read();
    expect(registry.pools.worker?.instances.map((a) => a.status)).toEqual(['available', 'available', 'available']);
    expect(registry.queue).toEqual([]);
  });
});
