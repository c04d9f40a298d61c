import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Redactor } from '../secrets/redact.js';

export type AuditOutcome = 'ok' | 'tool_error' | 'error';

/** One tool call as `.orch/audit.jsonl` records it. */
export interface AuditEntry {
  /** ISO time the call was sent. */
  time: string;
  server: string;
  tool: string;
  arguments: unknown;
  durationMs: number;
  outcome: AuditOutcome;
  /** For outcome `error`: the stable error code and its message. */
  error?: { code: string; message: string };
  /** How the tool is handled (`script`, `http`, `module`, `mcp`, `server`); absent on a direct server call. */
  kind?: string;
  /** The run, step, task, agent and instance the call was made for, when it was made for one. */
  ids?: object;
}

/** Lines wait at most this long before they reach the file. */
const FLUSH_DELAY_MS = 25;

/**
 * Logs with lines not yet written, flushed by one `exit` hook for all of them: a hook per
 * log would add a process listener for every workflow run `orch serve` drives at once.
 */
const unflushed = new Set<AuditLog>();
let exitHookInstalled = false;

function flushOnExit(log: AuditLog): void {
  unflushed.add(log);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pending of unflushed) pending.flush();
  });
}

/**
 * The append-only audit log of tool calls. Everything passes the redactor before it is
 * written. Lines are batched and appended synchronously, one write per batch: a write
 * per call would cost more CPU than the call itself, and a synchronous batch leaves
 * nothing half-written when the process exits (the `exit` hook flushes what is left).
 */
export class AuditLog {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly redactor: Redactor,
  ) {}

  record(entry: AuditEntry): void {
    const safe: AuditEntry & Record<string, unknown> = {
      time: entry.time,
      server: entry.server,
      tool: entry.tool,
      ...(entry.kind === undefined ? {} : { kind: entry.kind }),
      ...definedIds(entry.ids),
      arguments: this.redactor.redact(entry.arguments),
      durationMs: entry.durationMs,
      outcome: entry.outcome,
    };
    if (entry.error) safe.error = { code: entry.error.code, message: this.redactor.redactString(entry.error.message) };
    this.pending.push(`${JSON.stringify(safe)}\n`);
    if (!this.timer) {
      flushOnExit(this);
      // unref'd: a pending flush must not keep orch alive; the exit hook writes it instead.
      this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
    }
  }

  /** Writes every pending line now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    unflushed.delete(this);
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      appendFileSync(this.file, text);
    } catch (err) {
      // A full disk must not fail a run; the call's own result still reaches the caller.
      process.emitWarning(`orch: cannot write ${this.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    this.flush();
  }
}

/** The ids of an entry as top-level keys of its line, leaving out those not set. */
function definedIds(ids: AuditEntry['ids']): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(ids ?? {})) if (typeof value === 'string' || typeof value === 'number') out[key] = value;
  return out;
}
