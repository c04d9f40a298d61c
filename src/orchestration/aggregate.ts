import { ExitCode, OrchError } from '../errors.js';
import type { HandlerContext } from '../tools/module.js';
import { orchestration } from './context.js';
import type { TaskError } from './run-graph.js';
import type { TaskStatus } from './report.js';

/** The seed's `aggregate_results` fields, computed from the persisted report. */
export interface Aggregate {
  task_id: string;
  status: TaskStatus;
  agents_contributed: number;
  /** Results of the subtasks that succeeded, by id. */
  merged_result: Record<string, unknown>;
  /** Errors of the subtasks that failed, by id. */
  errors: Record<string, TaskError>;
  conflicts_resolved: string[];
  /** Share of subtasks that succeeded, 0 to 1. */
  confidence_score: number;
  summary: string;
}

/** `aggregate_results(task_id)`: the results of an orchestrate or assign_task run. */
export async function aggregateResults(params: Record<string, unknown>, ctx: HandlerContext): Promise<Aggregate> {
  const { tasks } = orchestration(ctx);
  const taskId = params.task_id;
  if (typeof taskId !== 'string') throw new OrchError('ORCH_INPUT', '`task_id` must be a string', { exitCode: ExitCode.usage });
  const report = await tasks.readReport(taskId);
  if (!report) {
    const recent = await tasks.list(5);
    throw new OrchError('ORCH_UNKNOWN_TASK', `no results for task \`${taskId}\``, {
      hint: recent.length ? `recent tasks: ${recent.join(', ')}` : 'run `orchestrate` first; its result has the task_id',
      exitCode: ExitCode.usage,
    });
  }
  const merged: Record<string, unknown> = {};
  const errors: Record<string, TaskError> = {};
  const agents = new Set<string>();
  for (const [id, entry] of Object.entries(report.subtasks)) {
    if (entry.agent_id !== null) agents.add(entry.agent_id);
    if (entry.status === 'succeeded') merged[id] = entry.result;
    else errors[id] = entry.error;
  }
  const total = Object.keys(report.subtasks).length;
  const conflicts = typeof report.details?.conflicts === 'number' && report.details.conflicts > 0 ? [`${report.details.conflicts} conflicting blackboard writes re-run on a fresh read`] : [];
  return {
    task_id: report.task_id,
    status: report.status,
    agents_contributed: agents.size,
    merged_result: merged,
    errors,
    conflicts_resolved: conflicts,
    confidence_score: total === 0 ? 0 : Math.round((Object.keys(merged).length / total) * 100) / 100,
    summary: report.summary,
  };
}
