import { Role, TaskState, type AgentCard, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import type { AgentDef } from '../config/model.js';
import { ExitCode, OrchError } from '../errors.js';
import type { ToolCallRecord } from '../state/events.js';
import { parseOutput } from '../tools/result.js';
import type { Performance, PerformContext, Performer } from './action.js';
import { runChain } from './interceptors.js';
import { ApprovalPending } from './llm-loop.js';

/** The tool name a remote agent's task has in the step's journal: one `tool_call_started` when it is created, one `tool_call_finished` when it ends. */
export const A2A_TASK = 'a2a';

/** How long to wait between looks at a remote task that is still working (after a resume, or a non-blocking answer). */
const POLL_MS = 500;

type Remote = NonNullable<AgentDef['a2a']>;

/** An A2A client of the remote agent: its card fetched, the JSON-RPC transport (1.0, or 0.3 for an older agent), the headers on every request. */
export async function remoteClient(remote: Remote, signal?: AbortSignal): Promise<{ client: Client; card: AgentCard }> {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(remote.headers)) headers.set(name, value);
    return fetch(input, { ...init, headers, ...(signal && { signal: init?.signal ? AbortSignal.any([signal, init.signal]) : signal }) });
  };
  const legacyCompat = { enabled: true };
  const resolver = new DefaultAgentCardResolver({ fetchImpl, legacyCompat });
  const options = ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat })],
    preferredTransports: ['JSONRPC'],
    cardResolver: resolver,
  });
  let card: AgentCard;
  try {
    card = await resolver.resolve(remote.url);
  } catch (err) {
    throw unreachable(remote, err);
  }
  try {
    return { client: await new ClientFactory(options).createFromAgentCard(card), card };
  } catch (err) {
    throw new OrchError('ORCH_A2A_UNREACHABLE', `the A2A agent at ${remote.url} offers no interface orch can use: ${messageOf(err)}`, {
      hint: 'orch speaks JSON-RPC (A2A 1.0, or 0.3); check the agent card\'s supportedInterfaces',
    });
  }
}

/**
 * An action carried out by a remote A2A agent: sent as a message (the action and input
 * as a data part, and as text for agents that read only text), and the task's last
 * artifact is the output. When the remote task needs input, the run's gate decides it
 * like an agent's question (`orch answer`) or, when the agent asks for an approval, like
 * a tool call (`orch approve`/`orch reject`); the task id is journalled, so a resumed run
 * continues the same remote task instead of sending the action again.
 */
export async function performRemote(agent: Performer, action: string, input: Record<string, unknown>, ctx: PerformContext): Promise<Performance> {
  const remote = ctx.project.agents.get(agent.role)?.a2a;
  if (!remote) throw new OrchError('ORCH_UNKNOWN_AGENT', `agent \`${agent.role}\` is not a remote A2A agent`);
  // Through the interceptor chain, as every tool call: the audit log has one line per remote task (or part of one, up to a pause).
  const ids = { ...ctx.ids, agent: agent.role, instance: agent.instance };
  const done = await runChain(ctx.interceptors, { tool: `${agent.role}.${action}`, kind: 'a2a', args: input, ids }, async () => ({ value: await remoteTask(agent, remote, action, input, ctx) }));
  return { output: done.value };
}

async function remoteTask(agent: Performer, remote: Remote, action: string, input: Record<string, unknown>, ctx: PerformContext): Promise<unknown> {
  const history = ctx.channel?.history ?? [];
  const done = new Set(history.flatMap((e) => (e.type === 'tool_call_finished' ? [e.call_id] : [])));
  const open = history.find((e) => e.type === 'tool_call_started' && e.tool === A2A_TASK && !done.has(e.call_id));
  const { client } = await remoteClient(remote, ctx.signal);
  const call = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw unreachable(remote, err);
    }
  };

  let result: Task | Message;
  let callId: string;
  if (open?.type === 'tool_call_started' && typeof open.input.task_id === 'string') {
    const id = open.input.task_id;
    callId = open.call_id;
    result = await call(() => client.getTask({ tenant: '', id, historyLength: 0 }));
  } else {
    const message = userMessage(actionParts(action, input, ctx.step?.needs));
    result = await call(() => client.sendMessage({ tenant: '', message, configuration: undefined, metadata: undefined }, { signal: ctx.signal }));
    callId = `a2a-${'status' in result ? result.id : result.messageId}`;
    if ('status' in result) {
      await ctx.channel?.record({ type: 'tool_call_started', turn: 0, call_id: callId, tool: A2A_TASK, input: { agent: agent.role, url: remote.url, task_id: result.id } }, true);
    }
  }
  const started = Date.now();
  const finish = async (ok: boolean, value: unknown): Promise<void> => {
    if (!('status' in result)) return;
    await ctx.channel?.record(
      { type: 'tool_call_finished', turn: 0, call_id: callId, tool: A2A_TASK, ok, ...(ok ? { output: value } : { error: String(value) }), duration_ms: Date.now() - started },
      true,
    );
  };
  const onAbort = () => {
    if ('status' in result) void client.cancelTask({ tenant: '', id: result.id, metadata: undefined }).catch(() => undefined);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (!('status' in result)) return valueOf(result.parts);
      const task: Task = result;
      const state = task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED;
      switch (state) {
        case TaskState.TASK_STATE_COMPLETED: {
          const output = outputOf(task);
          await finish(true, output);
          return output;
        }
        case TaskState.TASK_STATE_FAILED:
        case TaskState.TASK_STATE_REJECTED:
        case TaskState.TASK_STATE_CANCELED: {
          const why = textOf(task.status?.message?.parts ?? []) || 'no reason given';
          const word = state === TaskState.TASK_STATE_FAILED ? 'failed' : state === TaskState.TASK_STATE_REJECTED ? 'was rejected' : 'was cancelled';
          await finish(false, `${word}: ${why}`);
          throw new OrchError('ORCH_A2A_TASK_FAILED', `the remote agent \`${agent.role}\`'s task ${task.id} ${word}: ${why}`, { exitCode: ExitCode.runFailed });
        }
        case TaskState.TASK_STATE_INPUT_REQUIRED: {
          const reply = await decideInput(agent.role, task, ctx);
          result = await call(() => client.sendMessage({ tenant: '', message: userMessage(reply, task), configuration: undefined, metadata: undefined }, { signal: ctx.signal }));
          continue;
        }
        case TaskState.TASK_STATE_AUTH_REQUIRED:
          await finish(false, 'needs authentication');
          throw new OrchError('ORCH_A2A_TASK_FAILED', `the remote agent \`${agent.role}\`'s task ${task.id} needs authentication orch cannot give`, {
            hint: 'give the credentials it needs in the agent\'s `headers:`',
            exitCode: ExitCode.runFailed,
          });
        default:
          // Still working (a resumed run looking again, or an agent that answers before it is done).
          await sleep(POLL_MS, ctx.signal);
          if (ctx.signal.aborted) throw new OrchError('ORCH_CANCELLED', 'cancelled while the remote agent worked');
          result = await call(() => client.getTask({ tenant: '', id: task.id, historyLength: 0 }));
      }
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The run's decision on what a remote task asks: an approval when the agent's status
 * names one (as orch's own A2A server does), else a question a person answers. Without
 * a run to wait in (an orchestrate subtask), nobody can be asked.
 */
async function decideInput(role: string, task: Task, ctx: PerformContext): Promise<Part[]> {
  const parts = task.status?.message?.parts ?? [];
  const question = textOf(parts) || 'the remote agent asks for input';
  const gate = parts.map((p) => p.content).find((c) => c?.$case === 'data');
  const kind: unknown = gate?.$case === 'data' && gate.value !== null && typeof gate.value === 'object' ? (gate.value as { gate?: unknown }).gate : undefined;
  const approval = kind === 'approval_required' || kind === 'tool_approval';
  const record: ToolCallRecord = {
    call_id: `a2a-${task.id}-${task.status?.message?.messageId ?? task.status?.timestamp ?? 'input'}`,
    tool: approval ? `${role}.approve` : 'ask_human',
    input: { question, agent: role, task_id: task.id },
  };
  if (!ctx.channel) {
    throw new OrchError('ORCH_A2A_TASK_FAILED', `the remote agent \`${role}\` asks: ${question} — and nobody can answer outside a workflow run`, {
      hint: 'run the action as a workflow step, where the question waits at a gate',
      exitCode: ExitCode.runFailed,
    });
  }
  const decision = await ctx.channel.decide(record, ctx.signal, approval ? undefined : question);
  switch (decision.decision) {
    case 'pending':
      throw new ApprovalPending(record);
    case 'approved':
      return approval ? [dataPart({ approve: true })] : [textPart(decision.answer ?? ''), dataPart({ answer: decision.answer ?? '' })];
    case 'rejected':
      return [dataPart({ approve: false, ...(decision.reason !== undefined && { reason: decision.reason }) })];
  }
}

function actionParts(action: string, input: Record<string, unknown>, needs: Record<string, unknown> | undefined): Part[] {
  const given = needs && Object.keys(needs).length > 0 ? { action, input, needs } : { action, input };
  const text = Object.keys(input).length > 0 ? `${action}\n\nInput:\n${JSON.stringify(input, null, 2)}` : action;
  return [textPart(text), dataPart(given)];
}

function userMessage(parts: Part[], task?: Task): Message {
  return { messageId: crypto.randomUUID(), contextId: task?.contextId ?? '', taskId: task?.id ?? '', role: Role.ROLE_USER, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

/** A finished task's output: its last artifact, else what its final status says. */
function outputOf(task: Task): unknown {
  const last = task.artifacts.at(-1);
  if (last) return valueOf(last.parts);
  return valueOf(task.status?.message?.parts ?? []);
}

/** Parts as one value: a data part's value, else the text (parsed when it is JSON). */
function valueOf(parts: Part[]): unknown {
  const data = parts.map((p) => p.content).find((c) => c?.$case === 'data');
  if (data?.$case === 'data') return data.value ?? null;
  const text = textOf(parts);
  return text === '' ? null : parseOutput(text);
}

function textOf(parts: Part[]): string {
  return parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : [])).join('\n').trim();
}

function textPart(value: string): Part {
  return { content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function unreachable(remote: Remote, err: unknown): OrchError {
  return new OrchError('ORCH_A2A_UNREACHABLE', `the A2A agent at ${remote.url} could not be reached: ${messageOf(err)}`, {
    hint: 'check the agent\'s `a2a:` URL and `headers:`; `orch validate --connect` fetches its Agent Card',
    exitCode: ExitCode.runFailed,
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
