import { Ajv, type ValidateFunction } from 'ajv';
import { ExitCode, OrchError } from '../errors.js';
import type { Cassette } from '../llm/cassette.js';
import type { Chat, ChatMessage, ChatTool, ToolCallPart } from '../llm/chat.js';
import type { ModelRef } from '../llm/models.js';
import { costOf, priceOf } from '../llm/prices.js';
import { inSpan } from '../util/tracing.js';
import type { ToolCallRecord, UsageRecord } from '../state/events.js';
import { addUsage, type ConversationEvent } from '../state/run-state.js';
import { parseOutput, resultText } from '../tools/result.js';
import type { ActionChannel, ToolDecision } from './action-channel.js';
import { ContextFit, RequestDigest } from './llm-history.js';
import { BudgetExceeded, checkBefore, checkSpent, remaining, type Budget } from './budget.js';
import type { Performance } from './action.js';

/** A tool as the loop offers it to the model, and how to run it. */
export interface OfferedTool extends ChatTool {
  /** A person approves each call before it runs. */
  approval: boolean;
  /** The call is a question to a person (`ask_human`): their answer is its result, and nothing runs. */
  question?: boolean;
  /** The call hands the conversation to another agent (`transfer_to_agent`): the loop ends there. */
  handoff?: boolean;
  /** The tool only reads (`read_only: true`, MCP's `readOnlyHint`): a call of it changes nothing. */
  readOnly?: boolean;
  run(input: Record<string, unknown>, signal: AbortSignal, call: CallContext): Promise<unknown>;
}

/** What a tool call knows of the loop that makes it: its id, and what is left of the loop's budget. */
export interface CallContext {
  callId: string;
  budget: Budget;
}

/** A tool result that used a model on the way (a delegated run): its usage counts toward the caller's budget. */
export class WithUsage {
  constructor(
    readonly output: unknown,
    readonly usage: UsageRecord | undefined,
  ) {}
}

export interface LoopOptions {
  model: ModelRef;
  system: string;
  /** The first user message: the action, its input, and what the steps before produced. */
  prompt: string;
  tools: readonly OfferedTool[];
  budget: Budget;
  outputSchema?: Record<string, unknown>;
  maxToolResultChars: number;
  /** Names the step in replay misses and errors, e.g. `step review`. */
  label: string;
  env: NodeJS.ProcessEnv;
  cassette?: Cassette;
  channel?: ActionChannel;
  /** A delegated run: the `dispatch_to_agent` call it serves, and its agent; its events are journalled under both. */
  delegation?: { via: string; agent: string };
  signal: AbortSignal;
}

/** Thrown when a tool call waits for a person: the run pauses, and resumes the loop where it stopped. */
export class ApprovalPending extends OrchError {
  constructor(readonly call: ToolCallRecord) {
    super('ORCH_APPROVAL_PENDING', `the model's call of \`${call.tool}\` needs a person's approval`, { exitCode: ExitCode.paused });
    this.name = 'ApprovalPending';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });

/**
 * The tool-use loop of an LLM agent: ask the model, run the tool calls it makes (in
 * parallel, each only if the agent may use it, and only once a person approved it when
 * it needs approval), give it the results, until it answers. Every model turn and tool
 * call goes to the journal through the channel, and a loop given a history continues from
 * it: a finished turn is not asked again, a finished tool call is not run again.
 */
/** How a loop ended: the answer, or a handoff of the conversation to another agent. */
export interface LoopResult extends Performance {
  handoff?: { to: string; callId: string; note?: string; messages: ChatMessage[] };
}

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const startedAt = Date.now();
  const messages: ChatMessage[] = [{ role: 'user', text: o.prompt }];
  const byName = new Map(o.tools.map((t) => [t.name, t]));
  const validate = o.outputSchema ? compile(o.outputSchema) : undefined;
  let usage: UsageRecord = { input_tokens: 0, output_tokens: 0, ...(priceOf(o.model) ? { cost_usd: 0 } : {}) };
  let turns = 0;
  let repaired = false;

  // What the journal already holds of this attempt: turns to replay, tool results to reuse.
  // The step's own loop and each delegated run see only their own events.
  const via = o.delegation?.via;
  const history = (o.channel?.history ?? []).filter((e) => e.via === via);
  if (o.delegation && o.channel) o = { ...o, channel: tagged(o.channel, o.delegation) };
  // Resumed, the step's own loop counts what its finished delegations used before the crash.
  if (!via) {
    for (const e of o.channel?.history ?? []) if (e.type === 'model_turn' && e.via !== undefined) usage = addUsage(usage, e.usage);
  }
  const finished = new Map<string, Extract<ConversationEvent, { type: 'tool_call_finished' }>>();
  for (const e of history) if (e.type === 'tool_call_finished') finished.set(e.call_id, e);
  const recorded = history.filter((e): e is Extract<ConversationEvent, { type: 'model_turn' }> => e.type === 'model_turn');
  const tools: ChatTool[] = o.tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
  const setup = { model: o.model, system: o.system, tools, env: o.env };
  let conversation: Chat | undefined;
  const context = new ContextFit();
  const digests = new RequestDigest(o.model.model, o.system, tools);
  const price = priceOf(o.model);

  for (;;) {
    const past = recorded[turns];
    let text: string;
    let calls: ToolCallPart[];
    if (past) {
      // A turn the journal has: its answer as it came, without asking the model again.
      text = past.text;
      calls = past.tool_calls.map((c) => ({ callId: c.call_id, name: c.tool, input: c.input }));
      usage = addUsage(usage, past.usage);
      turns++;
    } else {
      checkBefore(o.budget, turns, usage, startedAt);
      const started = Date.now();
      const sent = context.fit(messages);
      const digest = digests.of(sent);
      const { response, used } = await inSpan(
        `chat ${o.model.model}`,
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.system': o.model.provider,
          'gen_ai.provider.name': o.model.provider,
          'gen_ai.request.model': o.model.model,
          'orch.agent.type': o.delegation?.agent,
          'orch.llm.turn': turns + 1,
          'orch.llm.label': o.label,
        },
        async (span) => {
          // The AI SDK and its providers load with the first model turn, not with every orch command.
          conversation ??= (await import('../llm/chat.js')).openChat(setup);
          const response = await conversation.send(sent, { signal: o.signal, fetch: o.cassette?.fetchFor(`${o.label}, turn ${turns + 1}`) });
          const used: UsageRecord = { ...response.usage, ...(price ? { cost_usd: round(costOf(response.usage, price)) } : {}) };
          span.set({ ...usageAttributes(used), 'gen_ai.response.finish_reason': response.finishReason, 'orch.llm.tool_calls': response.toolCalls.length });
          return { response, used };
        },
        { kind: 'client' },
      );
      turns++;
      usage = addUsage(usage, used);
      text = response.text;
      calls = response.toolCalls;
      await o.channel?.record(
        {
          type: 'model_turn',
          turn: turns,
          model: o.model.model,
          request_digest: digest,
          text,
          tool_calls: calls.map((c) => ({ call_id: c.callId, tool: c.name, input: c.input })),
          usage: used,
          duration_ms: Date.now() - started,
        },
        mustSync(calls, byName),
      );
      checkSpent(o.budget, turns, usage);
    }
    messages.push({ role: 'assistant', text, toolCalls: calls });

    if (calls.length === 0) {
      const output = answerOf(text);
      const problems = validate ? schemaProblems(validate, output) : undefined;
      if (!problems) return { output, usage };
      if (repaired) {
        throw new OrchError('ORCH_OUTPUT_INVALID', `the model's answer does not match the step's output_schema after a repair turn: ${problems}`, {
          hint: 'loosen `output_schema`, or say in the system prompt what the answer must look like',
        });
      }
      repaired = true;
      messages.push({ role: 'user', text: `Your answer does not match the required JSON Schema: ${problems}. Answer again with only the JSON value, nothing else.` });
      continue;
    }

    const left = remaining(o.budget, usage) ?? o.budget;
    const results = await Promise.all(calls.map((call) => runCall(o, byName, turns, call, finished, left)));
    // What delegated runs used is the caller's too: its budget counts it.
    for (const r of results) if ('usage' in r && r.usage) usage = addUsage(usage, r.usage);
    const pending = results.find((r): r is { pending: ToolCallRecord } => 'pending' in r);
    if (pending) throw new ApprovalPending(pending.pending);
    checkSpent(o.budget, turns, usage);
    messages.push({
      role: 'tool',
      results: results.map((r, i) => {
        const call = calls[i];
        const done = r as { output: unknown; isError: boolean };
        return { callId: call?.callId ?? '', name: call?.name ?? '', output: done.output, isError: done.isError };
      }),
    });
    // A handoff ends this agent's loop: the agent taken over finishes the step from here.
    const at = results.findIndex((r) => 'handoff' in r && r.handoff !== undefined);
    if (at >= 0) {
      const call = calls[at];
      const to = (results[at] as { handoff: string }).handoff;
      const note = typeof call?.input.note === 'string' ? call.input.note : undefined;
      return { output: null, usage, handoff: { to, callId: call?.callId ?? '', ...(note !== undefined && { note }), messages } };
    }
  }
}

/**
 * Whether a model turn must be on disk before its tool calls run: unless every call is of
 * a tool that only reads (or of none the agent may use, which is refused), a power cut
 * after a call had run could otherwise leave its effect with no record of the turn that
 * asked for it. A turn that only reads, or answers, is written at once (a killed orch
 * finds it) and synced with the next event that is: the next turn, or the step's end;
 * a power cut before then loses the turn, and the model is asked it again.
 */
function mustSync(calls: readonly ToolCallPart[], byName: ReadonlyMap<string, OfferedTool>): boolean {
  for (const call of calls) {
    const tool = byName.get(call.name);
    if (tool !== undefined && tool.readOnly !== true) return true;
  }
  return false;
}

type CallResult = { output: unknown; isError: boolean; usage?: UsageRecord; handoff?: string } | { pending: ToolCallRecord };

/** One tool call of the model: refused, reused from the journal, waiting for a person, or run. */
async function runCall(
  o: LoopOptions,
  byName: ReadonlyMap<string, OfferedTool>,
  turn: number,
  call: ToolCallPart,
  finished: ReadonlyMap<string, { ok: boolean; output?: unknown; error?: string }>,
  budgetLeft: Budget,
): Promise<CallResult> {
  const record: ToolCallRecord = { call_id: call.callId, tool: call.name, input: call.input };
  const tool = byName.get(call.name);
  const handedTo = tool?.handoff === true && typeof call.input.agent === 'string' ? call.input.agent : undefined;
  const done = finished.get(call.callId);
  if (done) return done.ok ? { output: done.output, isError: false, ...(handedTo !== undefined && { handoff: handedTo }) } : { output: done.error ?? 'failed', isError: true };
  const finish = async (ok: boolean, value: unknown, started: number, refused = false): Promise<CallResult> => {
    const shown = ok ? truncate(value, o.maxToolResultChars) : String(value);
    await o.channel?.record(
      {
        type: 'tool_call_finished',
        turn,
        call_id: call.callId,
        tool: call.name,
        ok,
        ...(ok ? { output: shown } : { error: String(value) }),
        ...(refused ? { refused: true } : {}),
        duration_ms: Date.now() - started,
      },
      // Written at once, synced with the next model turn (group commit): a killed orch finds
      // it in the file; only a power cut before that sync can lose it, and the call then runs
      // again, as one that had started would (at least once).
      false,
    );
    return { output: shown, isError: !ok };
  };
  if (!tool) {
    // Never executed: the model is told which tools it has, and the refusal is journalled.
    const allowed = [...byName.keys()];
    return finish(false, `tool \`${call.name}\` is not available to this agent; its tools are: ${allowed.length ? allowed.join(', ') : '(none)'}`, Date.now(), true);
  }
  if (call.inputError) return finish(false, call.inputError, Date.now());
  if (tool.question) {
    const question = typeof call.input.question === 'string' ? call.input.question : JSON.stringify(call.input);
    const asked = Date.now();
    const decision: ToolDecision = o.channel ? await o.channel.decide(record, o.signal, question) : { decision: 'rejected', reason: 'nobody can be asked here' };
    if (decision.decision === 'pending') return { pending: record };
    if (decision.decision === 'rejected') return finish(false, `no answer${decision.reason ? `: ${decision.reason}` : ''}`, asked, true);
    return finish(true, decision.answer ?? '', asked);
  }
  if (tool.approval) {
    const decision: ToolDecision = o.channel ? await o.channel.decide(record, o.signal) : { decision: 'rejected', reason: 'approval is required and nobody can be asked here' };
    if (decision.decision === 'pending') return { pending: record };
    if (decision.decision === 'rejected') {
      return finish(false, `a person rejected this call${decision.reason ? `: ${decision.reason}` : ''}`, Date.now(), true);
    }
  }
  const started = Date.now();
  await o.channel?.record({ type: 'tool_call_started', turn, call_id: call.callId, tool: call.name, input: call.input }, false);
  try {
    const value = await tool.run(call.input, o.signal, { callId: call.callId, budget: budgetLeft });
    if (tool.handoff && handedTo !== undefined) return { ...(await finish(true, value, started)), handoff: handedTo };
    if (!(value instanceof WithUsage)) return await finish(true, value, started);
    return { ...(await finish(true, value.output, started)), usage: value.usage };
  } catch (err) {
    // A delegated run waiting for a person pauses the caller too; resume continues both.
    if (o.signal.aborted || (err instanceof OrchError && err.code === 'ORCH_APPROVAL_PENDING')) throw err;
    const failed = await finish(false, err instanceof Error ? err.message : String(err), started);
    // A delegated run that ran out of budget still spent it: the caller's budget counts that too.
    return err instanceof BudgetExceeded ? { ...failed, usage: err.usage } : failed;
  }
}

/** The channel of a delegated run: what it journals carries the call it serves and its agent. */
function tagged(channel: ActionChannel, delegation: { via: string; agent: string }): ActionChannel {
  return {
    history: channel.history,
    record: (event, durable) => channel.record({ ...event, via: delegation.via, agent: delegation.agent }, durable),
    decide: (call, signal, question) => channel.decide(call, signal, question),
    runUsage: () => channel.runUsage(),
  };
}

/** A tool result as the model gets it: text, cut with a note past the limit. */
function truncate(value: unknown, max: number): unknown {
  const text = resultText(value);
  if (text.length <= max) return value;
  return `${text.slice(0, max)}\n[orch: result truncated, ${text.length - max} of ${text.length} characters left out (max_tool_result_chars: ${max})]`;
}

/** The final answer as the step's output: JSON when it is JSON (a fenced block too), else the text. */
function answerOf(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n```\s*$/.exec(text);
  return parseOutput(fenced?.[1] ?? text);
}

function compile(schema: Record<string, unknown>): ValidateFunction {
  try {
    return ajv.compile(schema);
  } catch (err) {
    throw new OrchError('ORCH_SCHEMA', `the step's output_schema is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function schemaProblems(validate: ValidateFunction, value: unknown): string | undefined {
  if (validate(value)) return undefined;
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(the answer)'} ${e.message ?? 'is invalid'}`).join('; ');
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** Usage as span attributes: GenAI's token counts, and the cost as orch's own. */
export function usageAttributes(usage: UsageRecord): Record<string, number | undefined> {
  return { 'gen_ai.usage.input_tokens': usage.input_tokens, 'gen_ai.usage.output_tokens': usage.output_tokens, 'orch.cost_usd': usage.cost_usd };
}
