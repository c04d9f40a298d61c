import type { TaskSummary } from '../../orchestration/task-store.js';
import type { RunEvent, UsageRecord } from '../../state/events.js';
import { addUsage, foldRun } from '../../state/run-state.js';

/** What a bar of the timeline stands for: a step (or subtask), one model call, one tool call. */
export type BarKind = 'step' | 'subtask' | 'model' | 'tool';

/** One bar of the Gantt chart, times in ms from the run's start. */
export interface Bar {
  kind: BarKind;
  label: string;
  /** The step (or subtask) the bar belongs to. */
  step: string;
  /** 0 for a step; 1 for its calls; one more per delegation. */
  depth: number;
  start_ms: number;
  end_ms: number;
  status: string;
  /** The agent type doing the work, and the instance when known. */
  agent?: string;
  instance?: string;
  usage?: UsageRecord;
  /** The model of a model call; the tool of a tool call. */
  detail?: string;
}

/** A gate decided (or still waiting) on a step: who decided, when and how. */
export interface GateMark {
  step: string;
  at_ms: number;
  at: string;
  when: 'before' | 'after';
  decision: 'approved' | 'rejected' | 'waiting';
  by?: string;
  method?: string;
  reason?: string;
  /** Set when the gate was a model's tool call waiting for approval. */
  tool?: string;
}

/** One row of the report's table: a step of a run or a subtask of a task. */
export interface StepRow {
  id: string;
  agent?: string;
  instance?: string;
  status: string;
  attempts: number;
  start_ms: number | null;
  duration_ms: number | null;
  usage?: UsageRecord;
  error?: string;
}

export interface ReportError {
  at: string;
  where: string;
  message: string;
  code?: string;
}

/** Everything `orch report` shows, in the terminal, as JSON and as HTML: built from the journal alone. */
export interface Timeline {
  kind: 'workflow' | 'task';
  id: string;
  /** The workflow's name, or the orchestration tool and its pattern. */
  name: string;
  status: string;
  started_at: string;
  ended_at?: string;
  duration_ms: number;
  steps: StepRow[];
  bars: Bar[];
  gates: GateMark[];
  errors: ReportError[];
  usage?: UsageRecord;
  /** Usage and cost per agent type (delegated runs counted for the agent that ran them). */
  by_agent: Record<string, UsageRecord>;
}

const ms = (at: string, t0: number): number => Math.max(0, Date.parse(at) - t0);

/**
 * The timeline of a workflow run from its journal: a bar per step from its first start to
 * its end, a bar per model call and tool call under it (delegated runs one level deeper),
 * gate decisions with who made them, usage per step, per agent and in total, and every error.
 * `agents`: the agent of each step by id, from the workflow when it is known; journals of
 * this orch also name it on each `step_started`.
 */
export function runTimeline(events: readonly RunEvent[], agents: ReadonlyMap<string, string> = new Map()): Timeline {
  const state = foldRun(events);
  if (!state) throw new Error('the journal does not start with run_started');
  const t0 = Date.parse(state.startedAt);
  const last = events.at(-1)?.at ?? state.startedAt;
  const end = ms(state.endedAt ?? last, t0);
  const order: string[] = [];
  const span = new Map<string, { start: number; end?: number; agent?: string; instance?: string }>();
  const bars: Bar[] = [];
  const gates: GateMark[] = [];
  const errors: ReportError[] = [];
  const byAgent: Record<string, UsageRecord> = {};
  const depthOf = new Map<string, number>();
  const toolStart = new Map<string, Extract<RunEvent, { type: 'tool_call_started' }>>();
  const waiting = new Map<string, GateMark>();
  const agentOf = (step: string): string | undefined => span.get(step)?.agent ?? agents.get(step);
  const count = (agent: string | undefined, usage: UsageRecord): void => {
    const key = agent ?? 'unknown';
    byAgent[key] = addUsage(byAgent[key], usage);
  };

  for (const e of events) {
    switch (e.type) {
      case 'step_started': {
        let s = span.get(e.step);
        if (!s) {
          s = { start: ms(e.at, t0) };
          span.set(e.step, s);
          order.push(e.step);
        }
        s.end = undefined;
        s.agent = e.agent ?? s.agent ?? agents.get(e.step) ?? typeOfInstance(e.agent_id);
        if (e.agent_id !== undefined) s.instance = e.agent_id;
        break;
      }
      case 'step_succeeded':
      case 'step_failed': {
        const s = span.get(e.step);
        if (s) s.end = ms(e.at, t0);
        if (e.type === 'step_failed') {
          const where = `step ${e.step}${e.final ? '' : ` (attempt ${e.attempt}, retried)`}`;
          errors.push({ at: e.at, where, message: e.error, ...(e.code !== undefined && { code: e.code }) });
        }
        break;
      }
      case 'model_turn': {
        const depth = e.via === undefined ? 1 : (depthOf.get(e.via) ?? 2);
        const agent = e.agent ?? agentOf(e.step);
        bars.push({
          kind: 'model',
          label: `${e.agent !== undefined && e.via !== undefined ? `${e.agent} ` : ''}turn ${e.turn}`,
          step: e.step,
          depth,
          start_ms: Math.max(0, ms(e.at, t0) - e.duration_ms),
          end_ms: ms(e.at, t0),
          status: 'succeeded',
          ...(agent !== undefined && { agent }),
          usage: e.usage,
          detail: e.model,
        });
        count(agent, e.usage);
        break;
      }
      case 'tool_call_started': {
        toolStart.set(e.call_id, e);
        const depth = e.via === undefined ? 1 : (depthOf.get(e.via) ?? 2);
        if (e.tool === 'dispatch_to_agent') depthOf.set(e.call_id, depth + 1);
        break;
      }
      case 'tool_call_finished': {
        const started = toolStart.get(e.call_id);
        const depth = e.via === undefined ? 1 : (depthOf.get(e.via) ?? 2);
        const stop = ms(e.at, t0);
        const agent = e.agent ?? agentOf(e.step);
        bars.push({
          kind: 'tool',
          label: e.tool,
          step: e.step,
          depth,
          start_ms: started ? ms(started.at, t0) : Math.max(0, stop - e.duration_ms),
          end_ms: stop,
          status: e.refused ? 'refused' : e.ok ? 'succeeded' : 'failed',
          ...(agent !== undefined && { agent }),
          detail: e.tool,
        });
        if (!e.ok) errors.push({ at: e.at, where: `step ${e.step}, tool ${e.tool}${e.refused ? ' (refused)' : ''}`, message: e.error ?? 'failed' });
        break;
      }
      case 'gate_waiting': {
        waiting.set(e.step, { step: e.step, at_ms: ms(e.at, t0), at: e.at, when: e.when, decision: 'waiting', ...(e.tool_call && { tool: e.tool_call.tool }) });
        break;
      }
      case 'gate_decided': {
        waiting.delete(e.step);
        gates.push({
          step: e.step,
          at_ms: ms(e.at, t0),
          at: e.at,
          when: e.when,
          decision: e.decision,
          by: e.by,
          method: e.method,
          ...(e.reason !== undefined && { reason: e.reason }),
          ...(e.call_id !== undefined && { tool: toolOfCall(events, e.call_id) }),
        });
        break;
      }
      case 'run_started':
      case 'run_resumed':
      case 'step_skipped':
      case 'run_paused':
      case 'run_interrupted':
      case 'run_finished':
        break;
      default: {
        // A journal of a later orch may hold events this one does not know.
        const unknown: never = e;
        void unknown;
      }
    }
  }
  gates.push(...waiting.values());
  gates.sort((a, b) => a.at_ms - b.at_ms);

  const steps: StepRow[] = [];
  const stepBars: Bar[] = [];
  const ids = [...order, ...[...state.steps.keys()].filter((id) => !span.has(id))];
  for (const id of ids) {
    const s = state.steps.get(id);
    const t = span.get(id);
    const agent = t?.agent ?? agents.get(id);
    const row: StepRow = {
      id,
      ...(agent !== undefined && { agent }),
      ...(t?.instance !== undefined && { instance: t.instance }),
      status: s?.status ?? 'pending',
      attempts: s?.attempts ?? 0,
      start_ms: t ? t.start : null,
      duration_ms: t ? (t.end ?? end) - t.start : null,
      ...(s?.usage && { usage: s.usage }),
      ...(s?.error !== undefined && { error: s.error }),
      ...(s?.status === 'skipped' && s.skipReason !== undefined && { error: `skipped: ${s.skipReason}` }),
    };
    steps.push(row);
    // A step that never started but has a gate (waiting before it, or rejected) gets a mark of a bar where the gate is.
    const gate = t ? undefined : gates.find((g) => g.step === id && g.tool === undefined);
    if (gate) stepBars.push({ kind: 'step', label: id, step: id, depth: 0, start_ms: gate.at_ms, end_ms: gate.at_ms, status: row.status, ...(agent !== undefined && { agent }) });
    if (t) {
      stepBars.push({
        kind: 'step',
        label: id,
        step: id,
        depth: 0,
        start_ms: t.start,
        end_ms: t.end ?? end,
        status: row.status,
        ...(agent !== undefined && { agent }),
        ...(t.instance !== undefined && { instance: t.instance }),
        ...(s?.usage && { usage: s.usage }),
      });
    }
  }
  // Each step's bar, then its calls in the order they started.
  const ordered = stepBars.flatMap((b) => [b, ...bars.filter((c) => c.step === b.step).sort((x, y) => x.start_ms - y.start_ms)]);
  let usage: UsageRecord | undefined;
  for (const s of state.steps.values()) if (s.usage) usage = addUsage(usage, s.usage);
  return {
    kind: 'workflow',
    id: state.runId,
    name: state.workflow,
    status: state.status,
    started_at: state.startedAt,
    ...(state.endedAt !== undefined && { ended_at: state.endedAt }),
    duration_ms: end,
    steps,
    bars: ordered,
    gates,
    errors,
    ...(usage && { usage }),
    by_agent: byAgent,
  };
}

/** The agent type of an instance id (`worker-2` → `worker`), for journals that do not name it. */
function typeOfInstance(instance: string | undefined): string | undefined {
  return instance?.replace(/-\d+$/, '');
}

function toolOfCall(events: readonly RunEvent[], callId: string): string | undefined {
  for (const e of events) if (e.type === 'gate_waiting' && e.tool_call?.call_id === callId) return e.tool_call.tool;
  return undefined;
}

/**
 * The timeline of an orchestration task from its journal and report: a bar per subtask
 * (reports of this orch give each its start and duration), the planner's model decisions
 * with what they used, and every failure and recovery.
 */
export function taskTimeline(task: TaskSummary): Timeline {
  const t0 = Date.parse(task.startedAt);
  const end = task.endedAt ? ms(task.endedAt, t0) : Math.max(0, Date.now() - t0);
  const errors: ReportError[] = [];
  const byAgent: Record<string, UsageRecord> = {};
  let usage: UsageRecord | undefined;
  for (const e of task.events) {
    if (e.type === 'subtask_failed') {
      const where = `subtask ${e.subtask}${e.agent_id ? ` on ${e.agent_id}` : ''} (attempt ${e.attempt})`;
      errors.push({ at: e.at ?? task.startedAt, where, message: e.error.message, code: e.error.code });
    }
    if (e.type === 'llm_decision' && e.usage) {
      usage = addUsage(usage, e.usage);
      byAgent[e.agent] = addUsage(byAgent[e.agent], e.usage);
    }
  }
  const steps: StepRow[] = [];
  const bars: Bar[] = [];
  for (const [id, s] of Object.entries(task.report?.subtasks ?? {})) {
    const start = s.started_at === undefined ? null : ms(s.started_at, t0);
    steps.push({
      id,
      agent: s.agent_type,
      ...(s.agent_id !== null && { instance: s.agent_id }),
      status: s.status,
      attempts: s.attempts,
      start_ms: start,
      duration_ms: s.duration_ms ?? null,
      ...(s.status === 'failed' && { error: `${s.error.code} ${s.error.message}` }),
    });
    if (start !== null && s.duration_ms !== undefined) {
      bars.push({
        kind: 'subtask',
        label: id,
        step: id,
        depth: 0,
        start_ms: start,
        end_ms: start + s.duration_ms,
        status: s.status,
        agent: s.agent_type,
        ...(s.agent_id !== null && { instance: s.agent_id }),
        ...(s.tool !== null && { detail: s.tool }),
      });
    }
  }
  return {
    kind: 'task',
    id: task.id,
    name: task.coordination && task.tool === 'orchestrate' ? `${task.tool} (${task.coordination})` : task.tool,
    status: task.status,
    started_at: task.startedAt,
    ...(task.endedAt !== undefined && { ended_at: task.endedAt }),
    duration_ms: end,
    steps,
    bars,
    gates: [],
    errors,
    ...(usage && { usage }),
    by_agent: byAgent,
  };
}
