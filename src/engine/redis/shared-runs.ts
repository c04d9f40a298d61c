import { existsSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { OrchError } from '../../errors.js';
import { runPaths } from '../../state/runs.js';
import { bounded, connection, probe } from './connect.js';
import { countLines, pullTask, taskIndex } from './shared-tasks.js';
import type { EngineTarget } from './target.js';

/**
 * This process's pid namespace (`pid:[4026531836]` on Linux): containers sharing a host name
 * (host networking, a pod's containers) do not share process ids. Undefined where unknown.
 */
const pidSpace: string | undefined = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid').replace(/[^0-9]/g, '') || undefined;
  } catch {
    return undefined;
  }
})();

/** A lock holder as written: `host:pid:since:pidspace`. */
export function holderOf(): string {
  return `${os.hostname()}:${process.pid}:${Date.now()}:${pidSpace ?? ''}`;
}

/**
 * Whether a lock holder is a process of this machine, in this pid namespace, that is no
 * longer running. A holder written without a namespace, or in another, is never taken as dead.
 */
export function deadHereHolds(holder: string): boolean {
  const [host, pid, , space] = holder.split(':');
  if (host !== os.hostname() || !/^\d+$/.test(pid ?? '') || pidSpace === undefined || space !== pidSpace) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Sets KEYS[1] to ARGV[2] for ARGV[3] ms if it holds ARGV[1] (a dead holder's lock taken over). */
const TAKE_OVER = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";
/** Renews KEYS[1] for ARGV[2] ms if this holder (ARGV[1]) still has it: a lock taken over meanwhile is not taken back. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/** How long a run's lock in Redis lasts unless its holder renews it. */
const LOCK_MS = 15_000;
const RENEW_MS = 5_000;

/**
 * Runs' journals in Redis, so that every machine pointed at the same engine sees the same
 * runs: each event a run appends is added to its stream (`{prefix}{workflow}:{run}:journal`)
 * before it counts as written, and commands that read runs first bring this machine's
 * copies up to date. A run is driven by one process at a time across machines: the lock
 * is in Redis too. Orchestration tasks are brought up to date with the runs (see SharedTasks).
 */
export class SharedRuns {
  private conn: Redis | undefined;

  constructor(
    private readonly target: EngineTarget,
    private readonly stateDir: string,
  ) {}

  private redis(): Redis {
    this.conn ??= connection(this.target, () => {}, { maxRetriesPerRequest: 2 });
    return this.conn;
  }

  private journalKey(workflow: string, runId: string): string {
    return `${this.target.prefix}${workflow}:${runId}:journal`;
  }

  private lockKey(runId: string): string {
    return `${this.target.prefix}lock:${runId}`;
  }

  private get index(): string {
    return `${this.target.prefix}runs`;
  }

  /** What a run's journal calls after it wrote lines to its file: they are in Redis once this resolves. */
  mirror(workflow: string, runId: string): (lines: string[]) => Promise<void> {
    const key = this.journalKey(workflow, runId);
    return async (lines) => {
      const batch = this.redis().multi().hset(this.index, runId, workflow);
      for (const line of lines) batch.xadd(key, '*', 'e', line.replace(/\n$/, ''));
      const results = await batch.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw new OrchError('ORCH_ENGINE_UNREACHABLE', `could not write run ${runId}'s journal to ${this.target.shown}: ${failed?.[0]?.message ?? 'no answer'}`);
    };
  }

  /**
   * Brings this machine's copy of every run (or of one) up to date with Redis: runs it has
   * never seen are written, and the events others appended (a decision, a resume elsewhere)
   * are added to the ones it has. Runs another machine is driving are marked so.
   */
  async pull(only?: string): Promise<void> {
    await probe(this.target);
    const redis = this.redis();
    const runs = only === undefined ? await redis.hgetall(this.index) : Object.fromEntries([[only, await redis.hget(this.index, only)]].filter(([, w]) => w !== null)) as Record<string, string>;
    for (const [runId, workflow] of Object.entries(runs)) {
      let paths: ReturnType<typeof runPaths>;
      try {
        paths = runPaths(this.stateDir, runId);
      } catch {
        continue; // not a run id: nothing orch wrote
      }
      const key = this.journalKey(workflow, runId);
      const have = existsSync(paths.journal) ? countLines(await readFile(paths.journal, 'utf8')) : 0;
      const total = await redis.xlen(key);
      if (total > have) {
        const entries = (await redis.xrange(key, '-', '+')).slice(have);
        await mkdir(paths.dir, { recursive: true });
        await appendFile(paths.journal, entries.map(([, fields]) => `${fields[1] ?? ''}\n`).join(''));
      }
      const holder = await redis.get(this.lockKey(runId));
      const marker = `${paths.dir}/elsewhere`;
      if (holder !== null && !holder.startsWith(`${os.hostname()}:${process.pid}:`)) await writeFile(marker, `${holder}\n${Date.now() + LOCK_MS}\n`);
      else if (existsSync(marker)) await writeFile(marker, '');
    }
    // Orchestration tasks are shared too.
    const tasks = only === undefined ? Object.keys(await redis.hgetall(taskIndex(this.target))) : (await redis.hexists(taskIndex(this.target), only)) ? [only] : [];
    for (const taskId of tasks) await pullTask(redis, this.target, this.stateDir, taskId);
  }

  /** Whether `orch stop --all` holds the engine's kill switch on: no new run starts while it does. */
  async halted(): Promise<boolean> {
    return (await this.redis().exists(haltedKey(this.target))) === 1;
  }

  /**
   * Takes a run's lock across machines, renewed while held; ORCH_RUN_LOCKED when another
   * process has it. While held, `orch stop` of the run (or `--all`) on any machine reaches
   * this process as SIGTERM: it stops the run as Ctrl-C would, journalled interrupted.
   */
  async lock(runId: string): Promise<() => Promise<void>> {
    const redis = this.redis();
    const me = holderOf();
    const key = this.lockKey(runId);
    // Free (or lapsed since it was found held), it is taken; a holder on this machine whose
    // process is gone (killed, crashed) cannot renew it: it is taken over at once, not after it lapses.
    const take = async (): Promise<boolean> => {
      if ((await redis.set(key, me, 'PX', LOCK_MS, 'NX')) !== null) return true;
      const holder = await redis.get(key);
      if (holder === null) return (await redis.set(key, me, 'PX', LOCK_MS, 'NX')) !== null;
      return deadHereHolds(holder) && (await redis.eval(TAKE_OVER, 1, key, holder, me, LOCK_MS)) !== 0;
    };
    if (!(await take())) {
      const holder = (await redis.get(this.lockKey(runId))) ?? 'another process';
      throw new OrchError('ORCH_RUN_LOCKED', `run ${runId} is being driven by ${holder.split(':').slice(0, 2).join(' pid ')} (through ${this.target.shown})`, {
        hint: 'wait for it to finish or pause, or stop that process first',
      });
    }
    const renew = setInterval(() => void redis.eval(RENEW, 1, key, me, LOCK_MS).catch(() => undefined), RENEW_MS);
    renew.unref();
    const control = redis.duplicate();
    control.on('error', () => {});
    control.on('message', (_channel: string, message: string) => {
      if (message === '*' || message === runId) process.kill(process.pid, 'SIGTERM');
    });
    await control.subscribe(controlChannel(this.target));
    return async () => {
      clearInterval(renew);
      control.disconnect();
      // Only this holder's lock is removed: one that lapsed and was taken since is the new holder's.
      await bounded(redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, this.lockKey(runId), me));
    };
  }

  close(): void {
    this.conn?.disconnect();
    this.conn = undefined;
  }
}

/** Set while `orch stop --all` holds the kill switch on. */
export function haltedKey(target: EngineTarget): string {
  return `${target.prefix}halted`;
}

/** Where `orch stop` tells the processes driving runs to stop: a run id, or `*` for all. */
export function controlChannel(target: EngineTarget): string {
  return `${target.prefix}control`;
}
