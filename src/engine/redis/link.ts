import { FlowProducer, Queue, type Job, type ParentOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { bounded, connection, probe } from './connect.js';
import { keys } from './keys.js';
import type { JobData } from './protocol.js';
import type { EngineTarget } from './target.js';

/** Completed and failed jobs are kept this long: a resumed run finds what finished while it was away. */
export const KEEP_JOBS = { age: 24 * 3600, count: 10_000 };
/**
 * The queue of fan-in gates: no worker takes its jobs. A fan-in's gate is one of its children
 * until its run gives the fan-in its task, so BullMQ cannot release the fan-in before then.
 */
export const GATE_QUEUE = '#fan-in';

/** A fan-in added as a flow before its task is known, and the gate that holds it. */
export interface FanInFlow {
  parent: Job;
  gate: Job;
}

/** After its last user let go, how long a link keeps its connections for the next one. */
const LINGER_MS = 5_000;

/**
 * A process's connections to one queue engine: the command connection for orch's own keys,
 * one for the BullMQ queues (one per agent type), and one reader of the sessions' relay
 * streams, on which each session hears its workers: a job starting, a question, a result.
 * Every engine, session and one-off command of the process on that Redis shares them, so
 * an orchestrate call or a workflow run does not pay for connecting, loading BullMQ's
 * scripts and starting readers each time. BullMQ's scripts live on their own connection:
 * ioredis copies every script a connection defines into each of its transactions, which
 * would make each of orch's own MULTIs pay for BullMQ's forty-odd. A link is held while
 * used; once let go it lingers a few seconds with its sockets unref'd (they never keep the
 * process up), then closes. A link whose Redis went away while idle closes at once, and
 * the next user gets a new one, probed again.
 */
export class Link {
  private conn: Redis | undefined;
  private bull: Redis | undefined;
  private readonly queues = new Map<string, Queue>();
  private enlisting: Batcher<{ queue: string; jobId: string; session: string }, boolean> | undefined;
  private readonly adding = new Map<string, Batcher<{ name: string; data: JobData; jobId: string; parent?: ParentOptions }, Job>>();
  private flows: FlowProducer | undefined;
  private probed: Promise<void> | undefined;
  private holders = 0;
  private linger: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners = new Set<(err: Error) => void>();
  private readonly clients = new Set<Redis>();
  /** Each relay stream read, and the id read up to. */
  private readonly cursors = new Map<string, string>();
  /** The relay streams read for the sessions open in this process, by key: each message's payload goes to its session. */
  private readonly relays = new Map<string, (fields: string[]) => void>();
  private streamReader: { reader: Redis; id: Promise<number | undefined> } | undefined;
  /** The streams of the read Redis holds now, if one is out. */
  private reading: Set<string> | undefined;
  /** Wakes a reader that had nothing to read. */
  private wake: (() => void) | undefined;

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

  /** The queues' connection, where BullMQ defines its scripts. */
  private bullmq(): Redis {
    this.bull ??= this.watch(connection(this.target, (err) => this.warn(err)));
    return this.bull;
  }

  queue(type: string): Queue {
    let queue = this.queues.get(type);
    if (!queue) {
      queue = new Queue(type, { connection: this.bullmq(), prefix: keys.bullPrefix(this.target) });
      queue.on('error', (err) => this.warn(err));
      // Every job waited for listens for the queue closing: a run may wait for hundreds at once.
      queue.setMaxListeners(0);
      this.queues.set(type, queue);
    }
    return queue;
  }

  /**
   * Reads a session's relay stream from its start, on the link's one reader, until the
   * returned function is called: `onMessage` gets each entry's fields. A session's stream
   * is its own (its id is new), so nothing written to it before the read reaches it is missed.
   */
  readRelay(key: string, onMessage: (fields: string[]) => void): () => void {
    this.relays.set(key, onMessage);
    this.cursors.set(key, '0-0');
    void this.reread(key).catch((err: Error) => this.warn(err));
    return () => {
      if (this.relays.get(key) !== onMessage) return;
      this.relays.delete(key);
      this.cursors.delete(key);
    };
  }

  /**
   * Starts the reader, or makes sure its next read includes the stream just added: a read
   * blocked on the other streams is cut short. A read sent but not yet blocked in Redis
   * cannot be cut short yet, so that is tried again until the read that includes it starts.
   */
  private async reread(key: string): Promise<void> {
    if (!this.streamReader) return this.startReader();
    this.wake?.();
    for (let tries = 0; tries < 100 && this.streamReader && this.reading && !this.reading.has(key); tries++) {
      const id = await this.streamReader.id;
      if (id === undefined) return;
      if ((await this.redis().client('UNBLOCK', id)) === 1) return;
      await new Promise((r) => setTimeout(r, 2).unref());
    }
  }

  private startReader(): void {
    const reader = this.watch(this.redis().duplicate());
    reader.on('error', (err) => this.warn(err));
    const id = reader.client('ID').then(Number, () => undefined);
    this.streamReader = { reader, id };
    // A reconnected reader has a new id.
    reader.on('ready', () => this.streamReader && (this.streamReader.id = reader.client('ID').then(Number, () => undefined)));
    void (async () => {
      while (!this.closed) {
        const streams = [...this.cursors.keys()];
        if (streams.length === 0) {
          // Nothing to read (no session open): wait for a stream.
          await new Promise<void>((r) => {
            this.wake = r;
            setTimeout(r, 1000).unref();
          });
          this.wake = undefined;
          continue;
        }
        let batch: [string, [string, string[]][]][] | null;
        this.reading = new Set(streams);
        try {
          batch = (await reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', ...streams, ...streams.map((k) => this.cursors.get(k)!))) as typeof batch;
        } catch (err) {
          if (this.closed) return;
          this.warn(err as Error);
          await new Promise((r) => setTimeout(r, 500).unref());
          continue;
        } finally {
          this.reading = undefined;
        }
        for (const [stream, entries] of batch ?? []) {
          // A stream let go of while the read was blocked on it is not read on.
          if (!this.cursors.has(stream)) continue;
          const relay = this.relays.get(stream);
          if (relay) for (const [, fields] of entries) relay(fields);
          const last = entries.at(-1);
          if (last) this.cursors.set(stream, last[0]);
        }
      }
    })();
  }

  /**
   * Routes a job's requests to a session and says whether the job exists already: the
   * calls made in one turn of the event loop share one round trip.
   */
  enlist(queue: string, jobId: string, session: string): Promise<boolean> {
    this.enlisting ??= new Batcher(async (items: { queue: string; jobId: string; session: string }[]) => {
      const batch = this.redis().multi();
      for (const i of items) batch.set(keys.route(this.target, i.jobId), i.session, 'EX', KEEP_JOBS.age).exists(`${keys.bullPrefix(this.target)}:${i.queue}:${i.jobId}`);
      const results = (await batch.exec()) ?? [];
      return items.map((_, n) => {
        const [err, exists] = results[2 * n + 1] ?? [new Error('no answer'), 0];
        if (err) throw err;
        return exists === 1;
      });
    });
    return this.enlisting.push({ queue, jobId, session });
  }

  /**
   * Adds a job, as a child of `parent` when it is one of a fan-in's inputs; the jobs added in
   * one turn of the event loop go to Redis together. A child's failure never holds its
   * parent up: orch's scheduler decides what a failed input means for the fan-in.
   */
  add(queue: string, name: string, data: JobData, jobId: string, parent?: ParentOptions): Promise<Job> {
    let batcher = this.adding.get(queue);
    if (!batcher) {
      batcher = new Batcher((items: { name: string; data: JobData; jobId: string; parent?: ParentOptions }[]) =>
        this.queue(queue).addBulk(
          items.map((i) => ({
            name: i.name,
            data: i.data,
            opts: { jobId: i.jobId, attempts: 1, removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS, ...(i.parent && { parent: i.parent, ignoreDependencyOnFailure: true }) },
          })),
        ),
      );
      this.adding.set(queue, batcher);
    }
    return batcher.push({ name, data, jobId, ...(parent && { parent }) });
  }

  /** Where a child names its parent: the parent's queue with BullMQ's prefix. */
  parentOf(queue: string, jobId: string): ParentOptions {
    return { id: jobId, queue: `${keys.bullPrefix(this.target)}:${queue}` };
  }

  /**
   * Adds a fan-in as a BullMQ flow: the job waits for its children, its inputs added later
   * under it, and for its gate, which its run removes when it gives the fan-in its task.
   */
  async fanIn(queue: string, name: string, data: JobData, jobId: string): Promise<FanInFlow> {
    if (!this.flows) {
      this.flows = new FlowProducer({ connection: this.bullmq(), prefix: keys.bullPrefix(this.target) });
      this.flows.on('error', (err) => this.warn(err));
    }
    const node = await this.flows.add({
      name,
      queueName: queue,
      data,
      opts: { jobId, attempts: 1, removeOnComplete: KEEP_JOBS, removeOnFail: KEEP_JOBS },
      children: [{ name: 'gate', queueName: GATE_QUEUE, data: {}, opts: { jobId: gateOf(jobId) } }],
    });
    return { parent: node.job, gate: node.children![0]!.job };
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
    this.streamReader?.reader.disconnect();
    this.streamReader = undefined;
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all([...queues.map((q) => bounded(q.close())), this.flows && bounded(this.flows.close())]);
    this.flows = undefined;
    this.bull?.disconnect();
    this.bull = undefined;
    this.conn?.disconnect();
    this.conn = undefined;
  }
}

/** The id of a fan-in's gate job. */
export function gateOf(jobId: string): string {
  return `${jobId}/gate`;
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
