import { createHash, type Hash } from 'node:crypto';
import type { ChatMessage, ChatTool } from '../llm/chat.js';
import { resultText } from '../tools/result.js';

/*
 * A step's history as each turn sends it: cut to fit the model's context, and digested for
 * the journal. The history only grows and its messages never change, so what is worked
 * out for a message (its size, its cut form, its share of the digest) is worked out once:
 * a turn costs its new messages, not the whole history again.
 */

/** About how many characters of history a model takes in, for the context guard (a quarter of a 200k-token window). */
export const CONTEXT_CHARS = 200_000;

/**
 * Keeps the history within what the model takes in: the oldest tool results are cut
 * first, each leaving a note, so nothing disappears silently.
 */
export class ContextFit {
  private readonly sizes = new WeakMap<ChatMessage, number>();
  private readonly cuts = new WeakMap<ChatMessage, ChatMessage>();

  constructor(private readonly limit = CONTEXT_CHARS) {}

  fit(messages: readonly ChatMessage[]): readonly ChatMessage[] {
    let total = 0;
    for (const m of messages) total += this.size(m);
    if (total <= this.limit) return messages;
    return messages.map((m, i) => {
      if (total <= this.limit || m.role !== 'tool' || i === messages.length - 1) return m;
      // The same cut each turn: the model sees one history, and its conversion is reused.
      let cut = this.cuts.get(m);
      if (cut === undefined) {
        cut = { role: 'tool', results: m.results.map((r) => ({ ...r, output: `[orch: this earlier result (${resultText(r.output).length} characters) was cut to fit the model's context]` })) };
        this.cuts.set(m, cut);
      }
      total -= this.size(m) - this.size(cut);
      return cut;
    });
  }

  private size(m: ChatMessage): number {
    let size = this.sizes.get(m);
    if (size === undefined) {
      size = m.role === 'tool' ? JSON.stringify(m.results).length : m.text.length + JSON.stringify(m.role === 'assistant' ? m.toolCalls : []).length;
      this.sizes.set(m, size);
    }
    return size;
  }
}

/**
 * The digest of a turn's request, as the journal keeps it: the first 16 hex digits of the
 * SHA-256 of `JSON.stringify([model, { system, messages, tools }])`. The hash of the
 * messages sent before is kept and carried on while the history only grows.
 */
export class RequestDigest {
  private readonly tail: string;
  private hashed: ChatMessage[] = [];
  private hash: Hash;

  constructor(
    private readonly model: string,
    private readonly system: string,
    tools: readonly ChatTool[],
  ) {
    this.tail = `],"tools":${JSON.stringify(tools)}}]`;
    this.hash = this.head();
  }

  of(messages: readonly ChatMessage[]): string {
    const grown = this.hashed.length <= messages.length && this.hashed.every((m, i) => messages[i] === m);
    if (!grown) {
      this.hash = this.head();
      this.hashed = [];
    }
    for (const m of messages.slice(this.hashed.length)) {
      this.hash.update(`${this.hashed.length === 0 ? '' : ','}${JSON.stringify(m)}`);
      this.hashed.push(m);
    }
    return this.hash.copy().update(this.tail).digest('hex').slice(0, 16);
  }

  private head(): Hash {
    return createHash('sha256').update(`[${JSON.stringify(this.model)},{"system":${JSON.stringify(this.system)},"messages":[`);
  }
}
