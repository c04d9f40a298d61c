import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { jsonSchema, streamText } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOrchError } from '../../../src/errors.js';
import { recordingFetch, replayingFetch } from '../../../src/llm/cassette.js';
import { chat, type ChatMessage, type ChatRequest } from '../../../src/llm/chat.js';
import { secretsRedactor } from '../../../src/secrets/redact.js';
import { startStub, type LlmStub } from '../../helpers/llm-stub.js';
import { APIS, KEY, TOOLS, modelAt } from './helpers.js';

const DB_PASSWORD = 'hunter2-db-password';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'orch-cassette-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const recordedFiles = (): string[] => readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'));

/** A two-turn tool loop, as the agent runtime will drive it, with a label per turn. */
async function twoTurns(base: Omit<ChatRequest, 'messages' | 'fetch'>, fetchFor: (label: string) => typeof fetch): Promise<{ final: string; calls: string[] }> {
  const messages: ChatMessage[] = [{ role: 'user', text: `Review PR 7; the database password is ${DB_PASSWORD}` }];
  const first = await chat({ ...base, messages, fetch: fetchFor('step review, turn 1') });
  messages.push({ role: 'assistant', text: first.text, toolCalls: first.toolCalls });
  messages.push({ role: 'tool', results: first.toolCalls.map((c) => ({ callId: c.callId, name: c.name, output: { ok: true } })) });
  const second = await chat({ ...base, messages, fetch: fetchFor('step review, turn 2') });
  return { final: second.text, calls: first.toolCalls.map((c) => c.name) };
}

describe.each(APIS)('record and replay on %s', (api) => {
  let stub: LlmStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('replays a recorded tool loop with the stub stopped, without a key, and no secret in any file', async () => {
    stub = await startStub();
    const { ref, env } = modelAt(stub, api);
    const recordEnv = { ...env, DB_PASSWORD };
    stub.reply({ status: 429, retryAfter: 0 }, { toolCalls: [{ name: 'memory__create_entities', input: { names: ['pr-7'] } }] }, { text: 'Approved.' });
    const base = { model: ref, system: 'You review changes.', tools: TOOLS };
    const recorder = recordingFetch(dir, { redactor: secretsRedactor(recordEnv, []) });
    const recorded = await twoTurns({ ...base, env: recordEnv }, recorder.fetchFor);
    expect(recorded).toEqual({ final: 'Approved.', calls: ['memory.create_entities'] });
    expect(stub.requests).toHaveLength(3);

    // The 429 is not kept: a replay gets the answer at once.
    const files = recordedFiles();
    expect(files).toHaveLength(2);
    for (const text of files) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(DB_PASSWORD);
    }
    expect(files.join('\n')).toContain('step review, turn 2');

    // With the stub stopped, any request that reached the network would fail the replay.
    await stub.close();
    stub = undefined;
    const replayer = replayingFetch(dir, { redactor: secretsRedactor({ DB_PASSWORD }, []) });
    // No key in the environment: CI replays without one.
    const replayed = await twoTurns({ ...base, env: { DB_PASSWORD }, maxRetries: 0 }, replayer.fetchFor);
    expect(replayed).toEqual(recorded);
  });

  it('fails a request it has no recording for with ORCH_REPLAY_MISS, naming the label, without retrying', async () => {
    stub = await startStub();
    const { ref, env } = modelAt(stub, api);
    stub.reply({ text: 'recorded' });
    const base: ChatRequest = { model: ref, system: 's', messages: [{ role: 'user', text: 'first question' }], tools: [], env };
    await chat({ ...base, fetch: recordingFetch(dir, { redactor: secretsRedactor(env, []) }).fetchFor('step review, turn 1') });
    await stub.close();
    stub = undefined;

    const replayer = replayingFetch(dir);
    expect((await chat({ ...base, fetch: replayer.fetchFor('step review, turn 1') })).text).toBe('recorded');
    let caught: unknown;
    try {
      await chat({ ...base, messages: [{ role: 'user', text: 'another question' }], fetch: replayer.fetchFor('step review, turn 2') });
    } catch (err) {
      caught = err;
    }
    expect(isOrchError(caught) && caught.code).toBe('ORCH_REPLAY_MISS');
    expect(isOrchError(caught) && caught.exitCode).toBe(1);
    expect(String(caught)).toContain('step review, turn 2');
  });
});

describe('record and replay of SSE streams, through the stub', () => {
  it.each(['anthropic', 'openai'] as const)('%s: the streamed text and tool call come back alike', async (api) => {
    const stub = await startStub();
    const redactor = secretsRedactor({ KEY }, []);
    const streamOnce = async (transport: typeof fetch): Promise<{ text: string; calls: unknown[]; usage: unknown }> => {
      const model =
        api === 'anthropic'
          ? createAnthropic({ apiKey: KEY, baseURL: `${stub.url}/v1`, fetch: transport }).messages('claude-sonnet-4-5')
          : createOpenAI({ apiKey: KEY, baseURL: stub.openaiBase, fetch: transport }).chat('gpt-4.1');
      const result = streamText({
        model,
        prompt: 'stream please',
        tools: { echo: { description: 'Echo', inputSchema: jsonSchema({ type: 'object', properties: { text: { type: 'string' } } }) } },
        maxRetries: 0,
      });
      const calls = (await result.toolCalls).map((c) => [c.toolName, c.input]);
      return { text: await result.text, calls, usage: (await result.usage).outputTokens };
    };
    try {
      stub.reply({ text: 'Streaming works.', toolCalls: [{ name: 'echo', input: { text: 'hi' } }], usage: { input_tokens: 4, output_tokens: 9 } });
      const live = await streamOnce(recordingFetch(dir, { redactor }).fetchFor('stream'));
      expect(live).toEqual({ text: 'Streaming works.', calls: [['echo', { text: 'hi' }]], usage: 9 });
      expect(stub.requests[0]?.stream).toBe(true);
      await stub.close();
      expect(await streamOnce(replayingFetch(dir).fetchFor('stream'))).toEqual(live);
      expect(recordedFiles().join('')).not.toContain(KEY);
    } finally {
      await stub.close();
    }
  });
});
