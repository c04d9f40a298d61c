import type { ActionChannel, NewConversationEvent, ToolDecision } from '../agents/action-channel.js';
import type { StepDef } from '../config/model.js';
import type { NewEvent, ToolCallRecord, UsageRecord } from '../state/events.js';
import type { ConversationEvent } from '../state/run-state.js';

/** What a step's channel reaches of its run. */
export interface ChannelHost {
  write(event: NewEvent, sync: boolean): Promise<void>;
  decide(step: StepDef, channel: StepChannel, call: ToolCallRecord, signal: AbortSignal, question?: string): Promise<ToolDecision>;
  runUsage(): UsageRecord | undefined;
}

const NO_HISTORY: readonly ConversationEvent[] = Object.freeze([]);

/**
 * The channel an LLM step's loop talks to the run through: its conversation so far, the
 * journal, and decisions on its tool calls. One per attempt, of every step (most never use it).
 */
export class StepChannel implements ActionChannel {
  readonly history: readonly ConversationEvent[];
  /** The tool call left waiting for a person, if the decision was pending. */
  pending?: ToolCallRecord;

  constructor(
    private readonly host: ChannelHost,
    private readonly step: StepDef,
    conversation: readonly ConversationEvent[] | undefined,
  ) {
    this.history = conversation !== undefined && conversation.length > 0 ? [...conversation] : NO_HISTORY;
  }

  record(event: NewConversationEvent, durable: boolean): Promise<void> {
    return this.host.write({ ...event, step: this.step.id } as NewEvent, durable);
  }

  decide(call: ToolCallRecord, signal: AbortSignal, question?: string): Promise<ToolDecision> {
    return this.host.decide(this.step, this, call, signal, question);
  }

  runUsage(): UsageRecord | undefined {
    return this.host.runUsage();
  }
}
