import { Role, TaskState, type AgentCard, type Message, type Part, type SendMessageRequest, type StreamResponse, type Task } from '@a2a-js/sdk';
import { RequestMalformedError, UnsupportedOperationError } from '@a2a-js/sdk/errors';
import {
  AgentEvent,
  DefaultRequestHandler,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
  type ServerCallContext,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type { Project, WorkflowDef } from '../config/model.js';
import { isOrchError } from '../errors.js';
import type { Supervisor } from '../mcp/supervisor.js';
import type { RunEvent } from '../state/events.js';
import { newRunId } from '../state/runs.js';
import { silentLogger } from '../tools/context.js';
import { resultText } from '../tools/result.js';
import type { GateRejection, GateRequest } from '../workflow/engine.js';
import { resolveInputs } from '../workflow/inputs.js';
import { runReport } from '../workflow/report.js';
import { startRun, type SessionResult } from '../workflow/session.js';
import { orchestratorRole } from './a2a-card.js';
import { servedWorkflows } from './workflow-tools.js';

/** What a first message asks for: a workflow with its inputs, or the orchestrator with a text. */
type TeamRequest = { workflow: WorkflowDef; inputs: Record<string, unknown> };

/** Who the journal says decided a gate answered over A2A. */
const A2A_CLIENT = 'a2a client';

/**
 * A first message as a run of the team: a data part `{workflow, inputs}` runs that
 * workflow; a text-only message goes to the orchestrator agent as a one-step run.
 * Anything else is the client's mistake, answered as a malformed request.
 */
export function teamRequest(project: Project, message: Message): TeamRequest {
  const data = message.parts.map((p) => p.content).find((c) => c?.$case === 'data');
  if (data?.$case === 'data') {
    const value: unknown = data.value;
    const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    const workflows = servedWorkflows(project);
    // Another orch sends a step as {action, input}: an action naming a workflow runs it, any other goes to the orchestrator.
    const asked = typeof fields.workflow === 'string' ? fields.workflow : typeof fields.action === 'string' && workflows.some((w) => w.name === fields.action) ? fields.action : undefined;
    if (asked === undefined && typeof fields.action === 'string' && orchestratorRole(project)) return orchestratorRequest(project, textOf(message) || fields.action);
    if (asked === undefined) throw new RequestMalformedError('a data part must be {"workflow": "<name>", "inputs": {...}}');
    const name = asked;
    const inputs = fields.workflow !== undefined ? fields.inputs : fields.input;
    const workflow = workflows.find((w) => w.name === name);
    if (!workflow) throw new RequestMalformedError(`the team has no workflow \`${name}\`; its workflows are: ${workflows.map((w) => w.name).join(', ') || '(none)'}`);
    if (inputs !== undefined && (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs))) {
      throw new RequestMalformedError('`inputs` must be an object of the workflow\'s inputs');
    }
    try {
      return { workflow, inputs: resolveInputs(workflow, (inputs ?? {}) as Record<string, unknown>) };
    } catch (err) {
      throw new RequestMalformedError(isOrchError(err) ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : String(err));
    }
  }
  const text = textOf(message);
  if (text === '') throw new RequestMalformedError('send a data part {"workflow": "<name>", "inputs": {...}}, or a text for the orchestrator');
  return orchestratorRequest(project, text);
}

/** A text for the orchestrator agent, as a one-step run. */
function orchestratorRequest(project: Project, text: string): TeamRequest {
  const role = orchestratorRole(project);
  if (!role) {
    const names = servedWorkflows(project).map((w) => w.name).join(', ') || 'none';
    throw new UnsupportedOperationError(
      `this team has no orchestrator agent with a model to answer a text message; send a data part {"workflow": "<name>", "inputs": {...}} (workflows: ${names})`,
    );
  }
  const workflow: WorkflowDef = {
    name: role,
    description: `A text message to the ${role} agent`,
    inputs: [],
    steps: [{ id: role, agent: role, action: text, with: {}, needs: [], onFailure: 'abort', origin: { file: 'a2a message', path: [] } }],
    origin: { file: 'a2a message', path: [] },
  };
  return { workflow, inputs: {} };
}

function textOf(message: Message | undefined): string {
  return (message?.parts ?? []).flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : [])).join('\n').trim();
}

/**
 * The SDK's request handler, with one difference: a new task's id is a new run id, so
 * the run `orch logs` and `orch runs` show has the task's name. The task is stored
 * before the message is handled, and the message then continues it.
 */
export class TeamRequestHandler extends DefaultRequestHandler {
  constructor(
    private readonly project: Project,
    card: AgentCard,
    private readonly tasks: TaskStore,
    private readonly team: TeamExecutor,
  ) {
    super(card, tasks, team);
  }

  override async sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    await this.open(params, context);
    return super.sendMessage(params, context);
  }

  override async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    await this.open(params, context);
    yield* super.sendMessageStream(params, context);
  }

  private async open(params: SendMessageRequest, context: ServerCallContext): Promise<void> {
    const message = params.message;
    if (!message) return;
    if (message.taskId) {
      // A reply is for a gate: refused before it reaches the task, whose updates belong to its run.
      const why = this.team.refusesReply(message.taskId);
      if (why) throw new UnsupportedOperationError(why);
      return;
    }
    const request = teamRequest(this.project, message);
    const id = newRunId();
    const contextId = message.contextId || crypto.randomUUID();
    const task = emptyTask(id, contextId);
    await this.tasks.save({ ...task, metadata: { workflow: request.workflow.name } }, context);
    message.taskId = id;
    message.contextId = contextId;
    this.team.expect(id, request);
  }
}

interface Gate {
  request: GateRequest;
  resolve: (decision: boolean | string | GateRejection | undefined) => void;
}

/** A run behind a task: the bus its updates go to now, and the gate it waits at, if any. */
interface TaskRun {
  contextId: string;
  bus?: ExecutionEventBus;
  gate?: Gate;
  /** Resolves when the run stops for now: at a gate, or at its end. */
  stopped?: () => void;
  controller: AbortController;
  done?: Promise<void>;
}

export interface TeamExecutorOptions {
  supervisor?: Supervisor;
  /** Aborted when the server shuts down: every run is interrupted (and may be resumed with `orch resume`). */
  shutdown: AbortSignal;
  onBug: (err: unknown) => void;
}

/**
 * Carries out the team's tasks: each is a run with its journal, whose step updates are
 * published as the task's status; a gate puts the task in `input-required` with the
 * gate's question, and a reply on the task decides it (`{"approve": true}`,
 * `{"approve": false, "reason": "..."}`, or the answer to an agent's question). The
 * run's outputs are the task's artifact.
 */
export class TeamExecutor implements AgentExecutor {
  private readonly expected = new Map<string, TeamRequest>();
  private readonly runs = new Map<string, TaskRun>();

  constructor(
    private readonly project: Project,
    private readonly options: TeamExecutorOptions,
  ) {}

  /** The request a task was opened with, for `execute` to start. */
  expect(taskId: string, request: TeamRequest): void {
    this.expected.set(taskId, request);
  }

  /** Why a message on this task cannot be taken now, if it cannot: only a run waiting at a gate takes a reply. */
  refusesReply(taskId: string): string | undefined {
    const run = this.runs.get(taskId);
    if (run?.gate) return undefined;
    if (run) return `task ${taskId} is working and waits for no reply; reply when it asks for input (input-required)`;
    return `task ${taskId} is not running in this server (\`orch logs ${taskId}\` shows its run; a paused run continues with orch approve and orch resume)`;
  }

  /** Waits until every run has wound down (after the shutdown signal interrupted them). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const task = ctx.task;
    bus.publish(AgentEvent.task(task ?? emptyTask(ctx.taskId, ctx.contextId)));
    const request = this.expected.get(ctx.taskId);
    if (request) {
      this.expected.delete(ctx.taskId);
      return this.start(ctx, bus, request);
    }
    const run = this.runs.get(ctx.taskId);
    if (!run?.gate) {
      // The request handler refuses such a message; one that got here meanwhile finds the task as it is.
      return;
    }
    const decision = replyOf(ctx.userMessage, run.gate.request);
    if (typeof decision === 'object' && 'problem' in decision) {
      const again = `${decision.problem}\n\n${gateQuestion(run.gate.request)}`;
      bus.publish(AgentEvent.statusUpdate(status(ctx.taskId, ctx.contextId, TaskState.TASK_STATE_INPUT_REQUIRED, again, gateData(run.gate.request))));
      return;
    }
    const gate = run.gate;
    run.gate = undefined;
    run.bus = bus;
    const stopped = new Promise<void>((resolve) => (run.stopped = resolve));
    bus.publish(AgentEvent.statusUpdate(status(ctx.taskId, ctx.contextId, TaskState.TASK_STATE_WORKING, decisionText(gate.request, decision))));
    gate.resolve(decision);
    await stopped;
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const run = this.runs.get(taskId);
    if (!run) return;
    run.bus = bus;
    run.controller.abort('cancelled');
    // A run waiting at a gate learns of the cancel through the ask's signal; the run's end publishes `canceled`.
    await run.done;
  }

  private async start(ctx: RequestContext, bus: ExecutionEventBus, request: TeamRequest): Promise<void> {
    const taskId = ctx.taskId;
    const run: TaskRun = { contextId: ctx.contextId, bus, controller: new AbortController() };
    this.runs.set(taskId, run);
    const stopped = new Promise<void>((resolve) => (run.stopped = resolve));
    const publish = (state: TaskState, text: string, data?: unknown) => run.bus?.publish(AgentEvent.statusUpdate(status(taskId, run.contextId, state, text, data)));
    publish(TaskState.TASK_STATE_WORKING, `${request.workflow.name}: run ${taskId} started`);
    const ask = (gate: GateRequest, signal: AbortSignal): Promise<boolean | string | GateRejection | undefined> =>
      new Promise((resolve) => {
        if (signal.aborted) return resolve(undefined);
        signal.addEventListener('abort', () => resolve(undefined), { once: true });
        run.gate = { request: gate, resolve };
        publish(TaskState.TASK_STATE_INPUT_REQUIRED, gateQuestion(gate), gateData(gate));
        run.stopped?.();
      });
    run.done = startRun(
      {
        project: this.project,
        workflow: request.workflow,
        approve: new Set(),
        approveAll: false,
        ask,
        logger: silentLogger,
        supervisor: this.options.supervisor,
        signal: AbortSignal.any([this.options.shutdown, run.controller.signal]),
        runId: taskId,
        client: A2A_CLIENT,
        onEvent: (event) => {
          const text = stepText(event);
          if (text) publish(TaskState.TASK_STATE_WORKING, text, { event: event.type, ...('step' in event && { step: event.step }) });
        },
      },
      request.inputs,
    )
      .then((result) => this.finish(taskId, run, request.workflow, result))
      .catch((err: unknown) => {
        if (!isOrchError(err)) this.options.onBug(err);
        publish(TaskState.TASK_STATE_FAILED, isOrchError(err) ? `${err.code}: ${err.message}` : String(err));
      })
      .finally(() => {
        run.stopped?.();
        this.runs.delete(taskId);
      });
    await stopped;
  }

  private finish(taskId: string, run: TaskRun, workflow: WorkflowDef, result: SessionResult): void {
    const report = runReport(result.state, workflow);
    const outputs = Object.fromEntries(report.steps.filter((s) => s.status === 'succeeded').map((s) => [s.id, s.output]));
    run.bus?.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId: run.contextId,
        artifact: {
          artifactId: 'outputs',
          name: 'outputs',
          description: `The outputs of run ${taskId}, by step`,
          parts: [dataPart(outputs)],
          metadata: { run_id: taskId, status: report.status },
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    const lines = [`${workflow.name} ${report.status} (run ${taskId})`, ...report.steps.map((s) => `  ${s.id}: ${s.status}${s.error ? ` — ${s.error.split('\n')[0] ?? ''}` : ''}`)];
    const state =
      result.outcome === 'succeeded'
        ? TaskState.TASK_STATE_COMPLETED
        : result.outcome === 'interrupted'
          ? TaskState.TASK_STATE_CANCELED
          : result.outcome === 'paused'
            ? TaskState.TASK_STATE_INPUT_REQUIRED
            : TaskState.TASK_STATE_FAILED;
    if (result.outcome === 'paused') lines.push(`Paused: decide with orch approve ${taskId} <step> / orch reject, then orch resume ${taskId}`);
    run.bus?.publish(AgentEvent.statusUpdate(status(taskId, run.contextId, state, lines.join('\n'), report)));
  }
}

/** A reply to a gate: approve or reject it (with a reason), or (an agent's question) answer it; else what is wrong with it. */
function replyOf(message: Message, gate: GateRequest): boolean | string | GateRejection | { problem: string } {
  const data = message.parts.map((p) => p.content).find((c) => c?.$case === 'data');
  const value: unknown = data?.$case === 'data' ? data.value : undefined;
  const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  if (gate.question !== undefined) {
    if (typeof fields.answer === 'string' && fields.answer.trim() !== '') return fields.answer.trim();
    if (fields.approve === false) return typeof fields.reason === 'string' ? { rejected: true, reason: fields.reason } : false;
    const text = textOf(message);
    return text !== '' ? text : { problem: 'reply with the answer as text, or a data part {"answer": "..."}' };
  }
  if (fields.approve === false && typeof fields.reason === 'string' && fields.reason.trim() !== '') return { rejected: true, reason: fields.reason.trim() };
  if (typeof fields.approve === 'boolean') return fields.approve;
  return { problem: 'reply with a data part {"approve": true}, or {"approve": false, "reason": "..."}' };
}

function gateQuestion(gate: GateRequest): string {
  if (gate.question !== undefined) return `The agent of step \`${gate.step.id}\` asks: ${gate.question}`;
  const reply = 'Reply {"approve": true} or {"approve": false, "reason": "..."}.';
  if (gate.toolCall) return `Approve the model's call of \`${gate.toolCall.tool}\` in step \`${gate.step.id}\` with ${resultText(gate.toolCall.input)}? ${reply}`;
  const what =
    gate.when === 'before'
      ? `Approve step \`${gate.step.id}\` (${gate.step.action}) before it runs, with ${resultText(gate.args)}?`
      : `Approve the output of step \`${gate.step.id}\`: ${resultText(gate.output ?? null)}?`;
  return `${what} ${reply}`;
}

function gateData(gate: GateRequest): Record<string, unknown> {
  return {
    gate: gate.question !== undefined ? 'question' : gate.toolCall ? 'tool_approval' : 'approval_required',
    step: gate.step.id,
    when: gate.when,
    ...(gate.question !== undefined && { question: gate.question }),
    ...(gate.toolCall && { tool_call: { tool: gate.toolCall.tool, input: gate.toolCall.input } }),
    ...(gate.when === 'after' && gate.question === undefined && !gate.toolCall && { output: gate.output ?? null }),
  };
}

function decisionText(gate: GateRequest, decision: boolean | string | GateRejection): string {
  if (typeof decision === 'string') return `step ${gate.step.id}: answered`;
  if (typeof decision === 'object') return `step ${gate.step.id}: rejected — ${decision.reason}`;
  return `step ${gate.step.id}: ${decision ? 'approved' : 'rejected'}`;
}

/** One line per step's progress, for the task's status updates. */
function stepText(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'step_started':
      return `step ${event.step} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'step_succeeded':
      return `step ${event.step} succeeded`;
    case 'step_failed':
      return `step ${event.step} failed: ${event.error.split('\n')[0] ?? ''}`;
    case 'step_skipped':
      return `step ${event.step} skipped: ${event.reason}`;
    default:
      return undefined;
  }
}

function emptyTask(id: string, contextId: string): Task {
  return { id, contextId, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() }, artifacts: [], history: [], metadata: undefined };
}

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function status(taskId: string, contextId: string, state: TaskState, text: string, data?: unknown) {
  const parts: Part[] = [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }];
  if (data !== undefined) parts.push(dataPart(data));
  const message: Message = { messageId: crypto.randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
  return { taskId, contextId, status: { state, message, timestamp: new Date().toISOString() }, metadata: undefined };
}
