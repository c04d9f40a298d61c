import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, type JSONValue, type LanguageModel, type ModelMessage, type Tool, type ToolResultPart } from 'ai';
import { Redactor, collectSecrets } from '../secrets/redact.js';
import { llmError } from './errors.js';
import { withRetries, type CallDescription } from './faults.js';
import { PUBLIC_BASE_URL, type ModelRef } from './models.js';
import { toolNames, type ToolNames } from './tool-names.js';

/*
 * orch's one door to a model: one turn, no tool ever executed here. The AI SDK (v6) stays
 * behind this file and faults.ts, so a move to another version touches src/llm/ only.
 */

/** A tool offered to the model, by orch's name for it. */
export interface ChatTool {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  inputSchema: Record<string, unknown>;
}

export interface ToolCallPart {
  /** The provider's id for the call, which its result must quote. */
  callId: string;
  /** orch's name for the tool (mapped back from the provider's), or the name the model made up. */
  name: string;
  input: Record<string, unknown>;
  /** Set when the model's arguments were not a JSON object; `input` is then `{}`. */
  inputError?: string;
}

export type ChatMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCallPart[] }
  | { role: 'tool'; results: { callId: string; name: string; output: unknown; isError?: boolean }[] };

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

/**
 * One model turn: the system prompt, the history and the tools go out; the answer's text,
 * tool calls (orch's names) and usage come back. A missing key is not checked here — a
 * replayed run needs none; callers check `missingKey` before a live run. Throws
 * `ORCH_LLM_REQUEST` (the provider refused), `ORCH_LLM_PROVIDER` (retries spent),
 * `ORCH_CANCELLED` (the signal), or what the transport throws (`ORCH_REPLAY_MISS`).
 */
export async function chat(request: ChatRequest): Promise<ChatResponse> {
  const { model: ref } = request;
  const names = toolNames(request.tools.map((t) => t.name));
  const key = ref.apiKeyEnv === undefined ? undefined : request.env[ref.apiKeyEnv];
  const call: CallDescription = {
    what: `${ref.provider} model ${ref.model}`,
    apiKeyEnv: ref.apiKeyEnv,
    baseURL: ref.baseURL,
    // Built on a failure only: collecting the environment's secrets costs more than a turn's own work.
    redactor: () => new Redactor([...collectSecrets(request.env, []), ...(key ? [key] : [])]),
  };
  const model = languageModel(ref, key, request.fetch);
  const tools: Record<string, Tool> = {};
  for (const t of request.tools) {
    tools[names.toProvider(t.name)] = { description: t.description, inputSchema: jsonSchema(t.inputSchema) };
  }
  const messages = request.messages.map((m) => toModelMessage(m, names));

  const result = await withRetries(
    () =>
      generateText({
        model,
        system: request.system,
        messages,
        tools,
        maxOutputTokens: request.maxOutputTokens,
        abortSignal: request.signal,
        maxRetries: 0,
      }),
    call,
    { maxRetries: request.maxRetries, signal: request.signal },
  );
  return {
    text: result.text,
    toolCalls: result.toolCalls.map((c) => {
      const part: ToolCallPart = { callId: c.toolCallId, name: names.fromProvider(c.toolName), input: isObject(c.input) ? c.input : {} };
      if (!isObject(c.input)) part.inputError = `the arguments were not a JSON object: ${JSON.stringify(c.input)}`;
      return part;
    }),
    usage: { input_tokens: result.usage.inputTokens ?? 0, output_tokens: result.usage.outputTokens ?? 0 },
    finishReason: result.finishReason,
  };
}

// Base URL and key are always passed, so the SDK never falls back to process.env itself.
function languageModel(ref: ModelRef, key: string | undefined, transport: typeof fetch | undefined): LanguageModel {
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

function toModelMessage(message: ChatMessage, names: ToolNames): ModelMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: message.text };
    case 'assistant':
      return {
        role: 'assistant',
        content: [
          ...(message.text === '' ? [] : [{ type: 'text' as const, text: message.text }]),
          ...message.toolCalls.map((c) => ({
            type: 'tool-call' as const,
            toolCallId: c.callId,
            toolName: names.toProvider(c.name),
            input: c.input,
          })),
        ],
      };
    case 'tool':
      return {
        role: 'tool',
        content: message.results.map(
          (r): ToolResultPart => ({
            type: 'tool-result',
            toolCallId: r.callId,
            toolName: names.toProvider(r.name),
            output: toolOutput(r.output, r.isError === true),
          }),
        ),
      };
  }
}

function toolOutput(output: unknown, isError: boolean): ToolResultPart['output'] {
  if (typeof output === 'string') return { type: isError ? 'error-text' : 'text', value: output };
  const value = JSON.parse(JSON.stringify(output ?? null) ?? 'null') as JSONValue;
  return { type: isError ? 'error-json' : 'json', value };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
