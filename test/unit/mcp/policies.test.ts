import { describe, expect, it } from 'vitest';
import { CircuitBreaker, backoffDelay } from '../../../src/mcp/circuit-breaker.js';
import { buildServerEnv } from '../../../src/mcp/env.js';
import { RateLimiter } from '../../../src/mcp/rate-limit.js';
import { REDACTED, Redactor, collectSecrets, secretKey } from '../../../src/secrets/redact.js';
import { StderrTail } from '../../../src/mcp/stderr-tail.js';
import { ManualClock, stdioServer } from './helpers.js';

describe('RateLimiter', () => {
  it('lets `calls` through per window and makes the next one wait for the oldest to age out', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ calls: 2, perMs: 1000 }, clock);
    await limiter.acquire();
    clock.time = 100;
    await limiter.acquire();
    expect(limiter.delay()).toBe(900);
    await limiter.acquire();
    expect(clock.sleeps).toEqual([900]);
    expect(clock.time).toBe(1000);
  });

  it('gives up waiting when the call is cancelled', async () => {
    const limiter = new RateLimiter({ calls: 1, perMs: 1000 }, new ManualClock());
    await limiter.acquire();
    await expect(limiter.acquire(AbortSignal.abort(new Error('stop')))).rejects.toThrow('stop');
  });
});

describe('CircuitBreaker', () => {
  it('opens after `threshold` failures in a row, then lets one probe through after the cooldown', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 1000 }, clock);
    breaker.recordFailure();
    expect(breaker.check()).toEqual({ allowed: true });
    breaker.recordFailure();
    expect(breaker.check()).toEqual({ allowed: false, retryInMs: 1000 });
    clock.time = 1000;
    expect(breaker.check()).toEqual({ allowed: true });
    expect(breaker.check().allowed).toBe(false); // only one probe at a time
    breaker.recordSuccess();
    expect(breaker.check()).toEqual({ allowed: true });
    expect(breaker.consecutiveFailures).toBe(0);
  });

  it('reopens when the probe fails', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 500 }, clock);
    breaker.recordFailure();
    clock.time = 500;
    expect(breaker.check().allowed).toBe(true);
    breaker.recordFailure();
    expect(breaker.check()).toEqual({ allowed: false, retryInMs: 500 });
  });

  it('can be tripped below its threshold; a failed probe then reopens it, a good one closes it', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ threshold: 5, cooldownMs: 100 }, clock);
    breaker.trip();
    expect(breaker.check()).toEqual({ allowed: false, retryInMs: 100 });
    clock.time = 100;
    expect(breaker.check().allowed).toBe(true);
    expect(breaker.probing).toBe(true);
    breaker.recordFailure();
    expect(breaker.check()).toEqual({ allowed: false, retryInMs: 100 });
    clock.time = 200;
    expect(breaker.check().allowed).toBe(true);
    breaker.recordSuccess();
    expect(breaker.probing).toBe(false);
    expect(breaker.check()).toEqual({ allowed: true });
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
  });
});

describe('buildServerEnv', () => {
  it('passes the minimal base and the declared env, nothing else', () => {
    const parent = { PATH: '/bin', HOME: '/home/u', LANG: 'C', AWS_SECRET_ACCESS_KEY: 'nope', OTHER: 'x', TERM: '() { :; }; echo' };
    expect(buildServerEnv({ API_URL: 'http://127.0.0.1' }, parent)).toEqual({
      PATH: '/bin',
      HOME: '/home/u',
      LANG: 'C',
      API_URL: 'http://127.0.0.1',
    });
  });
});

describe('Redactor', () => {
  const server = stdioServer('s', [], { env: { DB_URL: 'postgres://u:pw@db', DEBUG: '1' }, headers: { Authorization: 'Bearer abc.def' } });
  const secrets = collectSecrets({ GITHUB_TOKEN: 'ghp_123456', PATH: '/usr/bin', db_password: 'hunter22' }, [server]);

  it('collects secret-named variables and every server env and header value', () => {
    expect(secrets.sort()).toEqual(['Bearer abc.def', 'ghp_123456', 'hunter22', 'postgres://u:pw@db']);
  });

  it('hides secrets inside nested values and values under secret-looking keys', () => {
    const redactor = new Redactor(secrets);
    const input = { q: 'use ghp_123456 now', list: ['hunter22', 3], nested: { api_key: 'plain', ok: 'fine' }, n: 1 };
    expect(redactor.redact(input)).toEqual({
      q: `use ${REDACTED} now`,
      list: [REDACTED, 3],
      nested: { api_key: REDACTED, ok: 'fine' },
      n: 1,
    });
    expect(redactor.redactString('x (Bearer abc.def)')).toBe(`x (${REDACTED})`);
  });
});

describe('StderrTail', () => {
  it('keeps the last lines, joined across chunks', () => {
    const tail = new StderrTail();
    for (let i = 0; i < 30; i++) tail.push(`line ${i}\n`);
    tail.push('par');
    tail.push('tial');
    const lines = tail.text().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines.at(-1)).toBe('partial');
    expect(lines[0]).toBe('line 11');
  });
});

describe('secret-looking keys', () => {
  it('hide values under words like token, key, secret, password — not under words that merely contain them', () => {
    for (const key of ['api_key', 'apiKey', 'accessToken', 'DB_PASSWORD', 'client-secret', 'token', 'x.key']) expect(secretKey(key), key).toBe(true);
    for (const key of ['keyword', 'monkey', 'keyboard', 'tokenizer_name', 'secretary']) expect(secretKey(key), key).toBe(false);
  });
});
