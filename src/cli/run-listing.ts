import { TaskStore, type TaskSummary } from '../orchestration/task-store.js';
import { Redactor } from '../secrets/redact.js';
import { listRuns } from '../state/runs.js';
import { addUsage, type RunState } from '../state/run-state.js';
import type { UsageRecord } from '../state/events.js';

/**
 * One thing orch ran in a project, as `orch runs`, `orch status` and `orch logs` all show
 * it: a workflow run, or an orchestration task (`orchestrate`, `assign_task`). The three
 * commands read this one listing, so what one lists the others know.
 */
export interface RunRow {
  id: string;
  kind: 'workflow' | 'task';
  /** The workflow's name; null for a task. */
  workflow: string | null;
  /** For a task: the orchestration tool that ran it, and its coordination pattern. */
  tool?: string;
  coordination?: string;
  status: string;
  started: string;
  ended?: string;
  duration_ms: number | null;
  /** What a workflow run's model calls used, all steps together (absent when none was made). */
  usage?: { input_tokens: number; output_tokens: number };
  cost_usd?: number;
  /** The same by the agent type that made the calls (absent when none was made). */
  by_agent?: Record<string, UsageRecord>;
}

export interface RunListing {
  /** Oldest first. */
  rows: RunRow[];
  unreadable: { id: string; reason: string }[];
}

/** Task files are only read here, never written: the store's redactor has nothing to do. */
export function readOnlyTasks(stateDir: string): TaskStore {
  return new TaskStore(stateDir, new Redactor([]));
}

function workflowRow(run: RunState): RunRow {
  const end = run.endedAt ?? (run.status === 'running' ? new Date().toISOString() : undefined);
  let usage: UsageRecord | undefined;
  for (const step of run.steps.values()) if (step.usage) usage = addUsage(usage, step.usage);
  return {
    id: run.runId,
    kind: 'workflow',
    workflow: run.workflow,
    status: run.status,
    started: run.startedAt,
    ...(run.endedAt !== undefined && { ended: run.endedAt }),
    duration_ms: end ? Date.parse(end) - Date.parse(run.startedAt) : null,
    ...(usage && { usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens } }),
    ...(usage?.cost_usd !== undefined && { cost_usd: usage.cost_usd }),
    ...(Object.keys(run.usageByAgent).length > 0 && { by_agent: run.usageByAgent }),
  };
}

export function taskRow(task: TaskSummary): RunRow {
  // A task's model calls are its planner's decisions (the plan, the synthesis, recoveries).
  let usage: UsageRecord | undefined;
  const byAgent: Record<string, UsageRecord> = {};
  for (const e of task.events) {
    if (e.type !== 'llm_decision' || !e.usage) continue;
    usage = addUsage(usage, e.usage);
    byAgent[e.agent] = addUsage(byAgent[e.agent], e.usage);
  }
  return {
    id: task.id,
    kind: 'task',
    workflow: null,
    tool: task.tool,
    ...(task.coordination !== undefined && { coordination: task.coordination }),
    status: task.status,
    started: task.startedAt,
    ...(task.endedAt !== undefined && { ended: task.endedAt }),
    duration_ms: task.endedAt ? Math.max(0, Date.parse(task.endedAt) - Date.parse(task.startedAt)) : null,
    ...(usage && { usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens } }),
    ...(usage?.cost_usd !== undefined && { cost_usd: usage.cost_usd }),
    ...(usage && { by_agent: byAgent }),
  };
}

/** Every workflow run and orchestration task of the project, oldest first. */
export async function listAll(stateDir: string): Promise<RunListing> {
  const { runs, unreadable } = await listRuns(stateDir);
  const tasks = readOnlyTasks(stateDir);
  const rows = runs.map(workflowRow);
  for (const id of await tasks.list()) {
    try {
      const task = await tasks.summary(id);
      if (task) rows.push(taskRow(task));
    } catch (err) {
      unreadable.push({ id, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  rows.sort((a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id));
  return { rows, unreadable };
}

/** What a row ran, in a word or two: the workflow, or the tool and its pattern. */
export function rowName(row: RunRow): string {
  if (row.kind === 'workflow') return row.workflow ?? '';
  return row.coordination && row.tool === 'orchestrate' ? `${row.tool} (${row.coordination})` : (row.tool ?? 'task');
}
