import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContextFit, RequestDigest } from '../../../src/agents/llm-history.js';
import type { ChatMessage, ChatTool } from '../../../src/llm/chat.js';

const TOOLS: ChatTool[] = [{ name: 'fetch_page', description: 'Fetches a page', inputSchema: { type: 'object', properties: { url: { type: 'string' } } } }];

/** A step's history after `turns` turns, each a call of fetch_page and its (long) result. */
function history(turns: number, resultChars = 400): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'user', text: 'Action: read the pages' }];
  for (let t = 1; t <= turns; t++) {
    messages.push({ role: 'assistant', text: `page ${t}`, toolCalls: [{ callId: `c${t}`, name: 'fetch_page', input: { url: `https://example.org/${t}` } }] });
    messages.push({ role: 'tool', results: [{ callId: `c${t}`, name: 'fetch_page', output: `${t}`.repeat(resultChars), isError: t === 2 ? true : undefined }] });
  }
  return messages;
}

describe("a step's history, fitted to the model's context", () => {
  it('is sent as it is while it fits', () => {
    const messages = history(3);
    expect(new ContextFit(10_000).fit(messages)).toBe(messages);
  });

  it('has its oldest tool results cut first, each with a note, never the newest message', () => {
    const fitted = new ContextFit(1_700).fit(history(4));
    const results = fitted.filter((m): m is Extract<ChatMessage, { role: 'tool' }> => m.role === 'tool').map((m) => String(m.results[0]?.output));
    expect(results.slice(0, 2)).toEqual([
      "[orch: this earlier result (400 characters) was cut to fit the model's context]",
      "[orch: this earlier result (400 characters) was cut to fit the model's context]",
    ]);
    expect(results.slice(2)).toEqual(['3'.repeat(400), '4'.repeat(400)]);
    // The call ids stay, so each result still answers its call.
    expect(fitted.filter((m) => m.role === 'tool').map((m) => (m.role === 'tool' ? m.results[0]?.callId : ''))).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(fitted.filter((m) => m.role !== 'tool')).toEqual(history(4).filter((m) => m.role !== 'tool'));
  });

  it('is fitted at every turn as a fresh look at the whole history would fit it, with the same cut messages from turn to turn', () => {
    const fit = new ContextFit(2_000);
    const messages = history(8);
    let before: readonly ChatMessage[] = [];
    for (let n = 1; n <= messages.length; n++) {
      const sent = fit.fit(messages.slice(0, n));
      expect(sent, `after ${n} messages`).toEqual(new ContextFit(2_000).fit(messages.slice(0, n)));
      // A message cut on the turn before is the very same object now: its conversion is reused.
      for (let i = 0; i < before.length - 1; i++) if (before[i] !== messages[i] && sent[i] !== messages[i]) expect(sent[i]).toBe(before[i]);
      before = sent;
    }
  });
});

describe("a turn's request digest", () => {
  const full = (messages: readonly ChatMessage[]) =>
    createHash('sha256')
      .update(JSON.stringify(['claude-sonnet-4-5', { system: 'You read pages.', messages, tools: TOOLS }]))
      .digest('hex')
      .slice(0, 16);

  it('is at every turn the digest of the whole request, also when an earlier message was replaced', () => {
    const digests = new RequestDigest('claude-sonnet-4-5', 'You read pages.', TOOLS);
    const messages = history(5);
    const seen = new Set<string>();
    for (let n = 1; n <= messages.length; n++) {
      const digest = digests.of(messages.slice(0, n));
      expect(digest, `after ${n} messages`).toBe(full(messages.slice(0, n)));
      seen.add(digest);
    }
    expect(seen.size).toBe(messages.length);
    const cut = new ContextFit(1_500).fit(messages);
    expect(cut).not.toBe(messages);
    expect(digests.of(cut)).toBe(full(cut));
    expect(digests.of(messages)).toBe(full(messages));
  });
});
