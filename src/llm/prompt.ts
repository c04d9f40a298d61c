import type { JSONValue, LanguageModel } from 'ai';
import type { ToolNames } from './tool-names.js';

/*
 * orch's conversation and the provider's standard form of it (the AI SDK v6 language
 * model's prompt). A step's history only grows, so each message is converted once, when
 * it is first sent, and later turns reuse it: a turn costs the new messages, not the
 * whole history again.
 */

export interface ToolCallPart {
  /** The provider's id for the call, which its result must quote. */
  callId: string;
  /** orch's name for the tool (mapped back from the provider's), or the name the model made up. */
  name: string;
  input: Record<string, unknown>;
  /** Set when the model's arguments were not a JSON object; `input` is then `{}`. */
  inputError?: string;
}

/** A message of a step's history. Once sent, a message is never changed: a new one replaces it. */
export type ChatMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCallPart[] }
  | { role: 'tool'; results: { callId: string; name: string; output: unknown; isError?: boolean }[] };

/** The language model interface of AI SDK v6, which every provider orch uses implements. */
export type LanguageModelV3 = Extract<LanguageModel, { specificationVersion: 'v3' }>;
export type CallOptions = Parameters<LanguageModelV3['doGenerate']>[0];
export type Prompt = CallOptions['prompt'];
export type PromptMessage = Prompt[number];
type ToolResultOutput = Extract<Extract<PromptMessage, { role: 'tool' }>['content'][number], { type: 'tool-result' }>['output'];

/**
 * The prompt of one step's turns: the system prompt, then the history, each message
 * converted on its first turn and kept (by identity) for the next ones. The result is
 * what the AI SDK's `generateText` would hand the model for the same system prompt and
 * messages, so recordings made through it still replay.
 */
export class PromptCache {
  private readonly head: PromptMessage;
  private readonly converted = new WeakMap<ChatMessage, PromptMessage>();

  constructor(
    system: string,
    private readonly names: ToolNames,
  ) {
    this.head = { role: 'system', content: system };
  }

  prompt(messages: readonly ChatMessage[]): Prompt {
    const prompt: Prompt = [this.head];
    for (const message of messages) {
      let part = this.converted.get(message);
      if (part === undefined) {
        part = toPromptMessage(message, this.names);
        this.converted.set(message, part);
      }
      // Results that follow results go out as one tool message, as the SDK sends them.
      const last = prompt[prompt.length - 1];
      if (part.role === 'tool' && last?.role === 'tool') prompt[prompt.length - 1] = { role: 'tool', content: [...last.content, ...part.content] };
      else prompt.push(part);
    }
    return prompt;
  }
}

/** One message of orch's history in the provider's standard form, tool names as the provider is shown them. */
export function toPromptMessage(message: ChatMessage, names: ToolNames): PromptMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: [{ type: 'text', text: message.text }] };
    case 'assistant':
      return {
        role: 'assistant',
        content: [
          ...(message.text === '' ? [] : [{ type: 'text' as const, text: message.text }]),
          ...message.toolCalls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.callId, toolName: names.toProvider(c.name), input: c.input })),
        ],
      };
    case 'tool':
      return {
        role: 'tool',
        content: message.results.map((r) => ({
          type: 'tool-result' as const,
          toolCallId: r.callId,
          toolName: names.toProvider(r.name),
          output: toolOutput(r.output, r.isError === true),
        })),
      };
  }
}

function toolOutput(output: unknown, isError: boolean): ToolResultOutput {
  if (typeof output === 'string') return { type: isError ? 'error-text' : 'text', value: output };
  const value = JSON.parse(JSON.stringify(output ?? null) ?? 'null') as JSONValue;
  return { type: isError ? 'error-json' : 'json', value };
}
