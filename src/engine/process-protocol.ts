import type { NewConversationEvent, ToolDecision } from '../agents/action-channel.js';
import type { CassetteSpec } from '../agents/llm-action.js';
import type { Usage } from '../agents/runtime.js';
import type { DelegationRequest } from '../agents/action.js';
import type { ToolCallRecord, UsageRecord } from '../state/events.js';
import type { ConversationEvent } from '../state/run-state.js';
import type { TaskFailure, TaskSpec } from './task.js';

/** What a child worker is told of the run's channel when a task starts: the history and the usage so far. */
export interface ChannelSnapshot {
  history: ConversationEvent[];
  runUsage?: UsageRecord;
}

/** Messages from the parent to a child-process worker. */
export type ParentMessage =
  | { type: 'init'; dir: string; config?: string; team?: string; stateDir: string; cassette?: CassetteSpec }
  | { type: 'run'; id: number; task: TaskSpec; instance: { id: string; type: string }; channel?: ChannelSnapshot; team?: boolean }
  /** The answer to a worker's `record` or `decide`. */
  | {
      type: 'reply';
      id: number;
      seq: number;
      decision?: ToolDecision;
      error?: string;
      /** The answer to a `team` request: its value and usage, or how it failed. */
      value?: unknown;
      usage?: Usage;
      failure?: TaskFailure;
    };

/** Messages from a child-process worker to its parent. */
export type WorkerMessage =
  | { type: 'result'; id: number; ok: true; value: unknown; usage?: Usage }
  | { type: 'result'; id: number; ok: false; error: TaskFailure }
  /** Journal this event of task `id`; the parent replies once it is written. */
  | { type: 'record'; id: number; seq: number; event: NewConversationEvent; durable: boolean }
  /** Ask for a decision on a tool call of task `id`. */
  | { type: 'decide'; id: number; seq: number; call: ToolCallRecord; question?: string }
  /** Task `id`'s action delegates to another agent, or asks for the pools' status: the parent's session does it. */
  | { type: 'team'; id: number; seq: number; op: 'delegate'; request: Omit<DelegationRequest, 'signal' | 'channel'> }
  | { type: 'team'; id: number; seq: number; op: 'status'; role?: string };
