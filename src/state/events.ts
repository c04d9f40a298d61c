/**
 * Everything that happens to a workflow run, as appended to its journal. A run's state is
 * a fold over these (run-state.ts); nothing else is stored.
 */
export type GateDecision = 'approved' | 'rejected';

/** How a gate was decided: at the terminal prompt, by a flag given up front, or by a later command. */
/** `client`: a client of `orch serve` decided (an A2A reply, an MCP elicitation). */
export type DecisionMethod = 'prompt' | 'flag' | 'command' | 'client';

/** Tokens (and, where the price is known, money) a model call or a step used. Never redacted. */
export interface UsageRecord {
  input_tokens: number;
  output_tokens: number;
  cost_usd?: number;
}

/** A tool call a model asked for, as the journal keeps it. */
export interface ToolCallRecord {
  call_id: string;
  tool: string;
  input: Record<string, unknown>;
}

export type RunEvent =
  /** `carrier`: the trace context of the run's span, when traced, so a resumed run joins the same trace. */
  | { type: 'run_started'; at: string; run_id: string; workflow: string; inputs: Record<string, unknown>; dir: string; pid: number; carrier?: Record<string, string> }
  | { type: 'run_resumed'; at: string; pid: number }
  /** `agent`: the step's agent type; `agent_id`: the instance the attempt runs on, once one is free. */
  | { type: 'step_started'; at: string; step: string; attempt: number; agent?: string; agent_id?: string }
  | { type: 'step_succeeded'; at: string; step: string; output: unknown; duration_ms: number }
  | { type: 'step_failed'; at: string; step: string; error: string; attempt: number; duration_ms: number; final: boolean; code?: string }
  /** `blocked`: skipped because a step it needs failed — reconsidered on resume. */
  | { type: 'step_skipped'; at: string; step: string; reason: string; blocked: boolean }
  /** `tool_call`: a model's call of a tool that needs a person's approval (gate `tool_approval`). */
  | { type: 'gate_waiting'; at: string; step: string; gate: string; when: 'before' | 'after'; tool_call?: ToolCallRecord }
  | {
      type: 'gate_decided';
      at: string;
      step: string;
      decision: GateDecision;
      by: string;
      method: DecisionMethod;
      when: 'before' | 'after';
      reason?: string;
      /** Set when the decision is about a model's tool call rather than the step's gate. */
      call_id?: string;
      /** A person's answer to the model's `ask_human` question (the call approved with it). */
      answer?: string;
    }
  /** One model call of an LLM step: what was asked (as a digest), what came back, and what it used. */
  | {
      type: 'model_turn';
      at: string;
      step: string;
      turn: number;
      model: string;
      request_digest: string;
      text: string;
      tool_calls: ToolCallRecord[];
      usage: UsageRecord;
      duration_ms: number;
      /** A delegated run's turn: the call id of the `dispatch_to_agent` call it serves, and the agent running it. */
      via?: string;
      agent?: string;
    }
  | {
      type: 'tool_call_started';
      at: string;
      step: string;
      turn: number;
      call_id: string;
      tool: string;
      input: Record<string, unknown>;
      via?: string;
      agent?: string;
    }
  /** `refused`: the tool is not the agent's, or a person rejected the call; the model got `error` as the result. */
  | {
      type: 'tool_call_finished';
      at: string;
      step: string;
      turn: number;
      call_id: string;
      tool: string;
      ok: boolean;
      output?: unknown;
      error?: string;
      refused?: boolean;
      duration_ms: number;
      via?: string;
      agent?: string;
    }
  | { type: 'run_paused'; at: string; waiting: string[] }
  | { type: 'run_interrupted'; at: string; signal: string }
  | { type: 'run_finished'; at: string; status: 'succeeded' | 'failed' };

/** The event without its timestamp, as callers write it. */
export type NewEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at'> : never) : never;
