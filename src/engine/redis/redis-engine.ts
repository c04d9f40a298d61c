import { randomUUID } from 'node:crypto';
import type { Job, ParentOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DelegationRequest, Performance, TeamServices } from '../../agents/action.js';
import { agentTypes, type AgentType } from '../../agents/agent-types.js';
import type { Project } from '../../config/model.js';
import type { ScaleResult } from '../../agents/pool.js';
import type { PoolSnapshot } from '../../agents/types.js';
import { ExitCode, OrchError } from '../../errors.js';
import type { Logger } from '../../tools/context.js';
import { delegatedResult, delegatedTask } from '../delegation.js';
import type { Capacity, Engine, EngineSession, OpenRequest, SubmitHooks } from '../engine.js';
import { answerRequest, type TaskLink } from '../relay.js';
import { toFailure, type FanIn, type TaskOutcome, type TaskSpec } from '../task.js';
import { bounded } from './connect.js';
import { GATE_QUEUE, gateOf, linkTo, type FanInFlow, type Link } from './link.js';
import { controlChannel, haltedKey } from './shared-runs.js';
import { keys } from './keys.js';
import { instanceId, live, ownQueue, payload, type JobData, type JobResult, type RelayMessage, type ReplyMessage, type WorkerBeat } from './protocol.js';
import type { EngineTarget } from './target.js';

export interface RedisEngineOptions {
  project: Project;
  target: EngineTarget;
  logger?: Logger;
}

const SESSION_TTL_MS = 15_000;
const SESSION_BEAT_MS = 5_000;
/** A cancelled running task whose worker does not answer is given up on after this long. */
const CANCEL_WAIT_MS = 10_000;
/** Jobs read from each state of a worker's own queue when counting them by type (retries and reassignments: a few). */
const OWN_READ = 1000;

/** Jobs on workers' own queues by type. */
type OwnJobs = Map<string, { active: number; waiting: number }>;

/** Sets (or renews) a session's key, which lapses unless its session keeps it alive. */
function keepAlive(redis: Redis, key: string, owner: string): Promise<unknown> {
  return redis.set(key, owner, 'PX', SESSION_TTL_MS);
}

/**
 * The queue engine: one BullMQ queue per agent type in Redis, taken by `orch worker`
 * processes on any machine. A task is a job whose id is its key (`run:step:attempt`,
 * `task:subtask`), so adding it again is a no-op and a resumed run picks up a job that
 * finished while it was away. The session that submitted a job answers its worker's
 * journal writes, questions and delegations through Redis streams.
 */
export class RedisEngine implements Engine {
  readonly name = 'redis';
  readonly types: ReadonlyMap<string, AgentType>;
  /** The process's link to this Redis, while a session or a command uses it. */
  private held: Link | undefined;
  private holds = 0;
  private readonly onWarn = (err: Error): void => this.warn(err);

  constructor(readonly options: RedisEngineOptions) {
    this.types = agentTypes(options.project);
  }

  get target(): EngineTarget {
    return this.options.target;
  }

  private hold(): Link {
    if (this.holds++ === 0) {
      this.held = linkTo(this.target);
      this.held.hold(this.onWarn);
    }
    return this.held!;
  }

  private release(): void {
    if (--this.holds > 0) return;
    this.held?.release(this.onWarn);
    this.held = undefined;
  }

  private get link(): Link {
    if (!this.held) throw new Error('the queue engine is used outside a session or command');
    return this.held;
  }

  redis(): Redis {
    return this.link.redis();
  }

  queue(type: string): Queue {
    return this.link.queue(type);
  }

  enlist(queue: string, jobId: string, session: string): Promise<boolean> {
    return this.link.enlist(queue, jobId, session);
  }

  add(queue: string, name: string, data: JobData, jobId: string, parent?: ParentOptions): Promise<Job> {
    return this.link.add(queue, name, data, jobId, parent);
  }

  fanIn(queue: string, name: string, data: JobData, jobId: string): Promise<FanInFlow> {
    return this.link.fanIn(queue, name, data, jobId);
  }

  parentOf(queue: string, jobId: string): ParentOptions {
    return this.link.parentOf(queue, jobId);
  }

  readRelay(key: string, onMessage: (fields: string[]) => void): () => void {
    return this.link.readRelay(key, onMessage);
  }

  /** The pool size of a type: what `orch scale` set, else what agent-team.yaml declares. */
  async poolSize(type: string): Promise<number> {
    const scaled = await this.redis().hget(keys.pools(this.target), type);
    return scaled === null ? (this.types.get(type)?.count ?? 0) : Number(scaled);
  }

  /**
   * Sets a type's pool size: the number of its jobs that run at once across every worker
   * (BullMQ's global concurrency, live), and the replicas `orch deploy` writes. 0 stops the
   * type's jobs from starting, and runs that need it are refused.
   */
  scale(type: AgentType, count: number): Promise<ScaleResult> {
    return this.command(async () => {
      const previous = await this.poolSize(type.name);
      await this.redis().hset(keys.pools(this.target), type.name, String(count));
      await this.queue(type.name).setGlobalConcurrency(count);
      const common = { agent_type: type.name, previous_count: previous, new_count: count, draining: [] };
      return count >= previous ? { action: 'scale_up', ...common, agents_added: [] } : { action: 'scale_down', ...common, agents_removed: [] };
    });
  }

  /** Each type's pool as the queues and workers stand now, and the workers. */
  snapshot(): Promise<{ pools: PoolSnapshot[]; workers: WorkerBeat[] }> {
    return this.command(async () => {
      const workers = await this.workers();
      const own = this.ownJobs(workers);
      const pools = await Promise.all([...this.types.keys()].map((type) => this.pool(type, workers, own)));
      return { pools, workers };
    });
  }

  /**
   * One type's pool: its size is what `orch scale` set, busy and queued are the type's jobs
   * running and waiting — on its queue, and on the own queues of the workers serving it
   * (retries and reassignments sent to one worker) — and what is available is bounded by
   * the slots of the live workers that serve it.
   */
  async pool(type: string, workers: readonly WorkerBeat[], own: Promise<OwnJobs> = this.ownJobs(workers.filter((w) => w.types.includes(type)))): Promise<PoolSnapshot> {
    const queue = this.queue(type);
    const [desired, active, waiting, mine] = await Promise.all([this.poolSize(type), queue.getActiveCount(), queue.getWaitingCount(), own]);
    const busy = active + (mine.get(type)?.active ?? 0);
    const slots = workers.filter((w) => w.types.includes(type) && !w.draining).reduce((n, w) => n + w.concurrency, 0);
    return { type, desired, instances: desired, available: Math.max(0, Math.min(slots, desired) - busy), busy, unhealthy: 0, queued: waiting + (mine.get(type)?.waiting ?? 0) };
  }

  /**
   * The jobs on these workers' own queues, running and waiting, by type (a worker's own queue
   * holds any of its types): each queue read once, for every type.
   */
  async ownJobs(workers: readonly WorkerBeat[]): Promise<OwnJobs> {
    const counts: OwnJobs = new Map();
    const count = (jobs: Job[], state: 'active' | 'waiting') => {
      for (const job of jobs) {
        const type = (job.data as JobData | undefined)?.task?.agentType;
        if (type === undefined) continue;
        const c = counts.get(type) ?? { active: 0, waiting: 0 };
        c[state]++;
        counts.set(type, c);
      }
    };
    await Promise.all(
      workers.map(async (w) => {
        const queue = this.queue(ownQueue(w.id));
        const [active, waiting] = await Promise.all([queue.getActive(0, OWN_READ - 1), queue.getWaiting(0, OWN_READ - 1)]);
        count(active, 'active');
        count(waiting, 'waiting');
      }),
    );
    return counts;
  }

  /**
   * The engine's part of the kill switch. `stop`: the processes driving the run (or all,
   * on every machine) are told to stop it, journalled interrupted; with all, the queues are
   * paused so no worker starts another job, and new runs are refused until `start`.
   */
  killSwitch(action: 'stop' | 'start', runId?: string): Promise<void> {
    return this.command(async () => {
      const redis = this.redis();
      if (action === 'stop') {
        if (runId === undefined) {
          await redis.set(haltedKey(this.target), new Date().toISOString());
          await Promise.all(this.queueNames(await this.workers()).map((q) => this.queue(q).pause()));
        }
        await redis.publish(controlChannel(this.target), runId ?? '*');
      } else {
        await redis.del(haltedKey(this.target));
        await Promise.all(this.queueNames(await this.workers()).map((q) => this.queue(q).resume()));
      }
    });
  }

  /** The queues of every type, and the own queues of these workers. */
  private queueNames(workers: readonly WorkerBeat[]): string[] {
    return [...this.types.keys(), ...workers.map((w) => ownQueue(w.id))];
  }

  /** The pool sizes `orch scale` set on the engine, by type. */
  scaledSizes(): Promise<Map<string, number>> {
    return this.command(async () => {
      const all = await this.redis().hgetall(keys.pools(this.target));
      return new Map(Object.entries(all).map(([type, n]) => [type, Number(n)]));
    });
  }

  /** A command outside any session (scale, status, the kill switch): its connections close after it, unless a session still needs them. */
  private async command<T>(body: () => Promise<T>): Promise<T> {
    const link = this.hold();
    try {
      await link.ready();
      return await body();
    } finally {
      this.release();
    }
  }

  /** One instance per live worker taking work (not draining) and type it serves, as reports name them. */
  instances(): Promise<{ id: string; type: string }[]> {
    return this.command(async () =>
      (await this.workers()).filter((w) => !w.draining).flatMap((w) => w.types.filter((type) => this.types.has(type)).map((type) => ({ id: instanceId(type, w.id), type }))),
    );
  }

  /** Workers that beat recently. */
  async workers(): Promise<WorkerBeat[]> {
    const all = await this.redis().hgetall(keys.workers(this.target));
    const now = Date.now();
    return Object.values(all)
      .flatMap((v) => {
        try {
          return [JSON.parse(v) as WorkerBeat];
        } catch {
          return [];
        }
      })
      .filter((b) => live(b, now));
  }

  async open(request: OpenRequest): Promise<EngineSession> {
    const link = this.hold();
    try {
      await link.ready();
      // One round trip: the pools checked, the workers read and the session's key set
      // together; a run refused leaves no session behind.
      const id = randomUUID();
      const alive = keepAlive(this.redis(), keys.session(this.target, id), request.owner);
      alive.catch(() => undefined);
      let beats: WorkerBeat[];
      try {
        [, beats] = await Promise.all([this.prepare(request.wanted.keys()), this.workers()]);
      } catch (err) {
        await bounded(alive.then(() => this.redis().del(keys.session(this.target, id))));
        throw err;
      }
      await alive;
      for (const type of request.wanted.keys()) {
        if (!beats.some((b) => b.types.includes(type))) {
          this.options.logger?.warn?.(`no worker serves \`${type}\` on ${this.target.shown} yet: its tasks wait in the queue (start one with \`orch worker --agent-type ${type}\`)`);
        }
      }
      const session = new RedisSession(this, id, request, beats, async () => this.release());
      session.start();
      return session;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /** Refuses work for a type the team does not have, or whose pool is scaled to 0, before anything is written. */
  prepare(types: Iterable<string>): Promise<void> {
    return this.command(async () => {
      const wanted = [...types];
      for (const type of wanted) {
        if (!this.types.has(type)) throw new OrchError('ORCH_UNKNOWN_AGENT_TYPE', `the team has no agent \`${type}\``, { exitCode: ExitCode.usage });
      }
      // Asked together: the commands leave in one write.
      const sizes = await Promise.all(wanted.map((type) => this.poolSize(type)));
      for (const [i, type] of wanted.entries()) {
        if (sizes[i] === 0) {
          throw new OrchError('ORCH_POOL_EMPTY', `agent type \`${type}\` has no instances (its pool is scaled to 0)`, {
            hint: `scale it up first: orch scale --agent-type ${type} --count 1`,
            exitCode: ExitCode.usage,
          });
        }
      }
    });
  }

  warn(err: Error): void {
    this.options.logger?.warn?.(`engine ${this.target.shown}: ${err.message}`);
  }
}

/** A task's job data: the task, and how its worker reaches the session and the run. */
function data(task: TaskSpec, hooks: SubmitHooks, session: string): JobData {
  return {
    task,
    session,
    ...(hooks.channel && { channel: { history: [...hooks.channel.history], runUsage: hooks.channel.runUsage() } }),
    team: true,
    ...(hooks.onStart && { notify: true }),
  };
}

/**
 * A task's key as a BullMQ job id: BullMQ keeps ids with one or three colons for its own
 * repeatable jobs, so orch's `task:subtask` and `run:step:attempt` become `task/subtask`, `run/step/attempt`.
 */
export function jobIdOf(key: string): string {
  return key.replaceAll(':', '/');
}

interface Submitted extends TaskLink {
  onStart?: SubmitHooks['onStart'];
  worker?: string;
  agentId?: string;
  executions: number;
}

class RedisSession implements EngineSession {
  private readonly tasks = new Map<string, Submitted>();
  /**
   * Jobs waited for, by id: their workers say when each is done, on the relay stream. `queue`
   * is the job's queue (its type's, or a worker's own, whose worker is `worker`).
   */
  private readonly waiters = new Map<string, { queue: string; worker?: string; since: number; resolve: (result: JobResult) => void; reject: (err: Error) => void }>();
  /** Stops reading the session's relay stream. */
  private unread: (() => void) | undefined;
  private readonly controller = new AbortController();
  private signal: AbortSignal | undefined;
  /** What each task waiting on the session's own signal does when it aborts: one listener for all of them. */
  private readonly aborts = new Set<() => void>();
  private beat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly held: Map<string, string[]>;
  private readonly team: TeamServices;
  /**
   * The fan-ins added as flows, by job id, each until its task is submitted (it is released
   * then) or the session closes (it is removed: the scheduler never asked for it).
   */
  private readonly flows = new Map<string, { queue: string; flow: Promise<FanInFlow> }>();
  /** The fan-ins released: an input sent after its fan-in (none is, in a graph) is a job of its own. */
  private readonly released = new Set<string>();

  constructor(
    private readonly engine: RedisEngine,
    /** The session's id; its key is set already. */
    readonly id: string,
    private readonly request: OpenRequest,
    beats: WorkerBeat[],
    private readonly done: () => Promise<void>,
  ) {
    this.held = new Map([...request.wanted.keys()].map((type) => [type, beats.filter((b) => b.types.includes(type)).map((b) => instanceId(type, b.id))]));
    this.team = {
      delegate: async (r: DelegationRequest): Promise<Performance> => {
        const { spec, hooks } = delegatedTask(request.owner, r);
        return delegatedResult(await this.submit(spec, hooks));
      },
      status: (role) => this.status(role),
    };
  }

  private get target(): EngineTarget {
    return this.engine.target;
  }

  /** Keeps the session's key alive (it was set as the session opened) and starts reading its relay stream. */
  start(): void {
    const redis = this.engine.redis();
    this.beat = setInterval(() => {
      void keepAlive(redis, keys.session(this.target, this.id), this.request.owner).catch((err: Error) => this.engine.warn(err));
      void this.reconcile().catch((err: Error) => this.engine.warn(err));
    }, SESSION_BEAT_MS);
    this.beat.unref();
    // The workers' messages for this session's jobs come on its relay stream, read by the
    // process's one reader of the engine's streams: a session opens no connection of its own.
    this.unread = this.engine.readRelay(keys.relay(this.target, this.id), (fields) => {
      const message = payload<RelayMessage>(fields);
      if (message) this.handle(message);
    });
  }

  private handle(message: RelayMessage): void {
    if (message.t === 'done') {
      this.waiters.get(message.job)?.resolve(message.result);
      return;
    }
    const task = this.tasks.get(message.job);
    if (message.t === 'started') {
      if (!task) return;
      const first = task.agentId === undefined;
      task.worker = message.worker;
      task.agentId = message.agent;
      task.executions = message.executions;
      if (first) void Promise.resolve(task.onStart?.(message.agent)).catch((err: Error) => this.engine.warn(err));
      else this.engine.options.logger?.warn?.(`${message.job}: its worker was lost; run again on ${message.agent} (execution ${message.executions})`);
      return;
    }
    answerRequest(message.request, task, (body) => void this.send(message.worker, { t: 'reply', seq: message.seq, body }));
  }

  /**
   * Resolves with the job's result once a worker finishes it (its `done` message on the
   * session's relay stream); waiting starts at once, so call it before the job is added.
   * `cancel` stops waiting.
   */
  private finished(queue: string, jobId: string, worker?: string): { done: Promise<JobResult>; cancel: () => void } {
    let cancel = (): void => {};
    const done = new Promise<JobResult>((resolve, reject) => {
      const entry = {
        queue,
        worker,
        since: Date.now(),
        resolve: (r: JobResult) => (this.waiters.delete(jobId), resolve(r)),
        reject: (e: Error) => (this.waiters.delete(jobId), reject(e)),
      };
      this.waiters.set(jobId, entry);
      cancel = () => {
        if (this.waiters.get(jobId) === entry) this.waiters.delete(jobId);
      };
    });
    return { done, cancel };
  }

  /**
   * A job's end is heard from its worker; should that message be lost (the worker cut off
   * from Redis as it sent it, a resumed run taking the job over just after), or the job be
   * removed from its queue by hand, the job's own hash says so: jobs waited for longer than
   * a beat are looked up every beat. A job on a worker's own queue has no other worker to
   * take it: once that worker is gone (stopped, or dead with its lock lapsed), the job is
   * taken off its queue and given up.
   */
  private async reconcile(): Promise<void> {
    const due = [...this.waiters].filter(([, w]) => Date.now() - w.since >= SESSION_BEAT_MS);
    if (due.length === 0) return;
    const batch = this.engine.redis().multi();
    for (const [jobId, w] of due) batch.hmget(`${keys.bullPrefix(this.target)}:${w.queue}:${jobId}`, 'timestamp', 'finishedOn', 'returnvalue', 'failedReason');
    const answers = (await batch.exec()) ?? [];
    const live = due.some(([, w]) => w.worker !== undefined) ? new Set((await this.engine.workers()).map((b) => b.id)) : undefined;
    for (const [i, [jobId, w]] of due.entries()) {
      const [err, fields] = answers[i] ?? [];
      if (err || !Array.isArray(fields)) continue;
      const [created, finishedOn, returnvalue, failedReason] = fields as (string | null)[];
      if (!created) w.reject(new Error('the job was removed from its queue'));
      else if (finishedOn) {
        if (returnvalue) w.resolve(JSON.parse(returnvalue) as JobResult);
        else w.reject(new Error(failedReason ?? 'the job failed'));
      } else if (w.worker !== undefined && live && !live.has(w.worker)) {
        // A lock still held ends within a stall interval: it is tried again at the next beat.
        const removed = await this.engine
          .queue(w.queue)
          .remove(jobId)
          .catch(() => 0);
        if (removed === 1) w.reject(new Error(`worker ${w.worker}, which it was sent to, is gone`));
      }
    }
  }

  /**
   * The queue a task goes to. Most go to their type's queue, for any worker that serves it;
   * one pinned to an instance (a retry on the same agent) goes to that worker's own queue,
   * and one that must avoid an instance (a reassignment) to the own queue of the least
   * busy other worker serving its type. A string says why neither can be done.
   */
  private async place(task: TaskSpec): Promise<{ queue: string; worker?: string; agent?: string } | string> {
    const single = this.request.single;
    const pin = task.pin ?? (single?.only ? single.prefer : undefined);
    const avoid = task.avoid ?? single?.avoid;
    const prefer = pin === undefined ? single?.prefer : undefined;
    const type = task.agentType;
    if (pin === undefined && avoid === undefined && prefer === undefined) return { queue: type };
    const serving = (await this.engine.workers()).filter((b) => b.types.includes(type) && !b.draining);
    const to = (b: WorkerBeat) => ({ queue: ownQueue(b.id), worker: b.id, agent: instanceId(type, b.id) });
    if (pin !== undefined) {
      const b = serving.find((w) => instanceId(type, w.id) === pin);
      return b ? to(b) : `agent ${pin} is not a live worker serving \`${type}\``;
    }
    if (avoid !== undefined) {
      const others = serving.filter((w) => instanceId(type, w.id) !== avoid);
      if (others.length === 0) return `no live worker serving \`${type}\` other than ${avoid}`;
      const least = Math.min(...others.map((w) => w.running / Math.max(1, w.concurrency)));
      const idlest = others.filter((w) => w.running / Math.max(1, w.concurrency) === least);
      return to(idlest[Math.floor(Math.random() * idlest.length)]!);
    }
    // Preferred, the instance takes it when its worker has a free slot; otherwise any worker may.
    const b = serving.find((w) => instanceId(type, w.id) === prefer && w.running < w.concurrency);
    return b ? to(b) : { queue: type };
  }

  private async send(worker: string, message: ReplyMessage): Promise<void> {
    try {
      await this.engine.redis().xadd(keys.replies(this.target, worker), 'MAXLEN', '~', 10_000, '*', 'm', JSON.stringify(message));
    } catch (err) {
      this.engine.warn(err as Error);
    }
  }

  async submit(task: TaskSpec, hooks: SubmitHooks = {}): Promise<TaskOutcome> {
    const began = Date.now();
    const signal = hooks.signal ? AbortSignal.any([this.sessionSignal(), hooks.signal]) : this.sessionSignal();
    const failed = (code: 'ORCH_CANCELLED' | 'ORCH_WORKER_DIED' | 'ORCH_ENGINE_UNREACHABLE' | 'ORCH_NO_HEALTHY_AGENT', message: string, agentId: string | null = null): TaskOutcome => ({
      ok: false,
      key: task.key,
      agentId,
      error: { code, message, retryable: code === 'ORCH_WORKER_DIED' },
      durationMs: Date.now() - began,
    });
    if (signal.aborted) return failed('ORCH_CANCELLED', 'cancelled before it started');
    const link: Submitted = { channel: hooks.channel, team: this.team, signal, onStart: hooks.onStart, executions: 0 };
    const jobId = jobIdOf(task.key);
    this.tasks.set(jobId, link);
    let onAbort: (() => void) | undefined;
    let waited: ReturnType<RedisSession['finished']> | undefined;
    try {
      // Only a task with an instance rule asks where the workers are: the rest go straight to their type's queue.
      const where = task.pin !== undefined || task.avoid !== undefined || this.request.single ? await this.place(task) : { queue: task.agentType };
      if (typeof where === 'string') return failed('ORCH_NO_HEALTHY_AGENT', where);
      waited = this.finished(where.queue, jobId, where.worker);
      const queue = this.engine.queue(where.queue);
      // A resumed run's jobs may be there already, and their requests come to this session
      // now; a new run's or task's go to the session its job names.
      const exists = this.request.fresh ? false : await this.engine.enlist(where.queue, jobId, this.id);
      let job: Job | undefined;
      if (exists) {
        job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'unknown';
        const kept = job?.returnvalue as JobResult | null | undefined;
        // A resumed run's job that finished while it was away is done; a single task
        // (assign_task, handle_failure) is never resumed: one named as before runs again.
        if (state === 'completed' && kept?.ok && !this.request.single) return this.outcome(task, kept, began);
        // A failure, or a job a worker gave up on, is run again: the scheduler asked for it.
        // (Its children, a fan-in's inputs, stay: they are tasks of their own.)
        if (job && (state === 'completed' || state === 'failed')) {
          await job.remove({ removeChildren: false });
          job = undefined;
        }
        // A fan-in an earlier session of the run added as a flow, still held by its gate.
        else if (job && state === 'waiting-children') {
          const gate = await this.engine.queue(GATE_QUEUE).getJob(gateOf(jobId));
          job = await this.release({ parent: job, gate }, data(task, hooks, this.id));
        }
      }
      // Only a new run's session holds flows (fanInOf makes none otherwise).
      const flow = this.flows.get(jobId);
      if (flow && flow.queue === where.queue) {
        // The fan-in of inputs this session added: given its task, BullMQ starts it once they
        // are all done. Until it is released, closing the session still removes it.
        job = await this.release(await flow.flow, data(task, hooks, this.id));
        this.flows.delete(jobId);
        this.released.add(jobId);
      }
      // A job there already (a released fan-in) cannot be given a parent.
      job ??= await this.engine.add(where.queue, task.action || 'task', data(task, hooks, this.id), jobId, task.joins && (await this.fanInOf(task.joins)));
      const added = job;
      const cancelled = new Promise<TaskOutcome>((resolve) => {
        onAbort = () => void this.cancel(added, link, String(signal.reason ?? 'cancelled')).then((gone) => gone && resolve(failed('ORCH_CANCELLED', `cancelled (${String(signal.reason ?? 'cancelled')})`, link.agentId ?? null)));
        if (signal === this.signal) this.aborts.add(onAbort);
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      const finished = waited.done.then(
        (result: JobResult) => this.outcome(task, result, began),
        (err: unknown) => failed('ORCH_WORKER_DIED', `the job was given up: ${toFailure(err).message}`, link.agentId ?? where.agent ?? null),
      );
      return await Promise.race([finished, cancelled]);
    } catch (err) {
      const failure = toFailure(err);
      return failed('ORCH_ENGINE_UNREACHABLE', `${this.target.shown}: ${failure.message}`, link.agentId ?? null);
    } finally {
      waited?.cancel();
      if (onAbort) {
        this.aborts.delete(onAbort);
        signal.removeEventListener('abort', onAbort);
      }
      this.tasks.delete(jobId);
    }
  }

  /**
   * The flow of the fan-in a task feeds, added when its first input is submitted: where the
   * input names its parent. A fan-in placed on a worker's own queue is not one (only a
   * first attempt is, and it goes to its type's queue).
   */
  private async fanInOf(joins: FanIn): Promise<ParentOptions | undefined> {
    const id = jobIdOf(joins.key);
    // Only a new run's session makes flows, none once its fan-in was released or the session closes.
    if (!this.request.fresh || this.released.has(id) || this.controller.signal.aborted) return undefined;
    let entry = this.flows.get(id);
    if (!entry) {
      const held: JobData = { task: { key: joins.key, agentType: joins.agentType, action: joins.action, input: {}, ids: {} }, session: this.id, held: true };
      entry = { queue: joins.agentType, flow: this.engine.fanIn(joins.agentType, joins.action || 'task', held, id) };
      this.flows.set(id, entry);
    }
    try {
      await entry.flow;
    } catch (err) {
      // Without its flow, the input is a job of its own and the fan-in one too: the run goes on.
      if (this.flows.get(id) === entry) this.flows.delete(id);
      this.engine.warn(err as Error);
      return undefined;
    }
    return this.engine.parentOf(joins.agentType, id);
  }

  /** Gives a held fan-in its task and lifts its gate: BullMQ moves it to its queue once its inputs are done too. */
  private async release(flow: { parent: Job; gate: Job | undefined }, data: JobData): Promise<Job> {
    await flow.parent.updateData(data);
    if (flow.gate) {
      await flow.gate.removeChildDependency();
      await flow.gate.remove();
    }
    return flow.parent;
  }

  /**
   * Cancels a job: one still queued leaves the queue (true: it is gone); one running is
   * cancelled by its worker, whose result then ends the task — or, when the worker does
   * not answer in time, it is given up on (true).
   */
  /** The run's signal and the session's, made once: hundreds of tasks share it. */
  private sessionSignal(): AbortSignal {
    if (!this.signal) {
      const signal = AbortSignal.any([this.request.signal, this.controller.signal]);
      signal.addEventListener('abort', () => [...this.aborts].forEach((abort) => abort()), { once: true });
      this.signal = signal;
    }
    return this.signal;
  }

  private async cancel(job: Job, link: Submitted, reason: string): Promise<boolean> {
    try {
      const state = await job.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
        await job.remove({ removeChildren: false });
        return true;
      }
    } catch {
      // Locked by a worker that just took it: cancel it there.
    }
    if (link.worker) await this.send(link.worker, { t: 'cancel', job: job.id!, reason });
    await new Promise((r) => setTimeout(r, CANCEL_WAIT_MS).unref());
    // Given up, it no longer holds up the fan-in it feeds.
    if (job.parentKey) await job.removeChildDependency().catch(() => undefined);
    return true;
  }

  private outcome(task: TaskSpec, result: JobResult, began: number): TaskOutcome {
    const durationMs = Date.now() - began;
    const again = result.executions > 1 ? { reexecuted: result.executions - 1 } : {};
    if (result.ok) return { ok: true, key: task.key, agentId: result.agentId, value: result.value, ...(result.usage && { usage: result.usage }), durationMs, ...again };
    return { ok: false, key: task.key, agentId: result.agentId, error: result.error, durationMs, ...again };
  }

  async capacity(agentType: string): Promise<Capacity> {
    const pool = await this.engine.pool(agentType, await this.engine.workers());
    return { healthy: pool.available + pool.busy, busy: pool.busy, queued: pool.queued };
  }

  async healthyAgents(agentType: string): Promise<string[]> {
    return (await this.engine.workers()).filter((b) => b.types.includes(agentType) && !b.draining).map((b) => instanceId(agentType, b.id));
  }

  leased(): ReadonlyMap<string, readonly string[]> {
    return this.held;
  }

  private async status(role?: string): Promise<unknown> {
    const types = [...this.engine.types.keys()].filter((t) => role === undefined || t === role);
    if (role !== undefined && types.length === 0) throw new Error(`the team has no agent \`${role}\`; its agents are: ${[...this.engine.types.keys()].join(', ')}`);
    const beats = await this.engine.workers();
    const own = this.engine.ownJobs(beats);
    const pools = await Promise.all(types.map((type) => this.engine.pool(type, beats, own)));
    return {
      engine: this.target.shown,
      agents: pools.map((p) => ({
        agent: p.type,
        instances: p.instances,
        workers: beats.filter((b) => b.types.includes(p.type)).length,
        available: p.available,
        busy: p.busy,
        queued: p.queued,
        unhealthy: 0,
      })),
    };
  }

  /** Removes a fan-in never submitted (its inputs failed, the run stopped before it), then its gate. */
  private async drop(flow: Promise<FanInFlow>): Promise<void> {
    const made = await flow.catch(() => undefined);
    if (!made) return;
    // The gate goes even when the parent could not: each on its own.
    for (const job of [made.parent, made.gate]) await job.remove({ removeChildren: false }).catch((err: Error) => this.engine.warn(err));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.controller.abort();
      if (this.beat) clearInterval(this.beat);
      this.unread?.();
      await bounded(Promise.all([...this.flows.values()].map((f) => this.drop(f.flow))));
      this.flows.clear();
      const redis = this.engine.redis();
      await bounded(redis.del(keys.relay(this.target, this.id), keys.session(this.target, this.id)));
      await this.done();
    })();
    return this.closing;
  }
}
