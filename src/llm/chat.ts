import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { parsePartialJson } from 'ai';
import { Redactor, collectSecrets } from '../secrets/redact.js';
import { llmError } from './errors.js';
import { withRetries, type CallDescription } from './faults.js';
import { PUBLIC_BASE_URL, type ModelRef } from './models.js';
import { PromptCache, type CallOptions, type ChatMessage, type LanguageModelV3, type ToolCallPart } from './prompt.js';
import { toolNames, type ToolNames } from './tool-names.js';

/*
 * orch's one door to a model: one turn at a time, no tool ever executed here. The AI SDK
 * (v6) stays behind this file, prompt.ts and faults.ts, so a move to another version
 * touches src/llm/ only.
 */

/** A tool offered to the model, by orch's name for it. */
export interface ChatTool {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  inputSchema: Record<string, unknown>;
}

export type { ChatMessage, ToolCallPart } from './prompt.js';

export interface ChatRequest {
  model: ModelRef;
  system: string;
  messages: ChatMessage[];
  tools: ChatTool[];
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /** Where the key (`model.apiKeyEnv`) is read from, and whose secrets never reach an error message. */
  env: NodeJS.ProcessEnv;
  /** The transport, e.g. a cassette's `fetchFor(label)`; default the global fetch. */
  fetch?: typeof fetch;
  /** Retries of a 429, 5xx or failed connection (default 3; see RETRY_BOUNDS). */
  maxRetries?: number;
}

export interface ChatResponse {
  text: string;
  /** Several calls in one turn are parallel calls. */
  toolCalls: ToolCallPart[];
  usage: { input_tokens: number; output_tokens: number };
  /** The AI SDK's: `stop`, `tool-calls`, `length`, `content-filter`, `error` or `other`. */
  finishReason: string;
}

/** What stays the same over a step's turns: the model, the system prompt, the tools. */
export type ChatSetup = Omit<ChatRequest, 'messages' | 'signal' | 'fetch'>;

/** What changes from one turn to the next. */
export interface TurnOptions {
  signal?: AbortSignal;
  /** The transport of this turn, e.g. a cassette's `fetchFor(label)`; default the global fetch. */
  fetch?: typeof fetch;
}

/** A step's conversation with its model: one `send` per turn, the history growing between them. */
export interface Chat {
  send(messages: readonly ChatMessage[], options?: TurnOptions): Promise<ChatResponse>;
}

/**
 * One model turn: the system prompt, the history and the tools go out; the answer's text,
 * tool calls (orch's names) and usage come back. A missing key is not checked here — a
 * replayed run needs none; callers check `missingKey` before a live run. Throws
 * `ORCH_LLM_REQUEST` (the provider refused), `ORCH_LLM_PROVIDER` (retries spent),
 * `ORCH_CANCELLED` (the signal), or what the transport throws (`ORCH_REPLAY_MISS`).
 */
export function chat(request: ChatRequest): Promise<ChatResponse> {
  return openChat(request).send(request.messages, request);
}

/**
 * A conversation of several turns, as `chat` makes one. The tools are described to the
 * provider once, and each message of the history is converted once (it must not change
 * after it was sent); the model is called directly with the prompt in its standard form.
 * The SDK's `generateText` would check and convert the whole history again on every turn,
 * which grows with the step; the request that goes out is the one it would send.
 */
export function openChat(setup: ChatSetup): Chat {
  const { model: ref } = setup;
  const names = toolNames(setup.tools.map((t) => t.name));
  const key = ref.apiKeyEnv === undefined ? undefined : setup.env[ref.apiKeyEnv];
  const call: CallDescription = {
    what: `${ref.provider} model ${ref.model}`,
    apiKeyEnv: ref.apiKeyEnv,
    baseURL: ref.baseURL,
    // Built on a failure only: collecting the environment's secrets costs more than a turn's own work.
    redactor: () => new Redactor([...collectSecrets(setup.env, []), ...(key ? [key] : [])]),
  };
  // As the SDK orders them: by provider name, the first place a name appears, its last definition.
  const byProviderName = new Map<string, FunctionTool>();
  for (const t of setup.tools) {
    const name = names.toProvider(t.name);
    byProviderName.set(name, { type: 'function', name, description: t.description, inputSchema: t.inputSchema });
  }
  const tools = byProviderName.size === 0 ? undefined : [...byProviderName.values()];
  const toolChoice = tools === undefined ? undefined : ({ type: 'auto' } as const);
  const prompts = new PromptCache(setup.system, names);
  let model: LanguageModelV3 | undefined;
  let modelFetch: typeof fetch | undefined;

  return {
    async send(messages, options = {}) {
      if (model === undefined || options.fetch !== modelFetch) {
        model = languageModel(ref, key, options.fetch);
        modelFetch = options.fetch;
      }
      const callOptions: CallOptions = {
        prompt: prompts.prompt(messages),
        tools,
        toolChoice,
        maxOutputTokens: setup.maxOutputTokens,
        abortSignal: options.signal,
      };
      const current = model;
      const result = await withRetries(async () => current.doGenerate(callOptions), call, { maxRetries: setup.maxRetries, signal: options.signal });
      let text = '';
      const calls: Promise<ToolCallPart>[] = [];
      for (const part of result.content) {
        if (part.type === 'text') text += part.text;
        else if (part.type === 'tool-call' && part.providerExecuted !== true) calls.push(toolCall(part, names));
      }
      return {
        text,
        toolCalls: await Promise.all(calls),
        usage: { input_tokens: result.usage.inputTokens.total ?? 0, output_tokens: result.usage.outputTokens.total ?? 0 },
        finishReason: result.finishReason.unified,
      };
    },
  };
}

type FunctionTool = Extract<NonNullable<CallOptions['tools']>[number], { type: 'function' }>;

/**
 * A tool call as the model made it, its arguments read as the SDK reads them (empty means
 * `{}`; JSON that would set a prototype is refused), its name mapped back to orch's.
 */
async function toolCall(part: { toolCallId: string; toolName: string; input: string }, names: ToolNames): Promise<ToolCallPart> {
  let input: unknown = {};
  if (part.input.trim() !== '') {
    const parsed = await parsePartialJson(part.input);
    input = parsed.state === 'successful-parse' ? parsed.value : part.input;
  }
  const call: ToolCallPart = { callId: part.toolCallId, name: names.fromProvider(part.toolName), input: isObject(input) ? input : {} };
  if (!isObject(input)) call.inputError = `the arguments were not a JSON object: ${JSON.stringify(input)}`;
  return call;
}

// Base URL and key are always passed, so the SDK never falls back to process.env itself.
function languageModel(ref: ModelRef, key: string | undefined, transport: typeof fetch | undefined): LanguageModelV3 {
  const baseURL = ref.baseURL ?? PUBLIC_BASE_URL[ref.provider];
  switch (ref.provider) {
    case 'anthropic':
      return createAnthropic({ apiKey: key ?? '', baseURL, fetch: transport }).messages(ref.model);
    case 'openai':
      // Chat completions, not the Responses API: what OpenAI-compatible servers speak too.
      return createOpenAI({ apiKey: key ?? '', baseURL, fetch: transport }).chat(ref.model);
    case 'openai-compatible':
      if (baseURL === undefined) throw llmError('ORCH_MODEL_UNKNOWN', `openai-compatible model ${ref.model} has no base URL`);
      return createOpenAICompatible({ name: 'openai-compatible', baseURL, apiKey: key || undefined, fetch: transport }).chatModel(
        ref.model,
      );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
