import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connection } from '../../../src/engine/redis/connect.js';
import { freePort, hasRedis, startRedis, type RedisServer } from '../../helpers/redis.js';

const BUILT = new URL('../../../dist/engine/redis/connect.js', import.meta.url).href;

describe('probing the engine', () => {
  it('an unreachable Redis is ORCH_ENGINE_UNREACHABLE, and the probe leaves no timer that holds the command up from exiting', async () => {
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    // In a process of its own, where no other timer runs: what keeps it alive once the probe has failed.
    const script = `
      const { probe } = await import(${JSON.stringify(BUILT)});
      const code = await probe({ url: ${JSON.stringify(url)}, shown: 'redis', prefix: 'orch:probe:' }).then(() => 'reached', (err) => err.code);
      console.log(JSON.stringify({ code, timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout)).toEqual({ code: 'ORCH_ENGINE_UNREACHABLE', timers: 0 });
  });
});

describe.skipIf(!hasRedis)('engine connections', () => {
  let dir: string;
  let redis: RedisServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'orch-connect-'));
    redis = await startRedis(dir);
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the commands sent in one turn of the event loop leave in one write, in order, and each gets its own answer', async () => {
    const conn = connection({ url: redis.url, shown: 'redis', prefix: 'orch:connect:' }, (err) => {
      throw err;
    });
    try {
      await conn.ping();
      // Every write the socket makes to the kernel goes through _write or _writev.
      const socket = conn.stream as unknown as { _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown };
      let writes = 0;
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method];
        socket[method] = function (this: unknown, ...args: unknown[]) {
          writes++;
          return original.apply(this, args);
        };
      }
      const sent = Array.from({ length: 20 }, (_, i) => conn.incrby('orch:connect:n', i + 1));
      expect(await Promise.all(sent)).toEqual(Array.from({ length: 20 }, (_, i) => ((i + 1) * (i + 2)) / 2));
      expect(writes).toBe(1);
    } finally {
      conn.disconnect();
    }
  });
});
