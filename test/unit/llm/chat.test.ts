import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isOrchError, type OrchError } from '../../../src/errors.js';
import { chat, type ChatMessage, type ChatRequest } from '../../../src/llm/chat.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';
import { APIS, KEY, TOOLS, modelAt, offeredTools, sentMessages } from './helpers.js';

async function failure(promise: Promise<unknown>): Promise<OrchError> {
  try {
    await promise;
  } catch (err) {
    if (isOrchError(err)) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe.each(APIS)('chat() on %s, through the AI SDK, against the stub', (api) => {
  let stub: LlmStub;
  let request: (extra?: Partial<ChatRequest>) => ChatRequest;

  beforeAll(async () => {
    stub = await startStub();
    const { ref, env } = modelAt(stub, api);
    request = (extra = {}) => ({ model: ref, system: 'You review changes.', messages: [{ role: 'user', text: 'Review PR 7' }], tools: TOOLS, env, ...extra });
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
  });

  it('gets a text answer with its usage, having sent the system prompt, the message, the tools and the key', async () => {
    stub.reply({ text: 'Looks good.', usage: { input_tokens: 120, output_tokens: 7 } });
    const response = await chat(request());
    expect(response).toEqual({ text: 'Looks good.', toolCalls: [], usage: { input_tokens: 120, output_tokens: 7 }, finishReason: 'stop' });

    expect(stub.requests).toHaveLength(1);
    const [sent] = stub.requests;
    expect(sent?.api).toBe(api === 'anthropic' ? 'anthropic' : 'openai');
    expect(offeredTools(sent!)).toEqual(['memory__create_entities', 'echo']);
    expect(JSON.stringify(sent?.body)).toContain('You review changes.');
    expect(JSON.stringify(sentMessages(sent!))).toContain('Review PR 7');
    const credential = api === 'anthropic' ? sent?.headers['x-api-key'] : sent?.headers.authorization;
    expect(credential).toBe(api === 'anthropic' ? KEY : `Bearer ${KEY}`);
  });

  it("maps a tool call's name back to orch's", async () => {
    stub.reply({ toolCalls: [{ name: 'memory__create_entities', input: { names: ['orch'] } }] });
    const response = await chat(request());
    expect(response.finishReason).toBe('tool-calls');
    expect(response.toolCalls).toEqual([{ callId: expect.any(String), name: 'memory.create_entities', input: { names: ['orch'] } }]);
  });

  it('returns parallel tool calls, each with its own id', async () => {
    stub.reply({ text: 'Two things at once.', toolCalls: [{ name: 'echo', input: { text: 'a' } }, { name: 'memory__create_entities', input: { names: ['b'] } }] });
    const response = await chat(request());
    expect(response.toolCalls.map((c) => [c.name, c.input])).toEqual([
      ['echo', { text: 'a' }],
      ['memory.create_entities', { names: ['b'] }],
    ]);
    expect(new Set(response.toolCalls.map((c) => c.callId)).size).toBe(2);
    expect(response.text).toBe('Two things at once.');
  });

  it('returns a call whose arguments are not a JSON object with an empty input and the reason', async () => {
    stub.reply({ toolCalls: [{ name: 'echo', input: '{"text": "unterminated' }] });
    const [call] = (await chat(request())).toolCalls;
    expect(call?.name).toBe('echo');
    expect(call?.input).toEqual({});
    expect(call?.inputError).toContain('not a JSON object');
  });

  it('sends tool results back against their calls, errors marked, names mapped', async () => {
    stub.reply({ toolCalls: [{ name: 'memory__create_entities', input: { names: ['x'] } }, { name: 'echo', input: { text: 'y' } }] }, { text: 'Done.' });
    const first = await chat(request());
    const [created, echoed] = first.toolCalls;
    const history: ChatMessage[] = [
      { role: 'user', text: 'Review PR 7' },
      { role: 'assistant', text: first.text, toolCalls: first.toolCalls },
      {
        role: 'tool',
        results: [
          { callId: created!.callId, name: created!.name, output: { created: 1 } },
          { callId: echoed!.callId, name: echoed!.name, output: 'echo is down', isError: true },
        ],
      },
    ];
    const second = await chat(request({ messages: history }));
    expect(second.text).toBe('Done.');

    const messages = sentMessages(stub.requests[1]!);
    const text = JSON.stringify(messages);
    expect(text).toContain(created!.callId);
    expect(text).toContain(echoed!.callId);
    expect(text).toContain('echo is down');
    expect(text).not.toContain('memory.create_entities');
    if (api === 'anthropic') {
      const results = (messages.at(-1)?.content ?? []) as { type: string; tool_use_id: string; is_error?: boolean; content: unknown }[];
      expect(results.map((r) => [r.type, r.tool_use_id, r.is_error === true])).toEqual([
        ['tool_result', created!.callId, false],
        ['tool_result', echoed!.callId, true],
      ]);
      const uses = (messages[1]?.content ?? []) as { type: string; name?: string }[];
      expect(uses.filter((u) => u.type === 'tool_use').map((u) => u.name)).toEqual(['memory__create_entities', 'echo']);
    } else {
      const results = messages.filter((m) => m.role === 'tool');
      expect(results.map((m) => m.tool_call_id)).toEqual([created!.callId, echoed!.callId]);
      expect(JSON.parse(String(results[0]?.content))).toEqual({ created: 1 });
      const assistant = messages.find((m) => m.role === 'assistant') as { tool_calls: { function: { name: string } }[] };
      expect(assistant.tool_calls.map((c) => c.function.name)).toEqual(['memory__create_entities', 'echo']);
    }
  });

  it('waits out a 429 with retry-after, then gets the answer', async () => {
    stub.reply({ status: 429, retryAfter: 1, message: 'slow down' }, { text: 'after the wait' });
    const response = await chat(request());
    expect(response.text).toBe('after the wait');
    expect(stub.requests).toHaveLength(2);
  });

  it('retries a 500', async () => {
    stub.reply({ status: 500 }, { status: 503 }, { text: 'third time' });
    expect((await chat(request())).text).toBe('third time');
    expect(stub.requests).toHaveLength(3);
  });

  it('gives up with ORCH_LLM_PROVIDER when the retries are spent', async () => {
    stub.reply({ status: 500, message: 'overloaded' }, { status: 500, message: 'overloaded' });
    const error = await failure(chat(request({ maxRetries: 1 })));
    expect(error.code).toBe('ORCH_LLM_PROVIDER');
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('overloaded');
    expect(stub.requests).toHaveLength(2);
  });

  it('does not sleep past its bound when the provider asks to wait longer', async () => {
    stub.reply({ status: 429, retryAfter: 120, message: 'quota' }, { text: 'never asked for' });
    const error = await failure(chat(request()));
    expect(error.code).toBe('ORCH_LLM_PROVIDER');
    expect(error.message).toContain('120s');
    expect(stub.requests).toHaveLength(1);
    stub.requests.length = 0;
    await chat(request());
  });

  it("fails a 400 with ORCH_LLM_REQUEST, the provider's message and never the key", async () => {
    stub.reply({ status: 400, message: `model gpt-nope does not exist (key ${KEY})` });
    const error = await failure(chat(request()));
    expect(error.code).toBe('ORCH_LLM_REQUEST');
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('model gpt-nope does not exist');
    expect(stub.requests).toHaveLength(1);
    for (const shown of [error.message, error.hint ?? '', String(error.stack), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
      expect(shown).not.toContain(KEY);
    }
  });

  it('says which variable to check on a 401', async () => {
    stub.reply({ status: 401, message: 'invalid x-api-key' });
    const error = await failure(chat(request()));
    expect(error.code).toBe('ORCH_LLM_REQUEST');
    expect(error.hint).toContain(api === 'anthropic' ? 'ANTHROPIC_API_KEY' : api === 'openai' ? 'OPENAI_API_KEY' : 'LOCAL_KEY');
  });

  it('ends a request in flight with ORCH_CANCELLED when the signal aborts', async () => {
    stub.reply({ text: 'too late', delayMs: 2000 });
    const controller = new AbortController();
    const pending = chat(request({ signal: controller.signal }));
    while (stub.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('ORCH_CANCELLED');
  });
});

describe('chat() on an OpenAI-compatible server without a key', () => {
  it('sends no Authorization header at all', async () => {
    const stub = await startStub();
    try {
      stub.reply({ text: 'local answer' });
      const response = await chat({
        model: { provider: 'openai-compatible', model: 'llama3.1', baseURL: stub.openaiBase },
        system: 's',
        messages: [{ role: 'user', text: 'hi' }],
        tools: [],
        env: {},
      });
      expect(response.text).toBe('local answer');
      expect(stub.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await stub.close();
    }
  });
});
