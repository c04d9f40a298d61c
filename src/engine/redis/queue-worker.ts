import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Worker as BullWorker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AgentType } from '../../agents/agent-types.js';
import { perform, type Performance } from '../../agents/runtime.js';
import { OrchError } from '../../errors.js';
import type { Logger } from '../../tools/context.js';
import { initMessage, ProcessWorker } from '../process-worker.js';
import { relayedChannel, relayedTeam, type Ask, type Reply } from '../relay.js';
import { toFailure, type TaskSpec } from '../task.js';
import type { WorkerRuntime } from '../worker-host.js';
import { bounded, connection, probe } from './connect.js';
import { sweepHeldFanIns } from './fan-in-sweep.js';
import { keys } from './keys.js';
import { BEAT_MS, instanceId, ownQueue, payload, type JobData, type JobResult, type RelayMessage, type ReplyMessage, type WorkerBeat } from './protocol.js';
import type { EngineTarget } from './target.js';

export interface QueueWorkerOptions {
  runtime: WorkerRuntime;
  target: EngineTarget;
  /** The agent types whose queues this worker takes jobs from. */
  types: AgentType[];
  /** Jobs of each type run at once. */
  concurrency: number;
  /**
   * How long a job's lock lasts without renewal, and how often workers look for jobs whose
   * lock lapsed (their worker died): every worker of a queue must use the same value.
   */
  stallMs: number;
  logger: Logger;
  /** Each job as it starts and ends, for the worker's output. */
  onJob?: (event: { phase: 'started' | 'finished'; job: string; type: string; action: string; agent: string; ok?: boolean; error?: string; executions: number }) => void;
}

/** How often a worker waiting for its run's answer checks that the run is still there. */
const OWNER_CHECK_MS = 5000;
/** How often a worker looks for fan-ins held by runs that are gone. */
const SWEEP_MS = 60_000;
/** After the last job ended, how long closing may still wait for Redis. */
const CLOSE_GRACE_MS = 3000;

/**
 * Adds messages to the relay streams of the sessions that own their jobs now. KEYS: each
 * job's route; ARGV[1]: the relay stream's key without the session, then for each job its
 * message and the session that added it, for a job with no route (a new run's). Returns
 * how many were added. A session that died never deletes its stream: it expires a day later.
 */
const TELL = `local n = 0
for i = 1, #KEYS do
  local s = redis.call('get', KEYS[i])
  if not s then s = ARGV[2 * i + 1] end
  if s and s ~= '' then
    redis.call('xadd', ARGV[1] .. s, 'MAXLEN', '~', 10000, '*', 'm', ARGV[2 * i])
    redis.call('expire', ARGV[1] .. s, 86400)
    n = n + 1
  end
end
return n`;

/**
 * How many times a job may be started before it fails, its workers having died under it
 * each time. orch decides this, not BullMQ's stall count, so that a job lost this way ends
 * with orch's error, journalled, like any other failure.
 */
const MAX_EXECUTIONS = 3;

/** A message for the session of a job. */
type Tell = { job: string; session: string; message: string };

type Waiting = { resolve: (reply: Reply) => void; reject: (err: Error) => void; job: string };

/**
 * `orch worker`: takes jobs of some agent types from the engine's queues and performs them
 * through the agent runtime with its own MCP servers and LLM providers, as an inline
 * worker would; the run that sent a job hears its journal writes, questions and
 * delegations through Redis streams. It beats in the workers hash while it runs, and
 * drains on request: takes no new jobs, finishes those it runs, then ends its servers.
 */
export class QueueWorker {
  readonly id = `${os.hostname().split('.')[0]}-${process.pid}-${randomBytes(2).toString('hex')}`;
  private conn: Redis | undefined;
  private replies: Redis | undefined;
  private readonly workers: BullWorker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private running = 0;
  private readonly startedAt = new Date().toISOString();
  private beat: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();
  private reading: Promise<void> | undefined;
  private draining = false;
  /** Child processes of `isolation: process` types not running a job now, by type. */
  private readonly children = new Map<string, ProcessWorker[]>();
  private readonly allChildren = new Set<ProcessWorker>();

  constructor(private readonly options: QueueWorkerOptions) {}

  private get target(): EngineTarget {
    return this.options.target;
  }

  private lastWarning = { text: '', at: 0 };

  /** A Redis that is down fails every reconnect the same way: each message is said once a minute. */
  private warn = (err: Error): void => {
    const text = `engine ${this.target.shown}: ${err.message}`;
    if (text === this.lastWarning.text && Date.now() - this.lastWarning.at < 60_000) return;
    this.lastWarning = { text, at: Date.now() };
    this.options.logger.warn(text);
  };

  async start(): Promise<void> {
    await probe(this.target);
    // Each command leaves at once: a job slot's next job comes with the answer to its last one's end.
    this.conn = connection(this.target, this.warn, {}, { perTurn: false });
    // Sent by its digest (EVALSHA), not its text: a worker tells every job's result.
    this.conn.defineCommand('orchTell', { lua: TELL });
    this.replies = this.conn.duplicate();
    this.replies.on('error', this.warn);
    await this.beatOnce();
    this.beat = setInterval(() => void this.beatOnce().catch(this.warn), BEAT_MS);
    // Fan-ins held for runs that are gone (killed mid-fan-out) are removed by whichever worker looks first.
    this.sweeper = setInterval(() => void sweepHeldFanIns(this.conn!, this.target).catch(this.warn), SWEEP_MS);
    this.sweeper.unref();
    this.reading = this.readReplies();
    for (const type of this.options.types) this.take(type.name, () => type);
    // The worker's own queue: jobs sent to this worker alone (a retry on the same instance,
    // a reassignment away from another), of any of its types.
    this.take(ownQueue(this.id), (job) => this.options.types.find((t) => t.name === job.data?.task?.agentType));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Takes the jobs of one queue, each run as a job of the type `typeOf` says. */
  private take(queue: string, typeOf: (job: Job<JobData, JobResult>) => AgentType | undefined): void {
    const { stallMs, concurrency } = this.options;
    const worker = new BullWorker(queue, (job: Job<JobData, JobResult>, _token?: string, signal?: AbortSignal) => this.process(typeOf(job), job, signal), {
      connection: this.conn!,
      prefix: keys.bullPrefix(this.target),
      concurrency,
      name: this.id,
      lockDuration: stallMs,
      stalledInterval: stallMs,
      // Never failed by BullMQ for stalling: the job's next execution says so (MAX_EXECUTIONS).
      maxStalledCount: 1_000_000,
    });
    worker.on('error', this.warn);
    this.workers.push(worker);
  }

  private async beatOnce(): Promise<void> {
    const beat: WorkerBeat = {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      types: this.options.types.map((t) => t.name),
      concurrency: this.options.concurrency,
      running: this.running,
      startedAt: this.startedAt,
      beat: Date.now(),
      ...(this.draining && { draining: true }),
    };
    await this.conn?.hset(keys.workers(this.target), this.id, JSON.stringify(beat));
  }

  /**
   * Runs a job and tells its result to the session that waits for it, as it goes back to
   * BullMQ: the results of the jobs that end in one turn of the event loop leave in one
   * command. Should one be lost (the session's stream gone, Redis cut off), the session
   * finds the job's end in its hash.
   */
  private async process(type: AgentType | undefined, job: Job<JobData, JobResult>, signal?: AbortSignal): Promise<JobResult> {
    const result = await this.runJob(type, job, signal);
    const jobId = job.id ?? job.data?.task?.key;
    if (jobId !== undefined) this.tellDone({ job: jobId, session: job.data?.session ?? '', message: JSON.stringify({ t: 'done', job: jobId, result } satisfies RelayMessage) });
    return result;
  }

  /** Results to tell, gathered over a turn of the event loop. */
  private results: Tell[] = [];

  private tellDone(result: Tell): void {
    if (this.results.push(result) > 1) return;
    setImmediate(() => {
      const batch = this.results;
      this.results = [];
      // Lost, the results are found by their sessions in the jobs' hashes.
      this.send(batch).catch(() => undefined);
    });
  }

  /** Adds messages to their sessions' relay streams in one round trip; resolves with how many were added. */
  private send(tells: Tell[]): Promise<number> {
    const args: string[] = [keys.relay(this.target, '')];
    for (const t of tells) args.push(t.message, t.session);
    return (this.conn as Redis & { orchTell: (keyCount: number, ...rest: string[]) => Promise<number> }).orchTell(tells.length, ...tells.map((t) => keys.route(this.target, t.job)), ...args);
  }

  private async runJob(type: AgentType | undefined, job: Job<JobData, JobResult>, signal?: AbortSignal): Promise<JobResult> {
    const task = job.data?.task;
    if (!type) {
      // Sent to this worker's own queue for a type it does not serve.
      const name = task?.agentType ?? 'unknown';
      const error = { code: 'ORCH_NO_HEALTHY_AGENT' as const, message: `worker ${this.id} does not serve \`${name}\``, retryable: false };
      return { ok: false, agentId: instanceId(name, this.id), executions: job.stalledCounter + 1, error };
    }
    const agent = instanceId(type.name, this.id);
    if (!task) {
      // Its hash was deleted while its id stayed in a list: someone removed it by hand.
      return { ok: false, agentId: agent, executions: job.stalledCounter + 1, error: { code: 'ORCH_WORKER_DIED', message: 'the job was removed from its queue', retryable: true } };
    }
    if (job.data.held) {
      const error = { code: 'ORCH_CANCELLED' as const, message: `the fan-in \`${task.key}\` was started before its run gave it its task (its gate job was removed by hand)`, retryable: false };
      return { ok: false, agentId: agent, executions: job.stalledCounter + 1, error };
    }
    const executions = job.stalledCounter + 1;
    const jobId = job.id ?? task.key;
    if (executions > MAX_EXECUTIONS) {
      return {
        ok: false,
        agentId: agent,
        executions,
        error: { code: 'ORCH_WORKER_DIED', message: `the workers running \`${task.action}\` died ${executions - 1} times: it was not started again`, retryable: true },
      };
    }
    if (executions > 1 && !this.idempotent(task)) {
      return {
        ok: false,
        agentId: agent,
        executions,
        error: {
          code: 'ORCH_WORKER_LOST',
          message: `the worker running \`${task.action}\` was lost, and the tool is declared \`idempotent: false\`: it was not run again`,
          retryable: false,
        },
      };
    }
    this.running++;
    this.options.onJob?.({ phase: 'started', job: jobId, type: type.name, action: task.action, agent, executions });
    if (job.data.notify || executions > 1) await this.tell(jobId, job.data.session, { t: 'started', job: jobId, worker: this.id, agent, executions }).catch(this.warn);
    const ask: Ask = (request) => this.ask(jobId, job.data.session, request);
    let result: JobResult;
    try {
      const channel = job.data.channel ? relayedChannel(ask, 0, job.data.channel) : undefined;
      const team = job.data.team ? relayedTeam(ask, 0) : undefined;
      const done =
        type.isolation === 'process'
          ? await this.isolated(type, (child) => child.run(task, { id: agent, type: type.name }, signal ?? this.stopped.signal, channel, team))
          : await perform(
              { role: type.name, instance: agent },
              task.action,
              task.input,
              // Object.assign, not a spread with keys after it, which costs several times more: this runs for every job.
              Object.assign(
                {},
                this.options.runtime,
                { servers: this.options.runtime.supervisor, signal: signal ?? this.stopped.signal, ids: task.ids, step: task.step, channel },
                team && { team },
                task.delegation && { delegation: task.delegation },
                // The run's trace context: the job's spans join the run's trace, whichever machine runs it.
                task.carrier && { carrier: task.carrier },
              ),
            );
      result = { ok: true, agentId: agent, value: done.output ?? null, ...(done.usage && { usage: done.usage }), executions };
    } catch (err) {
      result = { ok: false, agentId: agent, error: toFailure(err), executions };
    } finally {
      this.running--;
    }
    this.options.onJob?.({ phase: 'finished', job: jobId, type: type.name, action: task.action, agent, ok: result.ok, ...(!result.ok && { error: `${result.error.code}: ${result.error.message}` }), executions });
    return result;
  }

  /**
   * Runs a job of an `isolation: process` type in a child process of its own: one per
   * running job at most (the type's concurrency), each kept for the next job, all ended
   * when the worker stops.
   */
  private async isolated(type: AgentType, body: (child: ProcessWorker) => Promise<Performance>): Promise<Performance> {
    const idle = this.children.get(type.name) ?? [];
    this.children.set(type.name, idle);
    const child = idle.pop() ?? new ProcessWorker(`${type.name}@${this.id}`, initMessage(this.options.runtime.project, this.options.runtime.stateDir));
    this.allChildren.add(child);
    try {
      return await body(child);
    } finally {
      idle.push(child);
    }
  }

  /** Whether a task may be run again after its worker died: tools say `idempotent: false` when not. */
  private idempotent(task: TaskSpec): boolean {
    return this.options.runtime.project.tools.get(task.action)?.idempotent !== false;
  }

  /** Sends a message to the session that owns a job now (a resumed run takes its jobs over). */
  private async tell(job: string, session: string | undefined, message: RelayMessage): Promise<void> {
    // One round trip: look the session up and add to its stream.
    const sent = await this.send([{ job, session: session ?? '', message: JSON.stringify(message) }]);
    if (sent === 0) throw new OrchError('ORCH_CANCELLED', `the run that sent ${job} is gone`);
  }

  private ask(job: string, owner: string | undefined, request: Parameters<Ask>[0]): Promise<Reply> {
    const seq = ++this.seq;
    return new Promise<Reply>((resolve, reject) => {
      const settled = (): void => {
        clearInterval(check);
        this.waiting.delete(seq);
      };
      const waiting: Waiting = { resolve: (reply) => (settled(), resolve(reply)), reject: (err) => (settled(), reject(err)), job };
      this.waiting.set(seq, waiting);
      // A run that died leaves no one to answer: the job fails rather than waiting for ever.
      const check = setInterval(() => {
        void this.conn
          ?.get(keys.route(this.target, job))
          .then((route) => {
            const session = route ?? owner;
            return session === undefined ? 0 : this.conn!.exists(keys.session(this.target, session));
          })
          .then((n) => n === 0 && waiting.reject(new OrchError('ORCH_CANCELLED', `the run that sent ${job} is gone`)))
          .catch(() => undefined);
      }, OWNER_CHECK_MS);
      check.unref();
      this.tell(job, owner, { t: 'ask', job, worker: this.id, seq, request: { ...request, seq } as RelayMessage extends { request: infer R } ? R : never }).catch(waiting.reject);
    });
  }

  private async readReplies(): Promise<void> {
    const stream = keys.replies(this.target, this.id);
    let last = '0-0';
    while (!this.stopped.signal.aborted) {
      let batch: [string, [string, string[]][]][] | null;
      try {
        batch = (await this.replies!.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', stream, last)) as typeof batch;
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        this.warn(err as Error);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [, entries] of batch ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const message = payload<ReplyMessage>(fields);
          if (message) this.onReply(message);
        }
      }
    }
  }

  private onReply(message: ReplyMessage): void {
    if (message.t === 'cancel') {
      for (const w of this.workers) w.cancelJob(message.job, message.reason);
      return;
    }
    const w = this.waiting.get(message.seq);
    if (!w) return;
    const reply = { type: 'reply', id: 0, seq: message.seq, ...message.body } as Reply;
    if (reply.error !== undefined) w.reject(new OrchError('ORCH_WORKER_DIED', `the run could not take a worker's message: ${reply.error}`));
    else w.resolve(reply);
  }

  /** Resolves once no job runs. */
  private async idle(): Promise<void> {
    while (this.running > 0) await new Promise((r) => setTimeout(r, 100));
  }

  /** Jobs running now. */
  get busy(): number {
    return this.running;
  }

  /**
   * Takes no new jobs, lets the running ones finish (`force`: cancels them), then leaves the
   * workers hash, ends its MCP servers and closes its connections.
   */
  async stop(force = false): Promise<void> {
    this.draining = true;
    // Redis may be gone (that may be why the worker is stopped): nothing here waits on it
    // for long, and nothing at all once the connection is seen down — commands sent then
    // only wait for a reconnection, and a drained worker must not take seconds to exit.
    const up = (): boolean => this.conn?.status === 'ready';
    if (up()) await bounded(this.beatOnce());
    if (force) for (const w of this.workers) w.cancelAllJobs('the worker is stopping');
    // Closing waits for the running jobs, and for Redis: once the jobs are done, a Redis
    // that is gone is not waited for long.
    const closing = Promise.all(this.workers.map((w) => w.close(force).catch(() => undefined)));
    await Promise.race([closing, this.idle().then(() => new Promise((r) => setTimeout(r, up() ? CLOSE_GRACE_MS : 0).unref()))]);
    this.stopped.abort();
    if (this.beat) clearInterval(this.beat);
    if (this.sweeper) clearInterval(this.sweeper);
    for (const w of [...this.waiting.values()]) w.reject(new OrchError('ORCH_CANCELLED', 'the worker is stopping'));
    this.replies?.disconnect();
    // A read queued while Redis was away may never settle, even once disconnected.
    await bounded(this.reading, up() ? 2000 : 100);
    if (up()) await bounded(Promise.all([this.conn?.hdel(keys.workers(this.target), this.id), this.conn?.del(keys.replies(this.target, this.id))]));
    this.conn?.disconnect();
    await Promise.all([...this.allChildren].map((child) => child.stop()));
    await this.options.runtime.supervisor?.shutdown();
  }
}

