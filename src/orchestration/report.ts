import type { Coordination } from '../config/model.js';
import type { Subtask } from './plan.js';
import { referencedIds } from './refs.js';
import { isoTime } from '../util/iso-time.js';
import type { SubtaskResult } from './run-graph.js';

export type TaskStatus = 'completed' | 'partial' | 'failed';

/** `started_at` and `duration_ms`: when the subtask started and how long it took over all its attempts (absent when it never ran). */
export type SubtaskEntry = SubtaskResult & { agent_type: string; tool: string | null; started_at?: string; duration_ms?: number };

/** What `orchestrate` returns and `.orch/tasks/<task_id>/report.json` keeps. */
export interface OrchestrationReport {
  task_id: string;
  /** `completed` only when every subtask succeeded; `failed` when none did. */
  status: TaskStatus;
  coordination: Coordination;
  /** Subtasks that ran at least once (the rest failed before starting). */
  subtasks_executed: number;
  /** Queue engine: times a subtask was started again after its worker was lost (at-least-once); absent when none was. */
  reexecutions?: number;
  /** The combined result, as the coordination pattern defines it. */
  result: unknown;
  summary: string;
  /** Seconds from start to finish. */
  execution_time: number;
  /** Every subtask exactly once, by id: its result or its error. */
  subtasks: Record<string, SubtaskEntry>;
  agents_used: string[];
  /** Pattern-specific detail: auction bids, the blackboard, workers. */
  details?: Record<string, unknown>;
  /** With `orchestration.aggregate: llm`: the planner's own rating of the result, 0 to 1. */
  quality_score?: number;
}

export function taskStatus(results: Iterable<SubtaskResult>): TaskStatus {
  let ok = 0;
  let failed = 0;
  for (const r of results) if (r.status === 'succeeded') ok++; else failed++;
  if (failed === 0) return 'completed';
  return ok === 0 ? 'failed' : 'partial';
}

export function buildReport(options: {
  taskId: string;
  coordination: Coordination;
  subtasks: readonly Subtask[];
  results: ReadonlyMap<string, SubtaskResult>;
  result: unknown;
  startedAt: number;
  details?: Record<string, unknown>;
  timings?: ReadonlyMap<string, { startedAt: number; endedAt: number }>;
}): OrchestrationReport {
  const entries: Record<string, SubtaskEntry> = {};
  for (const s of options.subtasks) {
    const r = options.results.get(s.id);
    const t = options.timings?.get(s.id);
    // Object.assign, not a spread with keys after it, which costs many times more: this runs for every subtask.
    if (r) entries[s.id] = Object.assign({}, r, { agent_type: s.agentType, tool: s.tool ?? null }, t && { started_at: isoTime(t.startedAt), duration_ms: t.endedAt - t.startedAt });
  }
  const all = Object.entries(entries);
  const failed = all.filter(([, r]) => r.status === 'failed');
  const agents = new Set(all.flatMap(([, r]) => (r.agent_id === null ? [] : [r.agent_id])));
  const shown = failed.slice(0, 3).map(([id, r]) => `${id}: ${r.status === 'failed' ? r.error.message : ''}`);
  const more = failed.length > 3 ? `; ${failed.length - 3} more` : '';
  return {
    task_id: options.taskId,
    status: taskStatus(options.results.values()),
    coordination: options.coordination,
    subtasks_executed: all.filter(([, r]) => r.attempts > 0).length,
    ...reexecutions(all.map(([, r]) => r)),
    result: options.result,
    summary:
      `${all.length - failed.length} of ${all.length} subtasks succeeded` +
      (failed.length ? `; ${failed.length} failed (${shown.join('; ')}${more})` : '') +
      ` (${options.coordination}, ${agents.size} agent${agents.size === 1 ? '' : 's'})`,
    execution_time: Math.round(Date.now() - options.startedAt) / 1000,
    subtasks: entries,
    agents_used: [...agents].sort(),
    ...(options.details ? { details: options.details } : {}),
  };
}

/**
 * On the queue engine a subtask runs at least once: the times one was started again after
 * its worker was lost, in total (absent when none was).
 */
function reexecutions(results: readonly SubtaskResult[]): { reexecutions?: number } {
  const n = results.reduce((sum, r) => sum + (r.reexecuted ?? 0), 0);
  return n > 0 ? { reexecutions: n } : {};
}

/** Results of the subtasks no other subtask depends on, by id: the ends of the graph. */
export function sinkResults(subtasks: readonly Subtask[], results: ReadonlyMap<string, SubtaskResult>): Record<string, unknown> {
  const needed = new Set(subtasks.flatMap((s) => [...s.dependsOn, ...referencedIds(s.input)]));
  const out: Record<string, unknown> = {};
  for (const s of subtasks) {
    const r = results.get(s.id);
    if (!needed.has(s.id) && r?.status === 'succeeded') out[s.id] = r.result;
  }
  return out;
}
