import type { InstanceReport } from '../agents/pool.js';
import { UNHEALTHY_AFTER } from '../agents/types.js';
import type { Capacity, SubmitHooks } from './engine.js';
import type { ErrorCode } from '../error-codes.js';
import { blamesAgent, retryableCode, toFailure, type TaskFailure, type TaskOutcome, type TaskSpec } from './task.js';
import type { Instance, Worker } from './worker.js';
import type { TeamServices } from '../agents/action.js';

interface Slot {
  id: string;
  type: string;
  /** What a worker is told of the instance it runs a task on: one object for all its tasks. */
  instance: Instance;
  busy: boolean;
  completed: number;
  failures: number;
  consecutive: number;
  /** Epoch ms of the last task it finished; formatted only for the report. */
  lastActive: number | null;
}

interface Waiting {
  spec: TaskSpec;
  hooks: SubmitHooks;
  resolve: (outcome: TaskOutcome) => void;
  /** While it runs with a signal of its own: what aborts its action. */
  controller?: AbortController;
}

/**
 * The leased instances of one session and their queues: one FIFO queue per agent type,
 * drained by that type's instances, each running one task at a time. An instance that
 * fails more than UNHEALTHY_AFTER times in a row gets no more work (cancellations and
 * failures no attempt could fix do not count: they say nothing about the instance); a
 * task no healthy instance can take fails at once instead of waiting forever.
 */
export class Slots {
  private readonly slots = new Map<string, Slot[]>();
  private readonly queues = new Map<string, Waiting[]>();
  private readonly controller = new AbortController();
  private readonly watched = new Map<AbortSignal, { tasks: Set<Waiting>; onAbort: () => void }>();
  /** Running tasks with a controller of their own, aborted when the session closes. */
  private readonly running = new Set<Waiting>();
  private closed = false;

  constructor(
    leased: ReadonlyMap<string, readonly string[]>,
    private readonly workerFor: (instance: Instance) => Worker,
    private readonly outer?: AbortSignal,
    /** What actions run here may do with the rest of the team; set by the engine once the session exists. */
    public team?: TeamServices,
  ) {
    for (const [type, ids] of leased) {
      this.slots.set(type, ids.map((id) => ({ id, type, instance: { id, type }, busy: false, completed: 0, failures: 0, consecutive: 0, lastActive: null })));
    }
    outer?.addEventListener('abort', () => void this.close(outer.reason), { once: true });
  }

  submit(spec: TaskSpec, hooks: SubmitHooks = {}): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      if (this.closed || hooks.signal?.aborted) return resolve(failed(spec, 'ORCH_CANCELLED', 'cancelled before it ran'));
      if (!(this.slots.get(spec.agentType) ?? []).some((s) => healthy(s) && fits(s, spec))) {
        return resolve(failed(spec, 'ORCH_NO_HEALTHY_AGENT', noAgentMessage(spec)));
      }
      const queue = this.queues.get(spec.agentType) ?? [];
      this.queues.set(spec.agentType, queue);
      const waiting: Waiting = {
        spec,
        hooks,
        resolve: (outcome) => {
          this.unwatch(waiting);
          resolve(outcome);
        },
      };
      queue.push(waiting);
      this.watch(waiting);
      this.pump(spec.agentType);
    });
  }

  capacity(agentType: string): Capacity {
    const slots = this.slots.get(agentType) ?? [];
    return {
      healthy: slots.filter(healthy).length,
      busy: slots.filter((s) => s.busy).length,
      queued: this.queues.get(agentType)?.length ?? 0,
    };
  }

  /** Whether the session holds instances of the type. */
  holds(agentType: string): boolean {
    return (this.slots.get(agentType)?.length ?? 0) > 0;
  }

  healthyAgents(agentType: string): string[] {
    return (this.slots.get(agentType) ?? []).filter(healthy).map((s) => s.id);
  }

  reports(): InstanceReport[] {
    return [...this.slots.values()].flat().map((s) => ({
      id: s.id,
      completed: s.completed,
      failures: s.failures,
      consecutiveFailures: s.consecutive,
      lastActive: s.lastActive === null ? null : new Date(s.lastActive).toISOString(),
    }));
  }

  async close(reason?: unknown): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort(reason);
    for (const w of this.running) w.controller?.abort(reason);
    for (const queue of this.queues.values()) {
      for (const w of queue.splice(0)) w.resolve(failed(w.spec, 'ORCH_CANCELLED', 'cancelled before it ran'));
    }
  }

  /**
   * One listener per signal, however many tasks share it (a run's 1,000 steps, a server's
   * calls): when it fires, queued tasks leave the queue and running ones are aborted.
   */
  private watch(waiting: Waiting): void {
    const signal = waiting.hooks.signal;
    // The session's own signal needs no watch: aborting it closes the session, which
    // cancels what is queued and aborts what runs.
    if (!signal || signal === this.outer) return;
    let watched = this.watched.get(signal);
    if (!watched) {
      const tasks = new Set<Waiting>();
      const onAbort = (): void => {
        for (const w of [...tasks]) {
          if (w.controller) w.controller.abort(signal.reason);
          else this.dequeue(w);
        }
      };
      watched = { tasks, onAbort };
      this.watched.set(signal, watched);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    watched.tasks.add(waiting);
  }

  private unwatch(waiting: Waiting): void {
    const signal = waiting.hooks.signal;
    const watched = signal && this.watched.get(signal);
    if (!signal || !watched) return;
    watched.tasks.delete(waiting);
    if (watched.tasks.size > 0) return;
    signal.removeEventListener('abort', watched.onAbort);
    this.watched.delete(signal);
  }

  /** A task cancelled while it waited for an instance leaves the queue. */
  private dequeue(waiting: Waiting): void {
    const queue = this.queues.get(waiting.spec.agentType) ?? [];
    const at = queue.indexOf(waiting);
    if (at < 0) return;
    queue.splice(at, 1);
    waiting.resolve(failed(waiting.spec, 'ORCH_CANCELLED', 'cancelled before it ran'));
  }

  /** Starts queued tasks of the type, oldest first, while an instance they fit is idle. */
  private pump(type: string): void {
    const queue = this.queues.get(type) ?? [];
    const slots = this.slots.get(type) ?? [];
    for (let i = 0; i < queue.length && slots.some(idle); ) {
      const waiting = queue[i];
      const slot = waiting && slots.find((s) => idle(s) && fits(s, waiting.spec));
      if (!waiting || !slot) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      void this.start(slot, waiting);
    }
  }

  /** Fails the queued tasks that no healthy instance could ever take. */
  private sweep(type: string): void {
    const slots = this.slots.get(type) ?? [];
    const keep = (this.queues.get(type) ?? []).filter((w) => {
      if (slots.some((s) => healthy(s) && fits(s, w.spec))) return true;
      w.resolve(failed(w.spec, 'ORCH_NO_HEALTHY_AGENT', noAgentMessage(w.spec)));
      return false;
    });
    this.queues.set(type, keep);
  }

  private async start(slot: Slot, waiting: Waiting): Promise<void> {
    slot.busy = true;
    const { spec } = waiting;
    let outcome: TaskOutcome;
    let started = Date.now();
    const own = waiting.hooks.signal;
    // The session's own signal (closing it, or the run's signal it was opened with) needs no link.
    // A task's own signal (a step's timeout) aborts it through the one listener its signal has (watch).
    if (own && own !== this.outer) {
      waiting.controller = new AbortController();
      this.running.add(waiting);
      if (own.aborted || this.controller.signal.aborted) waiting.controller.abort(own.aborted ? own.reason : this.controller.signal.reason);
    }
    const signal = waiting.controller?.signal ?? this.controller.signal;
    try {
      await waiting.hooks.onStart?.(slot.id);
      started = Date.now();
      const done = await this.workerFor(slot).run(spec, slot.instance, signal, waiting.hooks.channel, this.team);
      slot.completed++;
      slot.consecutive = 0;
      outcome = { ok: true, key: spec.key, agentId: slot.id, value: done.output, usage: done.usage, durationMs: Date.now() - started };
    } catch (err) {
      // However a tool reports being stopped, a task cut short by close() was cancelled.
      const error: TaskFailure = this.controller.signal.aborted ? { code: 'ORCH_CANCELLED', message: `cancelled while running on ${slot.id}`, retryable: false } : toFailure(err);
      if (blamesAgent(error)) {
        slot.failures++;
        slot.consecutive++;
      }
      outcome = { ok: false, key: spec.key, agentId: slot.id, error, durationMs: Date.now() - started, cause: err };
    }
    this.running.delete(waiting);
    slot.busy = false;
    slot.lastActive = Date.now();
    waiting.resolve(outcome);
    if (!healthy(slot)) this.sweep(slot.type);
    // The next queued task starts once the caller has taken this outcome in: a scheduler
    // that stops on a failure withdraws what is queued before it could start, and what
    // it journals of this task comes before what the next one journals.
    // (Nothing queued: a task submitted meanwhile starts from submit, as it would here.)
    if ((this.queues.get(slot.type)?.length ?? 0) > 0) setImmediate(() => this.pump(slot.type));
  }
}

function healthy(slot: Slot): boolean {
  return slot.consecutive <= UNHEALTHY_AFTER;
}

function idle(slot: Slot): boolean {
  return !slot.busy && healthy(slot);
}

function fits(slot: Slot, spec: TaskSpec | undefined): boolean {
  return spec !== undefined && (spec.pin === undefined || spec.pin === slot.id) && spec.avoid !== slot.id;
}

function noAgentMessage(spec: TaskSpec): string {
  if (spec.pin !== undefined) return `agent ${spec.pin} is unhealthy or not in the pool`;
  if (spec.avoid !== undefined) return `no healthy ${spec.agentType} instance other than ${spec.avoid}`;
  return `no healthy ${spec.agentType} instance is left to run it`;
}

function failed(spec: TaskSpec, code: ErrorCode, message: string): TaskOutcome {
  return { ok: false, key: spec.key, agentId: null, error: { code, message, retryable: retryableCode(code) }, durationMs: 0 };
}
