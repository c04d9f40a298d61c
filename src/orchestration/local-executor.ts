import type { InstanceReport } from '../agents/pool.js';
import { UNHEALTHY_AFTER } from '../agents/types.js';
import { blamesAgent, taskError, type Capacity, type Executor, type TaskError, type TaskOutcome, type TaskRunner, type TaskSpec } from './executor.js';

interface Slot {
  id: string;
  type: string;
  busy: boolean;
  completed: number;
  failures: number;
  consecutive: number;
  lastActive: string | null;
}

interface Waiting {
  spec: TaskSpec;
  resolve: (outcome: TaskOutcome) => void;
}

/**
 * The in-process executor: one FIFO queue per agent type drained by that type's leased
 * instances, each running one task at a time. An instance that fails more than
 * UNHEALTHY_AFTER times in a row gets no more work (cancellations and errors in the
 * call itself do not count: they say nothing about the instance); a task no healthy
 * instance can take fails at once instead of waiting forever.
 */
export class LocalExecutor implements Executor {
  private readonly slots = new Map<string, Slot[]>();
  private readonly queues = new Map<string, Waiting[]>();
  private readonly controller = new AbortController();
  private closed = false;

  constructor(
    leased: ReadonlyMap<string, readonly string[]>,
    private readonly runnerFor: (agentType: string) => TaskRunner,
    signal?: AbortSignal,
  ) {
    for (const [type, ids] of leased) {
      this.slots.set(type, ids.map((id) => ({ id, type, busy: false, completed: 0, failures: 0, consecutive: 0, lastActive: null })));
    }
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  submit(spec: TaskSpec): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(failed(spec, null, 'ORCH_CANCELLED', 'cancelled before it ran'));
      if (!(this.slots.get(spec.agentType) ?? []).some((s) => healthy(s) && fits(s, spec))) {
        return resolve(failed(spec, null, 'ORCH_NO_HEALTHY_AGENT', noAgentMessage(spec)));
      }
      const queue = this.queues.get(spec.agentType) ?? [];
      this.queues.set(spec.agentType, queue);
      queue.push({ spec, resolve });
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

  healthyAgents(agentType: string): string[] {
    return (this.slots.get(agentType) ?? []).filter(healthy).map((s) => s.id);
  }

  reports(): InstanceReport[] {
    return [...this.slots.values()].flat().map((s) => ({
      id: s.id,
      completed: s.completed,
      failures: s.failures,
      consecutiveFailures: s.consecutive,
      lastActive: s.lastActive,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    for (const queue of this.queues.values()) {
      for (const w of queue.splice(0)) w.resolve(failed(w.spec, null, 'ORCH_CANCELLED', 'cancelled before it ran'));
    }
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
      w.resolve(failed(w.spec, null, 'ORCH_NO_HEALTHY_AGENT', noAgentMessage(w.spec)));
      return false;
    });
    this.queues.set(type, keep);
  }

  private async start(slot: Slot, waiting: Waiting): Promise<void> {
    slot.busy = true;
    const started = Date.now();
    const { spec } = waiting;
    let outcome: TaskOutcome;
    try {
      const value = await this.runnerFor(slot.type)({ id: slot.id, type: slot.type }, spec.tool, spec.input, this.controller.signal);
      slot.completed++;
      slot.consecutive = 0;
      outcome = { ok: true, key: spec.key, agentId: slot.id, value, durationMs: Date.now() - started };
    } catch (err) {
      // However a tool reports being stopped, a task cut short by close() was cancelled.
      const error: TaskError = this.controller.signal.aborted ? { code: 'ORCH_CANCELLED', message: `cancelled while running on ${slot.id}` } : taskError(err);
      if (blamesAgent(error)) {
        slot.failures++;
        slot.consecutive++;
      }
      outcome = { ok: false, key: spec.key, agentId: slot.id, error, durationMs: Date.now() - started };
    }
    slot.busy = false;
    slot.lastActive = new Date().toISOString();
    waiting.resolve(outcome);
    if (!healthy(slot)) this.sweep(slot.type);
    this.pump(slot.type);
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

function failed(spec: TaskSpec, agentId: string | null, code: TaskError['code'], message: string): TaskOutcome {
  return { ok: false, key: spec.key, agentId, error: { code, message }, durationMs: 0 };
}
