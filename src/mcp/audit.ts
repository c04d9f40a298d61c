import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Redactor } from './redact.js';

export type AuditOutcome = 'ok' | 'tool_error' | 'error';

/** One tool call as `.orch/audit.jsonl` records it. */
export interface AuditEntry {
  /** ISO time the call started. */
  time: string;
  server: string;
  tool: string;
  arguments: unknown;
  durationMs: number;
  outcome: AuditOutcome;
  /** For outcome `error`: the stable error code and its message. */
  error?: { code: string; message: string };
}

/**
 * The append-only audit log of tool calls. Everything passes the redactor before it is
 * written. Lines go through one append-mode stream opened on first use, so a call costs
 * a buffered write rather than an open/write/close of its own.
 */
export class AuditLog {
  private stream: WriteStream | undefined;

  constructor(
    readonly file: string,
    private readonly redactor: Redactor,
  ) {}

  record(entry: AuditEntry): void {
    const safe: AuditEntry = {
      ...entry,
      arguments: this.redactor.redact(entry.arguments),
      error: entry.error && { code: entry.error.code, message: this.redactor.redactString(entry.error.message) },
    };
    this.open().write(`${JSON.stringify(safe)}\n`);
  }

  /** Flushes and closes the file; later records reopen it. */
  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }

  private open(): WriteStream {
    if (!this.stream) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const stream = createWriteStream(this.file, { flags: 'a' });
      // A full disk must not crash a run; the call's own result still reaches the caller.
      stream.on('error', (err) => process.emitWarning(`orch: cannot write ${this.file}: ${err.message}`));
      this.stream = stream;
    }
    return this.stream;
  }
}
