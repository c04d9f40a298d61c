import type { ActionChannel, ToolDecision } from '../agents/action-channel.js';
import type { Usage } from '../agents/runtime.js';
import type { StepDef, WorkflowDef } from '../config/model.js';
import { retryableCode } from '../engine/task.js';
import { isOrchError, OrchError } from '../errors.js';
import type { DecisionMethod, NewEvent, RunEvent, ToolCallRecord, UsageRecord } from '../state/events.js';
import type { Appended, Journal } from '../state/journal.js';
import { addUsage, applyToState, gateDecision, type RunState } from '../state/run-state.js';
import { ToolError } from '../tools/result.js';
import { condition, render, type Scope } from '../lang/expressions.js';
import { checkTestsPassed } from './gates.js';
import { StepChannel, type ChannelHost } from './step-channel.js';
import { StepGraph, type StepNode } from './step-graph.js';
import { inSpan, tracingOn, type Attributes, type SpanHandle } from '../util/tracing.js';

/** One attempt of a step, as the engine asks a runner to carry it out. */
export interface StepRequest {
  step: StepDef;
  /** The step's `with:`, rendered. */
  args: Record<string, unknown>;
  attempt: number;
  /** `on_failure: reassign`: the instance the previous attempt failed on, to be avoided. */
  reassignFrom?: string;
  /** Aborted on a timeout of the step or when the run is interrupted. */
  signal: AbortSignal;
  /** Tells the engine the attempt starts now, on that instance (after any wait for a free one). */
  started(agentId?: string): Promise<void>;
  /** The run's journal and approvers, for an action of several turns (an LLM loop). */
  channel: ActionChannel;
  /** The outputs of the steps this one needs, by id (a record without a prototype). */
  needs: Record<string, unknown>;
}

export interface StepDone {
  output: unknown;
  usage?: Usage;
}

/** Runs one attempt of a step; rejects when the action failed. */
export type StepRunner = (request: StepRequest) => Promise<StepDone>;

/** What a person is shown at a gate; resolves true to approve. */
export interface GateRequest {
  runId: string;
  step: StepDef;
  when: 'before' | 'after';
  args: Record<string, unknown>;
  output?: unknown;
  /** Set when a model's tool call is what needs approval (`args` are the call's arguments). */
  toolCall?: ToolCallRecord;
  /** Set when the model asks a person a question (`ask_human`): the asker answers it with text. */
  question?: string;
}
/**
 * Resolves true to approve, false (or a rejection with its reason) to reject, undefined
 * when `signal` ended the question unanswered; for a `question`, the answer's text (false:
 * the person declined to answer).
 */
export type GateAsker = (request: GateRequest, signal: AbortSignal) => Promise<boolean | string | GateRejection | undefined>;

/** A person's no, with why. */
export interface GateRejection {
  rejected: true;
  reason: string;
}

export interface EngineOptions {
  workflow: WorkflowDef;
  journal: Journal;
  /** The run as its journal stands (a new run: just started; a resumed run: its history). */
  state: RunState;
  runStep: StepRunner;
  /** Steps approved up front (`--approve`), or all of them (`--approve-all`). */
  approve: ReadonlySet<string>;
  approveAll: boolean;
  /** The terminal prompt; absent without a TTY, where a gate never passes by itself. */
  ask?: GateAsker;
  /** Answers the model's questions (`ask_human`) where there is no prompt: an MCP client's elicitation. */
  answer?: GateAsker;
  /** Who decides at the prompt or by flag, for the journal. */
  who: string;
  /** How `ask` reaches a person, for the journal: the terminal prompt (default), or a client of `orch serve`. */
  askedVia?: 'prompt' | 'client';
  signal: AbortSignal;
  /** Called with every event as the journal wrote it (redacted), for display. */
  onEvent?: (event: RunEvent) => void;
  /** The copy of a value a person is shown at a gate (redaction); the steps keep the value itself. */
  shown?: <T>(value: T) => T;
}

export type EngineOutcome = 'succeeded' | 'failed' | 'paused' | 'interrupted';

/**
 * Drives a run to its end, a gate, or an interruption. Steps whose needs are done are
 * handed to the runner at once (the engine bounds them by their agent's pool); each
 * completion is durable in the journal before any step that needs it starts.
 */
export async function executeRun(o: EngineOptions): Promise<EngineOutcome> {
  const steps = o.workflow.steps;
  const graph = new StepGraph(steps, o.state);
  const tolerated = new Set<StepNode>();
  /** Steps launched and not yet settled. */
  let running = 0;
  let stopScheduling = false;
  // A step that failed in an earlier session blocks what needs it; a new run has none.
  let failuresToPropagate = graph.nodes.some((n) => n.phase === 'failed');

  const markDone = (node: StepNode): void => graph.markDone(node);
  const markFailed = (node: StepNode): void => {
    node.phase = 'failed';
    failuresToPropagate = true;
  };

  /** The span of each step while it runs (tracing on): what the journal says of the step goes on it too. */
  const stepSpans = new Map<string, SpanHandle>();

  // What `${{ steps.x... }}` sees, updated as events are written rather than rebuilt per step.
  // Kept only when some step has an expression to evaluate: nothing else reads it.
  const stepScope = byStepId<{ output: unknown; status: string; error?: string }>();
  const evaluates = steps.some(hasExpressions);
  const syncScope = (id: string): void => {
    const s = evaluates ? o.state.steps.get(id) : undefined;
    if (s) stepScope[id] = { output: s.output, status: s.status, error: s.error };
  };
  for (const id of o.state.steps.keys()) syncScope(id);
  const scope: Scope = { inputs: o.state.inputs, steps: stepScope };

  /**
   * Appends an event and mirrors it into the in-memory state used by expressions: the
   * event as given, not the journal's redacted copy, so later steps and `if:` read the
   * values the run really has.
   */
  const wrote = ({ event: appended, written }: Appended): void => {
    applyToState(o.state, appended);
    // Expressions read only steps that ran before theirs, so only events that settle a step change what they see.
    if (appended.type !== 'step_started' && appended.type !== 'gate_waiting' && 'step' in appended) syncScope(appended.step);
    o.onEvent?.(written);
    const span = stepSpans.size > 0 && 'step' in written ? stepSpans.get(written.step) : undefined;
    if (span) describeOnSpan(span, written);
  };
  // A promise chain, not an async function: this runs for every event, and an async
  // function's frame costs more than the rest of it. It rejects, never throws.
  const write = (event: NewEvent, sync = true): Promise<void> => {
    try {
      return o.journal.append(event, sync ? SYNCED : UNSYNCED).then(wrote);
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const shown = o.shown ?? (<T>(value: T): T => value);

  // One listener on the run's signal cancels every running step that has a signal of its
  // own (a timeout), added with the first such step (the others run on the run's signal).
  const active = new Set<AbortController>();
  const cancelAll = (): void => {
    for (const c of active) c.abort(o.signal.reason);
  };
  let listening = false;
  const activate = (controller: AbortController): void => {
    active.add(controller);
    if (listening) return;
    listening = true;
    o.signal.addEventListener('abort', cancelAll, { once: true });
  };

  /** Decides a gate now if a flag or the prompt can; undefined means it must wait. */
  const decide = async (step: StepDef, when: 'before' | 'after', args: Record<string, unknown>, output?: unknown): Promise<boolean | undefined> => {
    const earlier = gateDecision(o.state.steps.get(step.id), when);
    if (earlier) {
      // Decided outside this process (`orch approve`): the step's span says so all the same.
      const gate = o.state.steps.get(step.id)?.gates.filter((g) => g.when === when).at(-1);
      if (gate) stepSpans.get(step.id)?.set({ 'orch.gate.decision': gate.decision, 'orch.gate.by': gate.by, 'orch.gate.method': gate.method, 'orch.gate.when': when, 'orch.gate.at': gate.at });
      return earlier === 'approved';
    }
    let decision: boolean | undefined;
    let reason: string | undefined;
    let method: DecisionMethod = 'flag';
    if (o.approveAll || o.approve.has(step.id)) decision = true;
    else if (o.ask && !o.signal.aborted) {
      method = o.askedVia ?? 'prompt';
      const said = await o.ask({ runId: o.state.runId, step, when, args: shown(args), output: shown(output) }, o.signal);
      if (typeof said === 'object') reason = said.reason;
      decision = said === undefined ? undefined : said !== false && typeof said !== 'object';
      // Interrupted at the prompt: nothing was decided, and resume will ask again.
      if (decision === undefined) return undefined;
    }
    if (decision === undefined) {
      await write({ type: 'gate_waiting', step: step.id, gate: 'approval_required', when });
      return undefined;
    }
    await write({ type: 'gate_decided', step: step.id, decision: decision ? 'approved' : 'rejected', by: o.who, method, when, ...(reason !== undefined && { reason }) });
    return decision;
  };

  const stop = (): void => {
    stopScheduling = true;
  };

  /**
   * A decision on a model's tool call: from a flag given up front, an earlier `orch
   * approve`, or the prompt; otherwise pending, and the step waits.
   */
  const decideToolCall = async (step: StepDef, channel: StepChannel, call: ToolCallRecord, signal: AbortSignal, question?: string): Promise<ToolDecision> => {
    const earlier = o.state.steps.get(step.id)?.toolDecisions[call.call_id];
    if (earlier) {
      if (earlier.decision !== 'approved') return { decision: 'rejected', reason: earlier.reason };
      return earlier.answer === undefined ? { decision: 'approved' } : { decision: 'approved', answer: earlier.answer };
    }
    let decision: boolean | string | GateRejection | undefined;
    let method: DecisionMethod = 'flag';
    // --approve and --approve-all pass approvals; a question only a person can answer.
    const asker = question !== undefined ? (o.ask ?? o.answer) : o.ask;
    if (question === undefined && (o.approveAll || o.approve.has(step.id))) decision = true;
    else if (asker && !o.signal.aborted) {
      method = asker === o.ask ? (o.askedVia ?? 'prompt') : 'client';
      decision = await asker({ runId: o.state.runId, step, when: 'before', args: shown(call.input), toolCall: shown(call), ...(question !== undefined && { question: shown(question) }) }, signal);
    }
    if (decision === undefined) {
      channel.pending = call;
      return { decision: 'pending' };
    }
    const answer = question !== undefined && typeof decision === 'string' ? decision : undefined;
    const reason = typeof decision === 'object' ? decision.reason : undefined;
    const approved = question === undefined ? decision !== false && typeof decision !== 'object' : answer !== undefined;
    await write({ type: 'gate_decided', step: step.id, decision: approved ? 'approved' : 'rejected', by: o.who, method, when: 'before', call_id: call.call_id, ...(answer !== undefined && { answer }), ...(reason !== undefined && { reason }) });
    if (!approved) return { decision: 'rejected', ...(reason !== undefined ? { reason } : question !== undefined && { reason: 'the person did not answer' }) };
    return answer === undefined ? { decision: 'approved' } : { decision: 'approved', answer };
  };
  const host: ChannelHost = { write, decide: decideToolCall, runUsage: () => runUsage(o.state) };

  const FAILED = Symbol('failed');
  const NOT_RUN = Symbol('not run');
  const WAITING = Symbol('waiting');
  const attempt = async (node: StepNode, args: Record<string, unknown>): Promise<unknown> => {
    const step = node.step;
    const maxAttempts = 1 + (step.retry?.max ?? (step.onFailure === 'retry' || step.onFailure === 'reassign' ? 1 : 0));
    let lastInstance: string | undefined;
    for (let n = 1; ; n++) {
      let started = performance.now();
      let begun = false;
      // A step with a timeout gets a signal of its own; the others share the run's.
      const controller = step.timeoutMs === undefined ? undefined : new AbortController();
      let timer: NodeJS.Timeout | undefined;
      /**
       * The attempt starts now, on that instance (after any wait for a free one). A step
       * still waiting when scheduling stopped is withdrawn instead, as if it had never
       * been handed over. Losing `step_started` in a crash changes nothing (the step
       * re-runs), so it is not synced on its own.
       */
      const begin = (agentId?: string, ran = false): Promise<void> => {
        if (begun) return DONE;
        if (!ran && (stopScheduling || o.signal.aborted)) return Promise.reject(WITHDRAWN);
        begun = true;
        lastInstance = agentId;
        try {
          if (controller) {
            activate(controller);
            if (o.signal.aborted) controller.abort(o.signal.reason);
            timer = setTimeout(() => controller.abort(new Error(`timed out after ${step.timeoutMs} ms`)), step.timeoutMs);
          }
          const event: NewEvent = { type: 'step_started', step: step.id, attempt: n, agent: step.agent };
          if (agentId !== undefined) event.agent_id = agentId;
          return write(event, false).then(() => {
            started = performance.now();
          });
        } catch (err) {
          return Promise.reject(err);
        }
      };
      const channel = new StepChannel(host, step, o.state.steps.get(step.id)?.conversation);
      try {
        const reassignFrom = n > 1 && step.onFailure === 'reassign' ? lastInstance : undefined;
        const signal = controller?.signal ?? o.signal;
        const needs = neededOutputs(step, o.state);
        const { output } = await o.runStep({ step, args, attempt: n, reassignFrom, signal, started: begin, channel, needs });
        if (!begun) await begin(undefined, true);
        if (step.gate?.type === 'tests_must_pass') checkTestsPassed(output);
        await write({ type: 'step_succeeded', step: step.id, output: output ?? null, duration_ms: Math.round(performance.now() - started) });
        return output;
      } catch (err) {
        if (!begun && (err === WITHDRAWN || stopScheduling || o.signal.aborted)) return NOT_RUN;
        if (isOrchError(err) && err.code === 'ORCH_APPROVAL_PENDING') {
          // Not a failure: the model's tool call waits for a person; resume continues the loop.
          if (o.signal.aborted || !channel.pending) return NOT_RUN;
          await write({ type: 'gate_waiting', step: step.id, gate: 'tool_approval', when: 'before', tool_call: channel.pending });
          return WAITING;
        }
        if (!begun) await begin(undefined, true);
        const interrupted = o.signal.aborted;
        // A failure no attempt can fix (bad input, an unknown tool, an empty pool) is final at once.
        const final = interrupted || n >= maxAttempts || !retryable(err);
        const message = controller?.signal.aborted && !interrupted ? `timed out after ${step.timeoutMs} ms` : errorText(err);
        // Scheduling stops at once, before the failure is journalled, so nothing queued starts meanwhile.
        if (final && step.onFailure !== 'continue') stop();
        const code = isOrchError(err) ? { code: err.code } : {};
        await write({ type: 'step_failed', step: step.id, error: message, attempt: n, duration_ms: Math.round(performance.now() - started), final, ...code });
        if (final) {
          markFailed(node);
          if (step.onFailure === 'continue') tolerated.add(node);
          return FAILED;
        }
        await sleep((step.retry?.backoffMs ?? 1000) * 2 ** (n - 1), o.signal);
        if (o.signal.aborted) {
          // Interrupted while waiting to retry: no further attempt, the step stays unfinished.
          markFailed(node);
          return FAILED;
        }
      } finally {
        clearTimeout(timer);
        if (controller) active.delete(controller);
      }
    }
  };

  /** A step in its own span when tracing: its agent, instance, attempts, gate outcome and status. */
  const runOne = (node: StepNode): Promise<void> => {
    if (!tracingOn()) return runStepOnce(node);
    const step = node.step;
    const attributes = { 'orch.run.id': o.state.runId, 'orch.step.id': step.id, 'orch.agent.type': step.agent, 'orch.step.action': step.action, 'orch.step.gate': step.gate?.type };
    return inSpan(`step ${step.id}`, attributes, async (span) => {
      stepSpans.set(step.id, span);
      try {
        await runStepOnce(node);
      } finally {
        stepSpans.delete(step.id);
      }
    });
  };

  /** The step waits for a person (a gate, or a model's tool call); resume goes on from there. */
  const wait = (node: StepNode): void => {
    node.phase = 'waiting';
  };

  /** Where an attempt leaves its step: ready for its dependents, or not. */
  const attempted = (node: StepNode, done: unknown): void => {
    if (done === NOT_RUN) node.phase = 'pending';
    else if (done === WAITING) wait(node);
    else if (done !== FAILED) markDone(node);
  };

  /**
   * Runs a step: its condition, its gates, its attempts. Most steps have neither a
   * condition nor an approval gate, and take a plain promise chain (it rejects, never
   * throws): an async function's frame per step costs more than the rest of it.
   */
  const runStepOnce = (node: StepNode): Promise<void> => {
    const step = node.step;
    if (step.if !== undefined || step.gate?.type === 'approval_required' || o.state.steps.get(step.id)?.completed) return runGuarded(node);
    try {
      const args = render(step.with, scope) as Record<string, unknown>;
      return attempt(node, args).then((done) => attempted(node, done));
    } catch (err) {
      return Promise.reject(err);
    }
  };

  const runGuarded = async (node: StepNode): Promise<void> => {
    const step = node.step;
    if (step.if !== undefined && !condition(step.if, scope)) {
      await write({ type: 'step_skipped', step: step.id, reason: `condition \`${step.if}\` is false`, blocked: false });
      return markDone(node);
    }
    const args = render(step.with, scope) as Record<string, unknown>;
    const gate = step.gate;
    if (gate?.type === 'approval_required' && gate.when === 'before') {
      const ok = await decide(step, 'before', args);
      if (!ok) return ok === undefined ? wait(node) : markFailed(node);
    }
    if (!o.state.steps.get(step.id)?.completed) {
      const done = await attempt(node, args);
      if (done === NOT_RUN || done === WAITING || done === FAILED) return attempted(node, done);
    }
    if (gate?.type === 'approval_required' && gate.when === 'after') {
      const ok = await decide(step, 'after', args, o.state.steps.get(step.id)?.output);
      if (!ok) return ok === undefined ? wait(node) : markFailed(node);
    }
    markDone(node);
  };


  let wake: (() => void) | undefined;
  const settled = (): void => {
    running--;
    wake?.();
  };
  const launch = (node: StepNode): void => {
    node.phase = 'running';
    running++;
    runOne(node).then(settled, async (err: unknown) => {
      try {
        // An expression or journal error: the step fails, and so does the run.
        markFailed(node);
        stop();
        await write({ type: 'step_failed', step: node.step.id, error: errorText(err), attempt: 1, duration_ms: 0, final: true }).catch(() => undefined);
      } finally {
        settled();
      }
    });
  };

  /** Marks steps whose needs failed as skipped, until no more are (needs may point forward). */
  const block = async (): Promise<void> => {
    for (let changed = true; changed; ) {
      changed = false;
      for (const node of graph.nodes) {
        if (node.phase !== 'pending') continue;
        const at = node.needs.findIndex((n) => n?.phase === 'failed' || n?.phase === 'blocked');
        if (at === -1) continue;
        node.phase = 'blocked';
        changed = true;
        await write({ type: 'step_skipped', step: node.step.id, reason: `needs ${node.step.needs[at]}, which did not succeed`, blocked: true });
      }
    }
  };

  try {
    for (;;) {
      if (!o.signal.aborted && failuresToPropagate) {
        failuresToPropagate = false;
        await block();
      }
      if (!o.signal.aborted && !stopScheduling) {
        for (const node of graph.takeReady()) if (node.phase === 'pending') launch(node);
      }
      if (running === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (listening) o.signal.removeEventListener('abort', cancelAll);
  }

  if (o.signal.aborted) {
    await write({ type: 'run_interrupted', signal: signalName(o.signal.reason) });
    return 'interrupted';
  }
  const failed = graph.nodes.some((n) => n.phase === 'failed' && !tolerated.has(n));
  const waiting = graph.nodes.filter((n) => n.phase === 'waiting').map((n) => n.step.id);
  if (!failed && waiting.length > 0) {
    await write({ type: 'run_paused', waiting });
    return 'paused';
  }
  const status = failed ? 'failed' : 'succeeded';
  await write({ type: 'run_finished', status });
  return status;
}

const DONE: Promise<void> = Promise.resolve();
const SYNCED = { sync: true };
const UNSYNCED = { sync: false };

/** Whether a step has an `if:` or a `${{ }}` in its `with:`, which read the run's scope. */
function hasExpressions(step: StepDef): boolean {
  return step.if !== undefined || templated(step.with);
}

function templated(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${{');
  if (Array.isArray(value)) return value.some(templated);
  if (value !== null && typeof value === 'object') return Object.values(value).some(templated);
  return false;
}

/**
 * A record keyed by step ids. Without a prototype it is a plain dictionary: an object
 * literal given a new key per step would make the VM build a new object shape for each
 * id, a cost that grows with the workflow (and any id, `__proto__` too, is an own key).
 */
function byStepId<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The outputs of the steps this one needs, by id (null for one without). */
function neededOutputs(step: StepDef, state: RunState): Record<string, unknown> {
  const needs = byStepId<unknown>();
  for (const id of step.needs) needs[id] = state.steps.get(id)?.output ?? null;
  return needs;
}

/** What the run's steps have used so far, for the team budget. */
function runUsage(state: RunState): UsageRecord | undefined {
  let total: UsageRecord | undefined;
  for (const s of state.steps.values()) if (s.usage) total = addUsage(total, s.usage);
  return total;
}

/** Thrown from `started` to withdraw a step that was still waiting when scheduling stopped; it never ran. */
const WITHDRAWN = new OrchError('ORCH_CANCELLED', 'withdrawn before it started: the run stopped scheduling', { exitCode: 1 });

/** Whether another attempt may succeed: a tool that ran and failed may; a refused call never does. */
function retryable(err: unknown): boolean {
  return isOrchError(err) ? retryableCode(err.code) : true;
}

/** A failure as one line for the journal: the message, plus the tail of a script's stderr. */
export function errorText(err: unknown): string {
  if (err instanceof ToolError) {
    const stderr = err.detail.stderr?.trim();
    return stderr && !err.message.includes(stderr) ? `${err.message}: ${stderr.split('\n').slice(-5).join('\n')}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function signalName(reason: unknown): string {
  return typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'SIGINT';
}

/** What a journal event says of its step, as attributes of the step's span. */
function describeOnSpan(span: SpanHandle, e: RunEvent): void {
  const set = (a: Attributes): void => span.set(a);
  switch (e.type) {
    case 'step_started':
      return set({ 'orch.step.attempt': e.attempt, 'orch.agent.instance': e.agent_id });
    case 'step_succeeded':
      return set({ 'orch.step.status': 'succeeded' });
    case 'step_failed':
      set({ 'orch.step.status': e.final ? 'failed' : 'retrying', 'error.type': e.code });
      if (e.final) span.fail(e.error);
      return;
    case 'step_skipped':
      return set({ 'orch.step.status': 'skipped' });
    case 'gate_waiting':
      return set({ 'orch.gate.decision': 'waiting', 'orch.gate.when': e.when, 'orch.gate.tool': e.tool_call?.tool });
    case 'gate_decided':
      if (e.call_id !== undefined) return set({ 'orch.gate.tool_call': e.call_id, 'orch.gate.tool_call.decision': e.decision });
      set({ 'orch.gate.decision': e.decision, 'orch.gate.by': e.by, 'orch.gate.method': e.method, 'orch.gate.when': e.when, 'orch.gate.at': e.at });
      if (e.decision === 'rejected') span.fail(`rejected by ${e.by}`);
      return;
    default:
      return;
  }
}
