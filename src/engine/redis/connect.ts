import { Redis, type RedisOptions } from 'ioredis';
import { OrchError } from '../../errors.js';
import { redisOptions, type EngineTarget } from './target.js';

const PROBE_TIMEOUT_MS = 3000;

/**
 * How long ioredis's disconnect waits for the socket to close before destroying it. Its
 * default, 2 s, is waited out in full for a socket that closed already (Redis gone), and
 * keeps the command from exiting meanwhile: closing is all orch asks of a disconnect.
 */
const DISCONNECT_TIMEOUT_MS = 100;

/**
 * Checks that the engine's Redis answers, before a command writes anything: unreachable,
 * refused or wrong password is ORCH_ENGINE_UNREACHABLE (exit 2) naming the URL. A Redis that
 * may evict keys would lose jobs: that is refused too.
 */
export async function probe(target: EngineTarget): Promise<void> {
  const redis = new Redis({
    ...redisOptions(target.url),
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, a DNS failure) says more than the rejected connect.
  let first: Error | undefined;
  redis.on('error', (err: Error) => (first ??= err));
  try {
    await redis.connect();
    await redis.ping();
    const policy = await redis.config('GET', 'maxmemory-policy').catch(() => undefined);
    const value = Array.isArray(policy) ? policy[1] : undefined;
    if (typeof value === 'string' && value !== 'noeviction') {
      throw new OrchError('ORCH_ENGINE_UNREACHABLE', `the Redis at ${target.shown} may evict keys (maxmemory-policy ${value}), and jobs would be lost`, {
        hint: 'run `redis-cli config set maxmemory-policy noeviction` there (and set it in its redis.conf)',
      });
    }
  } catch (err) {
    if (err instanceof OrchError) throw err;
    const reason = (first ?? (err instanceof Error ? err : undefined))?.message ?? String(err);
    throw new OrchError('ORCH_ENGINE_UNREACHABLE', `cannot reach the engine at ${target.shown}: ${reason}`, {
      hint: 'start Redis there, or point --engine, ORCH_ENGINE or agent-team.yaml\'s `engine:` at one that runs (`local` for the embedded engine)',
    });
  } finally {
    // A connect refused has ended the client already; a disconnect would only arm ioredis's timer.
    if (redis.status !== 'end') redis.disconnect();
  }
}

/**
 * A connection for BullMQ and orch's own keys. It reconnects after a blip (BullMQ's workers
 * need `maxRetriesPerRequest: null`); errors are reported through `onError`, never thrown
 * at the event loop. `perTurn` (the default) has what it sends in one turn leave in one
 * write; a worker's connection sends each command at once instead, since each of its job
 * slots waits for its last command's answer before its next job.
 */
export function connection(target: EngineTarget, onError: (err: Error) => void, extra: RedisOptions = {}, { perTurn = true } = {}): Redis {
  const redis = new Redis({ ...redisOptions(target.url), maxRetriesPerRequest: null, disconnectTimeout: DISCONNECT_TIMEOUT_MS, ...extra });
  redis.on('error', onError);
  // Each socket the connection makes (a reconnect makes a new one) writes once per turn.
  if (perTurn) redis.on('connect', () => writeOncePerTurn(redis.stream));
  return redis;
}

const perTurn = new WeakSet<object>();

/**
 * Has what a socket is given in one turn of the event loop leave in one write, in the order
 * it was given: a worker finishing several jobs at once, or a run adding jobs and reading
 * their events, makes one system call where it made one per command. A write to a local
 * Redis costs more than most commands do, and ioredis writes each command as it is sent.
 * The bytes and their order are unchanged (unlike ioredis's auto-pipelining, which BullMQ
 * does not support); a command leaves at the end of the turn rather than at once.
 */
function writeOncePerTurn(stream: Redis['stream'] | undefined): void {
  if (!stream || perTurn.has(stream)) return;
  perTurn.add(stream);
  const write = stream.write;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  stream.write = function (this: typeof stream, ...args: Parameters<typeof write>) {
    if (!corked) {
      corked = true;
      stream.cork();
      setImmediate(uncork);
    }
    return write.apply(stream, args);
  } as typeof write;
}

/** Waits for a Redis command at most a few seconds, and never fails: for what is tidied up on the way out, when Redis may be gone. */
export async function bounded(command: Promise<unknown> | undefined, ms = 2000): Promise<void> {
  if (!command) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([command.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
