import type { ToolCallRecord, UsageRecord } from '../state/events.js';
import type { ConversationEvent } from '../state/run-state.js';

/** A conversation event as the runtime writes it: the journal adds the step and the time. */
export type NewConversationEvent = ConversationEvent extends infer E ? (E extends ConversationEvent ? Omit<E, 'at' | 'step'> : never) : never;

/** What a person said about a model's tool call, or that nobody can say now. */
export type ToolDecision = { decision: 'approved'; answer?: string } | { decision: 'rejected'; reason?: string } | { decision: 'pending' };

/**
 * How an action that takes several turns (an LLM loop) talks to the run it belongs to:
 * the journal it continues from and writes to, and the people who approve its tool calls.
 * The workflow engine provides it; a child-process worker relays it over IPC.
 */
export interface ActionChannel {
  /** The step's conversation so far, from the journal: what a resumed loop continues from. */
  readonly history: readonly ConversationEvent[];
  /** Journals an event; with `durable`, resolves once it is on disk. */
  record(event: NewConversationEvent, durable: boolean): Promise<void>;
  /**
   * A decision on a tool call that needs approval: from a flag given up front, an earlier
   * `orch approve`, or the terminal prompt; `pending` when nobody can answer now (the run pauses).
   * With `question` (the model's `ask_human`), a person's answer: approved with it, from
   * `orch answer` or the terminal; flags given up front approve calls, never answer questions.
   */
  decide(call: ToolCallRecord, signal: AbortSignal, question?: string): Promise<ToolDecision>;
  /** What the whole run has used so far, for the team budget. */
  runUsage(): UsageRecord | undefined;
}
