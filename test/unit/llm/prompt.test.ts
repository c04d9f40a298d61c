import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, type JSONValue, type LanguageModel, type ModelMessage, type Tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chat, openChat, type ChatMessage } from '../../../src/llm/chat.js';
import type { ModelRef } from '../../../src/llm/models.js';
import { PromptCache, toPromptMessage, type Prompt } from '../../../src/llm/prompt.js';
import { toolNames } from '../../../src/llm/tool-names.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';
import { APIS, KEY, TOOLS, modelAt } from './helpers.js';

/** A step's history with every kind of message orch sends: text, parallel calls, results of each kind, a repair turn. */
const HISTORY: ChatMessage[] = [
  { role: 'user', text: 'Action: review\n\nInput:\n{"pr": 7}' },
  {
    role: 'assistant',
    text: 'Two things first.',
    toolCalls: [
      { callId: 'c1', name: 'memory.create_entities', input: { names: ['orch'] } },
      { callId: 'c2', name: 'echo', input: { text: 'hi' } },
    ],
  },
  {
    role: 'tool',
    results: [
      { callId: 'c1', name: 'memory.create_entities', output: { created: 1, at: undefined, list: [1, 'two', null] } },
      { callId: 'c2', name: 'echo', output: 'echo is down', isError: true },
    ],
  },
  { role: 'assistant', text: '', toolCalls: [{ callId: 'c3', name: 'echo', input: {} }] },
  { role: 'tool', results: [{ callId: 'c3', name: 'echo', output: undefined }] },
  { role: 'assistant', text: 'not JSON', toolCalls: [] },
  { role: 'user', text: 'Your answer does not match the required JSON Schema. Answer again.' },
];

const NAMES = toolNames(TOOLS.map((t) => t.name));

/** The prompt converted in one go, as a step's first turn would after a resume. */
function fullPrompt(system: string, messages: readonly ChatMessage[]): Prompt {
  return new PromptCache(system, NAMES).prompt(messages);
}

describe('the prompt of a step, converted a message at a time', () => {
  it('is at every turn what converting the whole history gives', () => {
    const cache = new PromptCache('You review changes.', NAMES);
    for (let turn = 1; turn <= HISTORY.length; turn++) {
      const sent = HISTORY.slice(0, turn);
      const expected = [{ role: 'system', content: 'You review changes.' }, ...sent.map((m) => toPromptMessage(m, NAMES))];
      expect(cache.prompt(sent), `turn ${turn}`).toEqual(expected);
      expect(cache.prompt(sent)).toEqual(fullPrompt('You review changes.', sent));
    }
  });

  it('converts a message that replaces an earlier one (a result cut to fit the context) anew', () => {
    const cache = new PromptCache('s', NAMES);
    const [user, call, result] = HISTORY as [ChatMessage, ChatMessage, Extract<ChatMessage, { role: 'tool' }>];
    expect(JSON.stringify(cache.prompt([user, call, result]))).toContain('created');
    const cut: ChatMessage = { role: 'tool', results: result.results.map((r) => ({ ...r, output: '[orch: cut]' })) };
    const prompt = cache.prompt([user, call, cut]);
    expect(prompt).toEqual(fullPrompt('s', [user, call, cut]));
    expect(JSON.stringify(prompt)).not.toContain('created');
  });

  it('sends results that follow results as one tool message, leaving the cached ones as they were', () => {
    const cache = new PromptCache('s', NAMES);
    const first: ChatMessage = { role: 'tool', results: [{ callId: 'c1', name: 'echo', output: 'a' }] };
    const second: ChatMessage = { role: 'tool', results: [{ callId: 'c2', name: 'echo', output: 'b' }] };
    const call: ChatMessage = { role: 'assistant', text: '', toolCalls: [{ callId: 'c1', name: 'echo', input: {} }, { callId: 'c2', name: 'echo', input: {} }] };
    const prompt = cache.prompt([{ role: 'user', text: 'go' }, call, first, second]);
    expect(prompt).toHaveLength(4);
    expect(prompt[3]).toEqual({
      role: 'tool',
      content: [
        { type: 'tool-result', toolCallId: 'c1', toolName: 'echo', output: { type: 'text', value: 'a' } },
        { type: 'tool-result', toolCallId: 'c2', toolName: 'echo', output: { type: 'text', value: 'b' } },
      ],
    });
    expect(cache.prompt([{ role: 'user', text: 'go' }, call, first])[3]).toEqual(toPromptMessage(first, NAMES));
  });
});

/** The same history as the AI SDK's ModelMessages, the form `generateText` takes. */
function modelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map((m): ModelMessage => {
    switch (m.role) {
      case 'user':
        return { role: 'user', content: m.text };
      case 'assistant':
        return {
          role: 'assistant',
          content: [
            ...(m.text === '' ? [] : [{ type: 'text' as const, text: m.text }]),
            ...m.toolCalls.map((c) => ({ type: 'tool-call' as const, toolCallId: c.callId, toolName: NAMES.toProvider(c.name), input: c.input })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: m.results.map((r) => ({
            type: 'tool-result' as const,
            toolCallId: r.callId,
            toolName: NAMES.toProvider(r.name),
            output:
              typeof r.output === 'string'
                ? { type: r.isError ? ('error-text' as const) : ('text' as const), value: r.output }
                : { type: r.isError ? ('error-json' as const) : ('json' as const), value: JSON.parse(JSON.stringify(r.output ?? null)) as JSONValue },
          })),
        };
    }
  });
}

function sdkModel(ref: ModelRef): LanguageModel {
  const baseURL = ref.baseURL ?? '';
  if (ref.provider === 'anthropic') return createAnthropic({ apiKey: KEY, baseURL }).messages(ref.model);
  if (ref.provider === 'openai') return createOpenAI({ apiKey: KEY, baseURL }).chat(ref.model);
  return createOpenAICompatible({ name: 'openai-compatible', baseURL, apiKey: KEY }).chatModel(ref.model);
}

describe.each(APIS)('a turn on %s', (api) => {
  let stub: LlmStub;
  let ref: ModelRef;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    stub = await startStub();
    ({ ref, env } = modelAt(stub, api));
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
  });

  it("sends the request generateText sends for the same history and tools (what a recording's digest is made of)", async () => {
    const system = 'You review changes.';
    const tools: Record<string, Tool> = {};
    for (const t of TOOLS) tools[NAMES.toProvider(t.name)] = { description: t.description, inputSchema: jsonSchema(t.inputSchema) };
    for (const messages of [HISTORY.slice(0, 1), HISTORY.slice(0, 3), HISTORY]) {
      stub.reply({ text: 'ok' }, { text: 'ok' });
      await generateText({ model: sdkModel(ref), system, messages: modelMessages(messages), tools, maxRetries: 0 });
      await chat({ model: ref, system, messages, tools: TOOLS, env });
      const [theirs, ours] = stub.requests.splice(0, 2);
      expect(ours?.path).toBe(theirs?.path);
      expect(ours?.body).toEqual(theirs?.body);
    }
    stub.reply({ text: 'ok' }, { text: 'ok' });
    await generateText({ model: sdkModel(ref), system, messages: modelMessages(HISTORY), maxRetries: 0 });
    await chat({ model: ref, system, messages: HISTORY, tools: [], env });
    const [theirs, ours] = stub.requests.splice(0, 2);
    expect(ours?.body).toEqual(theirs?.body);
  });

  it('keeps one conversation over several turns, each sending the history so far', async () => {
    const conversation = openChat({ model: ref, system: 's', tools: TOOLS, env });
    const messages: ChatMessage[] = [{ role: 'user', text: 'go' }];
    stub.reply({ toolCalls: [{ name: 'echo', input: {} }] }, { toolCalls: [{ name: 'echo', input: { text: 'b' } }] }, { text: 'done' });
    for (;;) {
      const answer = await conversation.send(messages);
      messages.push({ role: 'assistant', text: answer.text, toolCalls: answer.toolCalls });
      if (answer.toolCalls.length === 0) break;
      messages.push({ role: 'tool', results: answer.toolCalls.map((c) => ({ callId: c.callId, name: c.name, output: `ran with ${JSON.stringify(c.input)}` })) });
    }
    expect(messages.at(-1)).toEqual({ role: 'assistant', text: 'done', toolCalls: [] });
    expect(stub.requests).toHaveLength(3);
    const last = JSON.stringify(stub.requests[2]?.body);
    expect(last).toContain('ran with {}');
    expect(last).toContain('ran with {\\"text\\":\\"b\\"}');
  });
});
