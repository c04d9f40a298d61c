import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/redis.js';

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
