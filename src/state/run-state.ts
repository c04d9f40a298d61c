import type { GateDecision, RunEvent, ToolCallRecord, UsageRecord } from './events.js';

export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'interrupted';

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'rejected';

export interface StepState {
  id: string;
  status: StepStatus;
  output?: unknown;
  error?: string;
  attempts: number;
  startedAt?: string;
  durationMs?: number;
  /** Whether the step's work is done (its output recorded), whatever its gate says. */
  completed: boolean;
  skipReason?: string;
  gates: readonly GateRecord[];
  waitingGate?: 'before' | 'after';
  /** What the step's model calls used, over all its attempts. */
  usage?: UsageRecord;
  /** The step's agent type, as its journal names it (older journals: from the instance id). */
  agent?: string;
  /**
   * The model turns and tool calls of the step's current attempt, in order: what a resumed
   * LLM step continues from (a failed attempt starts a new conversation).
   */
  conversation: readonly ConversationEvent[];
  /** A model's tool call waiting for a person's approval. */
  pendingToolCall?: ToolCallRecord;
  /** Decisions on the model's tool calls, by call id. */
  toolDecisions: Readonly<Record<string, ToolCallDecision>>;
}

/** A decision at one of a step's gates. */
export interface GateRecord {
  when: 'before' | 'after';
  decision: GateDecision;
  by: string;
  method: string;
  at: string;
  reason?: string;
}

/** A decision on one of a model's tool calls. */
export interface ToolCallDecision {
  decision: GateDecision;
  by: string;
  reason?: string;
  answer?: string;
}

// A step starts with no gates passed, no conversation and no tool decisions: most steps keep
// it so, and a run holds every step's state, so these are shared until a step has its own.
const NO_GATES: readonly GateRecord[] = Object.freeze([]);
const NO_CONVERSATION: readonly ConversationEvent[] = Object.freeze([]);
const NO_DECISIONS: Readonly<Record<string, ToolCallDecision>> = Object.freeze({});

/** The journal events an LLM step is rebuilt from. */
export type ConversationEvent = Extract<RunEvent, { type: 'model_turn' | 'tool_call_started' | 'tool_call_finished' }>;

/** Adds two usage records; a cost is kept only while every part has one. */
export function addUsage(a: UsageRecord | undefined, b: UsageRecord): UsageRecord {
  if (!a) return { ...b };
  const sum: UsageRecord = { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
  if (a.cost_usd !== undefined && b.cost_usd !== undefined) sum.cost_usd = Math.round((a.cost_usd + b.cost_usd) * 1e6) / 1e6;
  return sum;
}

export interface RunState {
  runId: string;
  workflow: string;
  inputs: Record<string, unknown>;
  dir: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  /** Pid of the process that last drove the run. */
  pid: number;
  /** The trace context the run started in, when it was traced. */
  carrier?: Record<string, string>;
  /** What the run's model calls used, by the agent type that made them (a delegated run's by its own agent). */
  usageByAgent: Record<string, UsageRecord>;
  steps: Map<string, StepState>;
}

function step(state: RunState, id: string): StepState {
  let s = state.steps.get(id);
  if (!s) {
    s = { id, status: 'pending', attempts: 0, completed: false, gates: NO_GATES, conversation: NO_CONVERSATION, toolDecisions: NO_DECISIONS };
    state.steps.set(id, s);
  }
  return s;
}

/**
 * Rebuilds a run's state from its journal. Pure: the same events always give the same
 * state, which is what `status`, `logs` and `resume` rely on.
 */
export function foldRun(events: readonly RunEvent[]): RunState | undefined {
  const first = events[0];
  if (!first || first.type !== 'run_started') return undefined;
  const state: RunState = {
    runId: first.run_id,
    workflow: first.workflow,
    inputs: first.inputs,
    dir: first.dir,
    status: 'running',
    startedAt: first.at,
    pid: first.pid,
    ...(first.carrier && { carrier: first.carrier }),
    usageByAgent: {},
    steps: new Map(),
  };
  for (const e of events.slice(1)) applyToState(state, e);
  return state;
}

/** Applies one event to a run's state (the step of the fold; the engine also uses it live). */
export function applyToState(state: RunState, e: RunEvent): void {
  switch (e.type) {
    case 'run_started':
      return;
    case 'run_resumed':
      state.status = 'running';
      state.pid = e.pid;
      state.endedAt = undefined;
      return;
    case 'step_started': {
      const s = step(state, e.step);
      s.status = 'running';
      s.attempts = e.attempt;
      s.startedAt ??= e.at;
      s.agent = e.agent ?? e.agent_id?.replace(/-\d+$/, '') ?? s.agent;
      s.error = undefined;
      return;
    }
    case 'step_succeeded': {
      const s = step(state, e.step);
      s.status = 'succeeded';
      s.output = e.output;
      s.durationMs = e.duration_ms;
      s.completed = true;
      return;
    }
    case 'step_failed': {
      const s = step(state, e.step);
      s.error = e.error;
      s.durationMs = e.duration_ms;
      s.status = e.final ? 'failed' : 'running';
      s.conversation = NO_CONVERSATION;
      return;
    }
    case 'model_turn': {
      const s = step(state, e.step);
      s.conversation = added(s.conversation, NO_CONVERSATION, e);
      s.usage = addUsage(s.usage, e.usage);
      const agent = (e.via === undefined ? undefined : e.agent) ?? s.agent ?? 'unknown';
      state.usageByAgent[agent] = addUsage(state.usageByAgent[agent], e.usage);
      return;
    }
    case 'tool_call_started':
    case 'tool_call_finished':
      {
        const s = step(state, e.step);
        s.conversation = added(s.conversation, NO_CONVERSATION, e);
      }
      return;
    case 'step_skipped': {
      const s = step(state, e.step);
      s.status = 'skipped';
      s.skipReason = e.reason;
      s.completed = !e.blocked;
      return;
    }
    case 'gate_waiting': {
      const s = step(state, e.step);
      s.status = 'waiting';
      s.waitingGate = e.when;
      s.pendingToolCall = e.tool_call;
      return;
    }
    case 'gate_decided': {
      const s = step(state, e.step);
      if (e.call_id !== undefined) {
        // A decision on a model's tool call: the step goes on either way (a rejection reaches the model).
        const decisions = s.toolDecisions === NO_DECISIONS ? {} : (s.toolDecisions as Record<string, ToolCallDecision>); // only ever added to, here
        decisions[e.call_id] = { decision: e.decision, by: e.by, reason: e.reason, ...(e.answer !== undefined && { answer: e.answer }) };
        s.toolDecisions = decisions;
        s.waitingGate = undefined;
        s.pendingToolCall = undefined;
        s.status = 'pending';
        return;
      }
      s.gates = added(s.gates, NO_GATES, { when: e.when, decision: e.decision, by: e.by, method: e.method, at: e.at, reason: e.reason });
      s.waitingGate = undefined;
      if (e.decision === 'rejected') {
        s.status = 'rejected';
        s.error = e.reason ? `rejected by ${e.by}: ${e.reason}` : `rejected by ${e.by}`;
      } else {
        // An approval also overrides an earlier rejection of the same gate.
        s.status = s.completed ? 'succeeded' : 'pending';
        s.error = undefined;
      }
      return;
    }
    case 'run_paused':
      state.status = 'paused';
      return;
    case 'run_interrupted':
      state.status = 'interrupted';
      state.endedAt = e.at;
      return;
    case 'run_finished':
      state.status = e.status;
      state.endedAt = e.at;
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/**
 * `list` with `item` at its end: a step's own list, grown in place (a step's lists are
 * only ever added to, here), or a new one in place of the shared empty one.
 */
function added<T>(list: readonly T[], shared: readonly T[], item: T): readonly T[] {
  const own = list === shared ? [] : (list as T[]);
  own.push(item);
  return own;
}

/** The latest decision on a gate of this step at this point, if any: a later decision overrides an earlier one. */
export function gateDecision(s: StepState | undefined, when: 'before' | 'after'): GateDecision | undefined {
  return s?.gates.filter((g) => g.when === when).at(-1)?.decision;
}
