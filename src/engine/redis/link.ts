import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { bounded, connection, probe } from './connect.js';
import { keys } from './keys.js';
import type { JobData } from './protocol.js';
import type { EngineTarget } from './target.js';

/** Completed and failed jobs are kept this long: a resumed run finds what finished while it was away. */
export const KEEP_JOBS = { age: 24 * 3600, count: 10_000 };
/** After its last user let go, how long a link keeps its connections for the next one. */
const LINGER_MS = 5_000;

/**
 * A process's connections to one queue engine: the command connection and a BullMQ queue
 * per agent type. Every engine, session and one-off command of the process on that Redis
 * shares them, so an orchestrate call or a workflow run does not pay for connecting and
 * loading BullMQ's scripts each time. A link is held while used; once let go it lingers a few seconds with
 * its sockets unref'd (they never keep the process up), then closes. A link whose Redis
 * went away while idle closes at once, and the next user gets a new one, probed again.
 */
export class Link {
  private conn: Redis | undefined;
  private readonly queues = new Map<string, Queue>();
  private enlisting: Batcher<{ type: string; jobId: string; session: string }, boolean> | undefined;
  private readonly adding = new Map<string, Batcher<{ name: string; data: JobData; jobId: string }, Job>>();
  private probed: Promise<void> | undefined;
  private holders = 0;
  private linger: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners = new Set<(err: Error) => void>();
  private readonly clients = new Set<Redis>();

  constructor(
    readonly target: EngineTarget,
    private readonly gone: (link: Link) => void,
  ) {}

  /** Starts a use of the link; `onWarn` hears its connection errors until `release`. */
  hold(onWarn?: (err: Error) => void): void {
    this.holders++;
    if (onWarn) this.listeners.add(onWarn);
    if (this.linger) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    this.follow();
  }

  /** Ends a use; the last one lets the link linger, then close. */
  release(onWarn?: (err: Error) => void): void {
    if (onWarn) this.listeners.delete(onWarn);
    if (--this.holders > 0) return;
    this.holders = 0;
    this.follow();
    this.linger = setTimeout(() => void this.close(), LINGER_MS);
    this.linger.unref();
  }

  get idle(): boolean {
    return this.holders === 0;
  }

  /** Checks, once per link, that Redis answers and keeps what it is given. */
  ready(): Promise<void> {
    this.probed ??= probe(this.target).catch((err: unknown) => {
      this.probed = undefined;
      throw err;
    });
    return this.probed;
  }

  private warn(err: Error): void {
    for (const listener of this.listeners) listener(err);
  }

  private watch(redis: Redis): Redis {
    // An idle link whose Redis went away would reconnect for ever, holding the process up: it closes.
    redis.on('close', () => this.idle && void this.close());
    this.refer(redis);
    this.follow();
    return redis;
  }

  redis(): Redis {
    this.conn ??= this.watch(connection(this.target, (err) => this.warn(err)));
    return this.conn;
  }

  queue(type: string): Queue {
    let queue = this.queues.get(type);
    if (!queue) {
      queue = new Queue(type, { connection: this.redis(), prefix: keys.bullPrefix(this.target) });
      queue.on('error', (err) => this.warn(err));
      // Every job waited for listens for the queue closing: a run may wait for hundreds at once.
      queue.setMaxListeners(0);
      this.queues.set(type, queue);
    }
    return queue;
  }

  /**
   * Routes a job's requests to a session and says whether the job exists already: the
   * calls made in one turn of the event loop share one round trip.
   */
  enlist(type: string, jobId: string, session: string): Promise<boolean> {
    this.enlisting ??= new Batcher(async (items: { type: string; jobId: string; session: string }[]) => {
      const batch = this.redis().multi();
      for (const i of items) batch.set(keys.route(this.target, i.jobId), i.session, 'EX', KEEP_JOBS.age).exists(`${keys.bullPrefix(this.target)}:${i.type}:${i.jobId}`);
      const results = (await batch.exec()) ?? [];
      return items.map((_, n) => {
        const [err, exists] = results[2 * n + 1] ?? [new Error('no answer'), 0];
        if (err) throw err;
        return exists === 1;
      });
    });
    return this.enlisting.push({ type, jobId, session });
  }

  /** Adds a job; the jobs added in one turn of the event loop go to Redis together. */
  add(type: string, name: string, data: JobData, jobId: string): Promise<Job> {
    let batcher = this.adding.get(type);
    if (!batcher) {
      batcher = new Batcher((items: { name: string; data: JobData; jobId: string }[]) =>
        this.queue(type).addBulk(items.map((i) => ({ name: i.name, data: i.data, opts: { jobId: i.jobId, attempts: 1, removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS } }))),
      );
      this.adding.set(type, batcher);
    }
    return batcher.push({ name, data, jobId });
  }

  /** Held and idle, the link's sockets keep the process up or not; a socket made after a reconnect follows. */
  private refer(redis: Redis): void {
    this.clients.add(redis);
    redis.on('connect', () => this.follow());
  }

  private follow(): void {
    for (const redis of this.clients) {
      if (this.holders > 0) redis.stream?.ref();
      else redis.stream?.unref();
    }
  }

  /** Ends every connection; the process's next user of this Redis gets a new link. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.linger) clearTimeout(this.linger);
    this.gone(this);
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => bounded(q.close())));
    this.conn?.disconnect();
    this.conn = undefined;
  }
}

const links = new Map<string, Link>();

/** The process's link to the queue engine at this target (its URL and key prefix). */
export function linkTo(target: EngineTarget): Link {
  const key = `${target.url}\n${target.prefix}`;
  let link = links.get(key);
  if (!link) {
    link = new Link(target, (gone) => links.get(key) === gone && links.delete(key));
    links.set(key, link);
  }
  return link;
}

/** Collects calls made in one turn of the event loop and runs them as one batch. */
class Batcher<I, R> {
  private items: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly run: (items: I[]) => Promise<R[]>) {}

  push(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.items.push({ item, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.items;
    this.items = [];
    try {
      const results = await this.run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
