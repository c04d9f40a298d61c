import type { ErrorCode } from '../error-codes.js';
import type { RecoveryAction } from './failure-policy.js';

/** A failure as reports and the task journal show it. */
export interface TaskError {
  code: ErrorCode;
  message: string;
}

/** What the orchestration journal records: decisions a person may need to audit later. */
export type TaskEvent =
  /**
   * `tool`: the orchestration tool that ran the task (absent in journals of orch 0.1: orchestrate);
   * `coordination` is absent for monitor_agents, whose task is one decision about the pools.
   */
  | { type: 'task_started'; task_id: string; coordination?: string; subtasks: number; agents: string[]; tool?: TaskTool }
  | { type: 'subtask_failed'; task_id: string; subtask: string; agent_id: string | null; attempt: number; error: TaskError }
  | { type: 'recovery'; task_id: string; subtask: string; agent_id: string | null; action: RecoveryAction; reason: string }
  | { type: 'agent_unhealthy'; task_id: string; agent_id: string; failure_count: number }
  | { type: 'task_finished'; task_id: string; status: string; succeeded: number; failed: number }
  /** A decision the planner's model made (the plan, the synthesis, a recovery, advice on the pools), with what it used. */
  | { type: 'llm_decision'; task_id: string; decision: LlmDecision; agent: string; usage?: { input_tokens: number; output_tokens: number; cost_usd?: number }; output: unknown };

/** The orchestration tools that keep a task (a folder under `.orch/tasks/`). */
export type TaskTool = 'orchestrate' | 'assign_task' | 'monitor_agents';

export type LlmDecision = 'plan' | 'aggregate' | 'recovery' | 'monitor';
