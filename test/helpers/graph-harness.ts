import type { TaskEvent } from '../../src/orchestration/events.js';
import type { Capacity, EngineSession } from '../../src/engine/engine.js';
import { toFailure, type TaskOutcome, type TaskSpec } from '../../src/engine/task.js';
import { mergePolicy, type FailurePolicy } from '../../src/orchestration/failure-policy.js';
import type { Subtask } from '../../src/orchestration/plan.js';
import { runGraph, type Execute, type SubtaskResult } from '../../src/orchestration/run-graph.js';

// Every construction of runGraph's options, the fake Executor and the fake `execute` is in
// this file, so a change to those interfaces is absorbed here and the tests (which speak
// of subtasks, calls, results and events) stay as they are.

const TYPE = 'worker';

/** A planned subtask; `more` overrides the defaults (agent type `worker`, tool `work`). */
export function subtask(id: string, more: Partial<Omit<Subtask, 'id'>> = {}): Subtask {
  return { id, agentType: TYPE, tool: 'work', input: {}, dependsOn: [], ...more };
}

/** One attempt runGraph asked for, and the instance the fake executor gave it. */
export interface GraphCall {
  subtask: string;
  input: Record<string, unknown>;
  where: { pin?: string; avoid?: string };
  /** Null when no healthy instance fitted `where`. */
  agentId: string | null;
  /** 1 for the subtask's first attempt. */
  attempt: number;
}

export interface GraphContext {
  /** Resolves when runGraph emits an event that `match` accepts. */
  event(match: (event: TaskEvent) => boolean): Promise<TaskEvent>;
  /** Takes an instance out of the healthy list, as the executor does after repeated failures. */
  markUnhealthy(agentId: string): void;
}

/** A fake subtask's tool: its return value is the result; throwing fails the attempt (see `failure`). */
export type SubtaskBehaviour = (call: GraphCall, ctx: GraphContext) => unknown;

export interface GraphOptions {
  /** Behaviour per subtask id; one without succeeds with `{ subtask: <id> }`. */
  behave?: Record<string, SubtaskBehaviour>;
  policy?: Partial<FailurePolicy>;
  /** Healthy instances per agent type; default `worker: [w1, w2]`. */
  agents?: Record<string, string[]>;
  signal?: AbortSignal;
}

export interface GraphRun {
  results: Map<string, SubtaskResult>;
  events: TaskEvent[];
  calls: GraphCall[];
}

/** An error with an `ORCH_*` code, as a tool or executor reports one. */
export function failure(code: string, message = `failed with ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** Runs `subtasks` through runGraph with a fake executor over the given instances. */
export async function runSubtasks(subtasks: Subtask[], options: GraphOptions = {}): Promise<GraphRun> {
  const healthy = new Map(Object.entries(options.agents ?? { [TYPE]: ['w1', 'w2'] }).map(([type, ids]) => [type, [...ids]]));
  const events: TaskEvent[] = [];
  const calls: GraphCall[] = [];
  const watchers: { match: (event: TaskEvent) => boolean; resolve: (event: TaskEvent) => void }[] = [];
  const ctx: GraphContext = {
    event: (match) => {
      const seen = events.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => watchers.push({ match, resolve }));
    },
    markUnhealthy: (agentId) => {
      for (const ids of healthy.values()) if (ids.includes(agentId)) ids.splice(ids.indexOf(agentId), 1);
    },
  };

  const executor: EngineSession = {
    async submit(task: TaskSpec): Promise<TaskOutcome> {
      const ids = healthy.get(task.agentType) ?? [];
      const agentId = (task.pin !== undefined ? ids.find((id) => id === task.pin) : ids.find((id) => id !== task.avoid)) ?? null;
      const where: GraphCall['where'] = {};
      if (task.pin !== undefined) where.pin = task.pin;
      if (task.avoid !== undefined) where.avoid = task.avoid;
      const attempt = calls.filter((c) => c.subtask === task.key).length + 1;
      const call: GraphCall = { subtask: task.key, input: task.input, where, agentId, attempt };
      calls.push(call);
      if (agentId === null) {
        const error = { code: 'ORCH_NO_HEALTHY_AGENT' as const, message: 'no healthy instance', retryable: false };
        return { ok: false, key: task.key, agentId, error, durationMs: 0 };
      }
      try {
        const value = await (options.behave?.[task.key] ?? (() => ({ subtask: task.key })))(call, ctx);
        return { ok: true, key: task.key, agentId, value, durationMs: 0 };
      } catch (err) {
        return { ok: false, key: task.key, agentId, error: toFailure(err), durationMs: 0 };
      }
    },
    capacity: async (agentType): Promise<Capacity> => ({ healthy: healthy.get(agentType)?.length ?? 0, busy: 0, queued: 0 }),
    healthyAgents: async (agentType) => [...(healthy.get(agentType) ?? [])],
    leased: () => new Map(),
    close: async () => undefined,
  };
  // As orchestrate wires it: one attempt is one submission to the executor.
  const execute: Execute = (s, input, where) => executor.submit({ key: s.id, agentType: s.agentType, action: s.tool ?? '', input, ids: { task: 'task-1', subtask: s.id }, ...where });

  const results = await runGraph(subtasks, {
    taskId: 'task-1',
    executor,
    policy: mergePolicy(options.policy),
    execute,
    onEvent: (event) => {
      events.push(event);
      for (const w of watchers.filter((x) => x.match(event))) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(event);
      }
    },
    signal: options.signal,
  });
  return { results, events, calls };
}
